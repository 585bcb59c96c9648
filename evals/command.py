"""`assistant eval`: run an eval set or a public benchmark, report, compare two runs, check a gate."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from evals.adapters import BenchmarkError, detect
from evals.adapters.cache import benchmark_home, build_store
from evals.cases import Case, load_cases
from evals.gate import GateError, check_gate, load_gate
from evals.metrics import source_matches
from evals.results import build_results, sample
from evals.runner import run_cases
from evals.systems import Spec, default_specs, open_systems

INTERRUPTED = 130


def run_command(target: Path | None = None, as_json: bool = False, out: Path | None = None,
                top_k: int | None = None, answerer: str | None = None, limit: int | None = None,
                seed: int = 13, articles: Path | None = None, compare: list[Path] | None = None,
                gate: Path | None = None, home: Path | None = None, config: Path | None = None,
                kb: str | None = None) -> int:
    """The `assistant eval` command; returns the exit code (0 ok, 1 gate failed, 2 usage, 130 interrupted)."""
    err = Console(stderr=True, quiet=as_json)
    if compare:
        if len(compare) == 1 and target is not None:
            compare, target = [compare[0], target], None  # `--compare A B`: B arrives as the positional target
        if len(compare) != 2 or target is not None:
            Console(stderr=True).print("Usage: assistant eval --compare A B (two results.json files or run dirs)")
            return 2
        return _compare(compare, as_json, out)
    if target is None:
        Console(stderr=True).print("Usage: assistant eval SET.jsonl|BENCHMARK_DIR [--out DIR], "
                                   "or assistant eval --compare A B")
        return 2
    checks = load_gate(gate, target) if gate else None  # a broken gate file fails before any work
    try:
        results = evaluate(target, top_k=top_k, answerer=answerer, limit=limit, seed=seed, articles=articles,
                           home=home, config=config, kb=kb, console=err)
    except KeyboardInterrupt:
        err.print("Interrupted while indexing the benchmark: what is indexed stays; run the same command "
                  "again to finish.")
        return INTERRUPTED
    results["command"] += (f" --out {out}" if out else "") + (f" --gate {gate}" if gate else "")
    if checks:
        system = results["systems"].get(checks.system)
        if system is None:
            raise GateError(f"{gate}: system {checks.system!r} is not in this run ({', '.join(results['systems'])})")
        results["gate"] = {"file": str(gate), "system": checks.system, "min": checks.minimum,
                           "max": checks.maximum, "tags": checks.tags,
                           "failures": check_gate(checks, system["metrics"], system.get("by_tag"))}
    out = out or _default_out(results["name"], home, config)
    written = write_all(results, out)
    _print(results, as_json, out, written, err)
    if results["interrupted"]:
        err.print(f"Interrupted after {results['completed']} of {results['planned']} cases: "
                  f"the finished cases are in {out}")
        return INTERRUPTED
    if checks and results["gate"]["failures"]:
        for failure in results["gate"]["failures"]:
            Console(stderr=True).print(f"[bold red]Gate failed:[/] {failure}")
        return 1
    return 0


def evaluate(target: Path, *, top_k: int | None = None, answerer: str | None = None, limit: int | None = None,
             seed: int = 13, articles: Path | None = None, home: Path | None = None, config: Path | None = None,
             kb: str | None = None, specs: list[Spec] | None = None, cache_dir: Path | None = None, embedder=None,
             console: Console | None = None) -> dict:
    """Run target (eval set against the store at home, in knowledge base `kb`, or a benchmark in its cached store);
    the results dict."""
    from assistant.settings import Settings
    from evals.progress import RichCaseProgress

    console = console or Console(stderr=True, quiet=True)
    target = Path(target)
    bench = detect(target)
    cases, pending = _cases(target, bench, articles, console)
    chosen = sample(cases, limit, seed)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    specs = specs or default_specs(answerer, retrieval_only=bool(bench and bench.retrieval_only))
    store: dict = {}
    if bench:
        if kb:
            from assistant.errors import ConfigError

            raise ConfigError(f"--kb is for eval sets: {bench.name} is indexed in a store of its own")
        home = benchmark_home(bench, Settings.load(config, home=home), cache_dir)
        top_k = top_k or bench.default_top_k
    systems = open_systems(specs, home, config, top_k, embedder, kb)
    assistant = systems[0].assistant
    if bench:
        _index_benchmark(assistant, bench, home, target, console)
        store["index"] = home.name
    else:
        indexed = [r.source for r in assistant.sources()]
        if not indexed:
            from assistant.core import EMPTY_INDEX
            from assistant.errors import EmptyIndex

            raise EmptyIndex(f"{EMPTY_INDEX}, then run the eval set against it")
        _warn_unknown_sources(chosen, indexed, console)
    store["documents"] = len(assistant.sources())
    with RichCaseProgress(console, f"{target.name}: asking") as progress:
        run = run_cases(chosen, systems, progress)
    results = build_results(run, systems, name=bench.name if bench else target.stem,
                            kind=bench.kind if bench else "eval-set", target=str(target),
                            command=command_line(target, top_k=top_k, answerer=answerer, limit=limit, seed=seed,
                                                 articles=articles, home=None if bench else home, config=config, kb=kb),
                            started_at=started, limit=limit, seed=seed if limit else None, store=store)
    results["waiting"] = pending  # cases left out until a person writes their gold answer
    return results


def _cases(target: Path, bench, articles: Path | None, console: Console) -> tuple[list, list[str]]:
    """The cases to run (of these articles when given), and the ids of those left out for want of a gold answer."""
    cases = list(bench.cases) if bench else load_cases(target)
    if articles is not None:
        cases = of_articles(cases, articles)
    pending = [c.id for c in cases if c.pending]
    if pending:
        console.print(f"[yellow]{len(pending)} case{'s' * (len(pending) > 1)} left out[/], waiting for a gold answer "
                      f"(fill in their \"answers\"): {', '.join(pending[:10])}{' ...' * (len(pending) > 10)}")
        cases = [c for c in cases if not c.pending]
    return cases, pending


def _index_benchmark(assistant, bench, home: Path, target: Path, console: Console) -> None:
    """Index a benchmark's corpus in its own store, unless that store holds it already."""
    from evals.progress import RichCorpusProgress

    with RichCorpusProgress(console, bench.documents, f"indexing {bench.name}") as progress:
        report = build_store(assistant, bench, home, progress)
    if report is None:
        return
    console.print(f"Indexed {bench.name}: {report.chunks} chunks embedded in {report.seconds:.0f} s "
                  f"({len(report.failed)} failed) -> {home}")
    if report.failed and not assistant.sources():
        raise BenchmarkError(f"{target}: no document of {bench.name} could be indexed "
                             f"({len(report.failed)} failed), first: {report.failed[0].error}")
    if report.failed:
        console.print(f"[yellow]warning:[/] {len(report.failed)} documents failed to index, first: "
                      f"{report.failed[0].error}")


