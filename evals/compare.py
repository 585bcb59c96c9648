"""Two saved runs side by side: every metric's change, the cases that flipped, the cases answered or retrieved
differently, the settings that differ.

"Answered differently" compares what a user sees: the answer text, the short answer, whether it declined, and
each citation's number, document and sentence. Documents are compared by their last path part, so two
checkouts of the same corpus in different folders compare equal. A refactor that keeps behaviour shows 0.
"""
from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from rich.table import Table

from evals.aggregate import COUNTS, LOWER_IS_BETTER, ORDER
from evals.cases import EvalSetError
from evals.report import fmt, is_miss

SCHEMA = "docs-assistant-eval/1"
SAME = 1e-9


def load_run(path: str | Path) -> dict:
    """A results.json written by `assistant eval` (or the run directory holding it)."""
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalSetError(f"{file}: no such results file (give a results.json or its run directory)") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EvalSetError(f"{file}: not valid JSON") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise EvalSetError(f"{file}: not a results.json written by `assistant eval`")
    data["_path"] = str(file)
    return data


def compare_runs(a: dict, b: dict) -> dict:
    """Per shared system: metric deltas (and whether each is better), flipped cases, settings changes."""
    shared = [n for n in a["systems"] if n in b["systems"]]
    if not shared:
        raise EvalSetError(f"{a['_path']} and {b['_path']} have no system in common "
                           f"({', '.join(a['systems'])} vs {', '.join(b['systems'])})")
    out = {"a": _about(a), "b": _about(b), "systems": {}}
    for name in shared:
        ma, mb = a["systems"][name]["metrics"], b["systems"][name]["metrics"]
        rows = []
        for metric in (*COUNTS, *ORDER):
            va, vb = ma.get(metric), mb.get(metric)
            if va is None and vb is None:
                continue
            delta = vb - va if va is not None and vb is not None else None
            rows.append({"metric": metric, "a": va, "b": vb, "delta": delta, "change": _change(metric, delta)})
        # A committed copy of a big run may keep only the metrics ("cases": []): then no flips are listed.
        cases_a = {r["id"]: r for r in a["systems"][name].get("cases", [])}
        cases_b = {r["id"]: r for r in b["systems"][name].get("cases", [])}
        both = [i for i in cases_a if i in cases_b]
        misses_a = {i: is_miss(cases_a[i]) for i in both}
        misses_b = {i: is_miss(cases_b[i]) for i in both}
        out["systems"][name] = {
            "metrics": rows,
            "fixed": [i for i in both if misses_a[i] and not misses_b[i]],
            "broken": [i for i in both if not misses_a[i] and misses_b[i]],
            "compared": len(both),
            "answered_differently": [i for i in both if _shown(cases_a[i]) != _shown(cases_b[i])],
            "retrieved_differently": [i for i in both if _names(cases_a[i].get("retrieved"))
                                      != _names(cases_b[i].get("retrieved"))],
            "settings": _diff(a["systems"][name].get("settings", {}), b["systems"][name].get("settings", {})),
        }
    return out


def _names(sources) -> list[str]:
    return [PurePosixPath(s).name for s in sources or ()]


def _shown(case: dict) -> tuple:
    """What the user saw of a case's answer, with documents by name."""
    cited = [(c.get("n"), PurePosixPath(c.get("source") or "").name, c.get("sentence"))
             for c in case.get("citations") or ()]
    return case.get("answer"), case.get("short"), case.get("abstained"), cited


def differences(part: dict) -> list[str]:
    """One line each for the cases answered and retrieved differently (the first ten ids of each)."""
    lines = []
    for key, what in (("answered_differently", "answered"), ("retrieved_differently", "retrieved")):
        ids = part.get(key, [])
        if part.get("compared"):
            shown = ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")
            lines.append(f"{len(ids)} of {part['compared']} cases {what} differently in B"
                         + (f": {shown}" if ids else ""))
    return lines


def _about(run: dict) -> dict:
    return {k: run.get(k) for k in ("_path", "name", "command", "started_at", "git_commit", "completed")}


def _change(metric: str, delta: float | None) -> str | None:
    if delta is None or metric in COUNTS:
        return None
    if abs(delta) < SAME:
        return "same"
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "better" if better else "worse"


def _diff(a: dict, b: dict, prefix: str = "") -> list[dict]:
    changes = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            changes += _diff(va, vb, f"{prefix}{key}.")
        elif va != vb:
            changes.append({"setting": f"{prefix}{key}", "a": va, "b": vb})
    return changes


def _delta(metric: str, row: dict) -> str:
    if row["delta"] is None:
        return ""
    sign = "+" if row["delta"] >= 0 else "−"
    text = fmt(metric, abs(row["delta"]))
    return f"{sign}{text}" + {"better": " ▲", "worse": " ▼"}.get(row["change"], "")


def compare_tables(comparison: dict) -> list[Table]:
    """One rich table per shared system; better rows green, worse rows red."""
    tables = []
    for name, part in comparison["systems"].items():
        table = Table(title=f"{name}: A = {comparison['a']['_path']}  B = {comparison['b']['_path']}",
                      header_style="bold")
        for column in ("metric", "A", "B", "B − A"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for row in part["metrics"]:
            style = {"better": "green", "worse": "red"}.get(row["change"])
            table.add_row(row["metric"], fmt(row["metric"], row["a"]), fmt(row["metric"], row["b"]),
                          _delta(row["metric"], row), style=style)
        tables.append(table)
    return tables


def compare_markdown(comparison: dict) -> str:
    """The comparison as Markdown: a table per system, flipped cases, changed settings."""
    a, b = comparison["a"], comparison["b"]
    lines = ["# Eval comparison", "", f"- A: `{a['_path']}` ({a.get('command')})",
             f"- B: `{b['_path']}` ({b.get('command')})"]
    for name, part in comparison["systems"].items():
        lines += ["", f"## {name}", "", "| metric | A | B | B − A |", "|---|---:|---:|---:|"]
        lines += [f"| {r['metric']} | {fmt(r['metric'], r['a'])} | {fmt(r['metric'], r['b'])} | "
                  f"{_delta(r['metric'], r)} |" for r in part["metrics"]]
        if part["fixed"] or part["broken"]:
            lines += ["", f"Fixed in B ({len(part['fixed'])}): {', '.join(part['fixed']) or '–'}",
                      "", f"Broken in B ({len(part['broken'])}): {', '.join(part['broken']) or '–'}"]
        for line in differences(part):
            lines += ["", line]
        if part["settings"]:
            lines += ["", "Settings that differ:", ""]
            lines += [f"- `{s['setting']}`: {s['a']!r} → {s['b']!r}" for s in part["settings"]]
    return "\n".join(lines) + "\n"
