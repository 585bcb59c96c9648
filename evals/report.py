"""Reports of a run: a rich table for the terminal, results.json, summary.md (charts: evals/charts.py)."""
from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from evals.aggregate import COUNTS, ORDER, is_share

MISSES_SHOWN = 40
TAG_METRICS = ("cases", "answer_accuracy", "citation_precision", "abstention_recall")  # the by-tag table


def fmt(name: str, value) -> str:
    """A metric value as shown in tables: shares 0.000, latency in ms, counts as integers."""
    if value is None:
        return "–"
    if name.startswith("latency_"):
        return f"{value:,.0f} ms"
    if name in COUNTS:
        return str(int(value))
    if name == "answer_words":
        return f"{value:.1f}"
    return f"{value:.3f}" if is_share(name) else str(value)


def shown_metrics(results: dict) -> list[str]:
    """Metrics measured by at least one system, in table order."""
    systems = results["systems"].values()
    return [m for m in (*COUNTS, *ORDER) if any(s["metrics"].get(m) is not None for s in systems)
            and (m == "cases" or m not in COUNTS or any(s["metrics"][m] for s in systems))]


def metrics_table(results: dict) -> Table:
    """Metric rows, one column per system."""
    table = Table(title=title(results), show_header=True, header_style="bold")
    table.add_column("metric")
    for name in results["systems"]:
        table.add_column(name, justify="right")
    for metric in shown_metrics(results):
        table.add_row(metric, *(fmt(metric, s["metrics"].get(metric)) for s in results["systems"].values()))
    return table


def tag_rows(results: dict) -> tuple[str, list[list[str]]]:
    """(system, one row per case tag: the tag and its TAG_METRICS) of the first system; no rows without tags."""
    name, system = next(iter(results["systems"].items()))
    return name, [[tag, *(fmt(m, metrics.get(m)) for m in TAG_METRICS)]
                  for tag, metrics in system.get("by_tag", {}).items()]


def tags_table(results: dict) -> Table | None:
    """The by-tag table for the terminal (None when no case has tags)."""
    name, rows = tag_rows(results)
    if not rows:
        return None
    table = Table(title=f"{name}, by case tag", show_header=True, header_style="bold")
    for column in ("tag", *TAG_METRICS):
        table.add_column(column, justify="left" if column == "tag" else "right")
    for row in rows:
        table.add_row(*row)
    return table


def title(results: dict) -> str:
    done = f"{results['completed']}/{results['planned']} cases"
    return f"{results['name']} ({results['kind']}): {done}" + (" — INTERRUPTED" if results["interrupted"] else "")


def write_results(results: dict, out: Path) -> Path:
    """results.json: everything, per-case records included."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def summary_markdown(results: dict, charts: list[str] = ()) -> str:
    """A Markdown page: command, metrics table, systems, gate, the assistant's misses, charts."""
    names = list(results["systems"])
    lines = [f"# Eval: {results['name']}", "", f"`{results['command']}`", "",
             f"{title(results)}; {results['seconds']:.0f} s; started {results['started_at']}"
             + (f"; commit {results['git_commit']}" if results.get("git_commit") else ""), "",
             "| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for metric in shown_metrics(results):
        lines.append(f"| {metric} | " + " | ".join(fmt(metric, results['systems'][n]['metrics'].get(metric))
                                                  for n in names) + " |")
    lines += ["", "Systems:", ""]
    lines += [f"- **{n}**: {s['description']}" for n, s in results["systems"].items()]
    gate = results.get("gate")
    if gate:
        lines += ["", f"Gate ({gate['file']}, system {gate['system']}): "
                  + ("**passed**" if not gate["failures"] else "**FAILED**")]
        lines += [f"- {f}" for f in gate["failures"]]
    name, rows = tag_rows(results)
    if rows:
        lines += ["", f"## By case tag ({name})", "", "| tag | " + " | ".join(TAG_METRICS) + " |",
                  "|---|" + "---:|" * len(TAG_METRICS), *("| " + " | ".join(row) + " |" for row in rows)]
    first = results["systems"][names[0]]
    misses = [r for r in first["cases"] if is_miss(r)]
    if misses:
        lines += ["", f"## Misses of {names[0]} ({len(misses)})", "", "| id | question | expected | got |",
                  "|---|---|---|---|"]
        for r in misses[:MISSES_SHOWN]:
            expected = "decline" if r.get("answers") is None and r["kind"] != "retrieval" else \
                " / ".join(r.get("answers") or r.get("sources") or [])
            got = "declined" if r["abstained"] else r.get("answer") or " / ".join(r.get("retrieved", [])[:5])
            if r.get("invalid_reason"):
                got += f" (invalid citations: {r['invalid_reason']})"
            lines.append(f"| {r['id']} | {_cell(r['question'])} | {_cell(expected, 120)} | {_cell(got, 240)} |")
        if len(misses) > MISSES_SHOWN:
            lines.append(f"\n… and {len(misses) - MISSES_SHOWN} more in results.json.")
    if charts:
        lines += ["", *(f"![{Path(c).stem}]({Path(c).name})" for c in charts)]
    return "\n".join(lines) + "\n"


def is_miss(record: dict) -> bool:
    """A case the system got wrong: wrong answer, answered when it should decline, bad citations, not retrieved."""
    if record["kind"] == "retrieval":
        return not record.get("hit@5")
    if record["kind"] == "unanswerable":
        return not record["abstained"]
    return not record.get("correct") or record.get("valid") is False


def _cell(text: str, limit: int = 100) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[:limit - 1] + "…"