def write_all(results: dict, out: Path) -> list[str]:
    """results.json, summary.md and the charts, in out."""
    from evals.charts import write_charts
    from evals.report import summary_markdown, write_results

    out = Path(out)
    write_results(results, out)
    charts = write_charts(results, out)
    (out / "summary.md").write_text(summary_markdown(results, charts), encoding="utf-8")
    return [str(out / "results.json"), str(out / "summary.md"), *charts]


def command_line(target: Path, **options) -> str:
    """The command that reproduces a run (as written in reports and README rows)."""
    parts = ["assistant"]
    for flag in ("home", "config"):
        if options.get(flag):
            parts += [f"--{flag}", str(options[flag])]
    parts += ["eval", str(target)]
    for flag in ("kb", "top_k", "answerer", "articles", "limit"):
        if options.get(flag):
            parts += [f"--{flag.replace('_', '-')}", str(options[flag])]
    if options.get("limit"):
        parts += ["--seed", str(options["seed"])]
    return " ".join(parts)


def of_articles(cases: list[Case], path: Path) -> list[Case]:
    """The cases whose gold source lies in one of the articles listed in path ("<title>#<i>" sources)."""
    try:
        titles = {line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()}
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read the article list ({exc.__class__.__name__})") from None
    kept = [c for c in cases if any(s.rpartition("#")[0] in titles for s in c.sources)]
    if not kept:
        raise BenchmarkError(f"{path}: no question belongs to the {len(titles)} articles it lists "
                             "(expected one title a line, as the benchmark spells it)")
    return kept


def _default_out(name: str, home: Path | None, config: Path | None) -> Path:
    from assistant.settings import Settings

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Settings.load(config, home=home).home / "eval-runs" / f"{name}-{stamp}"


def _warn_unknown_sources(cases: list[Case], indexed: list[str], console: Console) -> None:
    unknown = {g: c.id for c in cases for g in c.sources if not any(source_matches(s, g) for s in indexed)}
    if unknown:
        listed = ", ".join(f"{g} (case {i})" for g, i in list(unknown.items())[:5])
        console.print(f"[yellow]warning:[/] {len(unknown)} gold source(s) match no indexed document: {listed}")


def _print(results: dict, as_json: bool, out: Path, written: list[str], err: Console) -> None:
    from evals.report import metrics_table, tags_table

    if as_json:
        summary = {k: results[k] for k in ("name", "kind", "target", "command", "interrupted", "planned",
                                            "completed", "seconds")}
        summary["out"] = str(out)
        summary["systems"] = {n: {"description": s["description"], "metrics": s["metrics"],
                                  **({"by_tag": s["by_tag"]} if s.get("by_tag") else {})}
                              for n, s in results["systems"].items()}
        if "gate" in results:
            summary["gate"] = results["gate"]
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        return
    console = Console()
    console.print(metrics_table(results))
    if (tagged := tags_table(results)) is not None:
        console.print(tagged)
    for name, system in results["systems"].items():
        console.print(f"[bold]{name}[/]: {system['description']}")
    if "gate" in results and not results["gate"]["failures"]:
        console.print(f"[green]Gate passed[/] ({results['gate']['file']})")
    err.print(f"Wrote {', '.join(Path(w).name for w in written)} to {out}")


def _compare(paths: list[Path], as_json: bool, out: Path | None) -> int:
    from evals.compare import compare_markdown, compare_runs, compare_tables, differences, load_run

    comparison = compare_runs(load_run(paths[0]), load_run(paths[1]))
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "compare.md").write_text(compare_markdown(comparison), encoding="utf-8")
        (Path(out) / "compare.json").write_text(json.dumps(comparison, indent=1) + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(comparison, ensure_ascii=False, indent=2) + "\n")
        return 0
    console = Console()
    for table in compare_tables(comparison):
        console.print(table)
    for name, part in comparison["systems"].items():
        if part["fixed"] or part["broken"]:
            console.print(f"{name}: fixed in B: {', '.join(part['fixed']) or '–'}; "
                          f"broken in B: {', '.join(part['broken']) or '–'}")
        for line in differences(part):
            console.print(f"{name}: {line}")
        for change in part["settings"]:
            console.print(f"{name}: setting {change['setting']}: {change['a']!r} -> {change['b']!r}")
    return 0


__all__ = ["evaluate", "run_command", "write_all"]
