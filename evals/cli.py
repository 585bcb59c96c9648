"""`assistant eval`: eval sets and benchmarks as a command (registered by assistant/cli; importing this loads no
eval code until it runs)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.commandline import KbOption, State, TopKOption, answerer_help


def eval_command(
    target: Annotated[Optional[Path], typer.Argument(metavar="SET_OR_DIR",
                                                     help="Eval set (.jsonl) or benchmark dir/file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR",
                                                help="Write results.json, summary.md, charts here.")] = None,
    top_k: TopKOption = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", metavar="KIND", help=answerer_help())] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=1,
                                                 help="Run a seeded sample of N cases.")] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed for --limit sampling.")] = 13,
    articles: Annotated[Optional[Path], typer.Option("--articles", metavar="FILE",
                                                     help="Ask only the questions of these articles (one title "
                                                          "a line); the whole benchmark is still searched.")] = None,
    compare: Annotated[Optional[list[Path]], typer.Option("--compare", metavar="RESULTS.json",
                                                          help="Two saved results.json to compare.")] = None,
    gate: Annotated[Optional[Path], typer.Option("--gate", metavar="FILE",
                                                 help="Thresholds (JSON); exit 1 if a metric falls below.")] = None,
    kb: KbOption = None,
) -> None:
    """Score answers and retrieval on an eval set or a benchmark.

    Example: assistant eval evals/sets/news.jsonl --out evals/results/news
    """
    from evals.command import run_command

    raise typer.Exit(run_command(target=target, as_json=as_json, out=out, top_k=top_k, answerer=answerer,
                                 limit=limit, seed=seed, articles=articles, compare=compare, gate=gate,
                                 home=State.home, config=State.config, kb=kb))
