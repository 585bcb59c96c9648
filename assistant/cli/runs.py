"""The long-running commands: chat (the UI), eval, serve (the HTTP API)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.cli.base import (HostOption, KbOption, PlainHelp, PortOption, State, TopKOption, app, load_settings,
                                open_service)
from assistant.cli.documents import WatchOption, answerer_help
from assistant.settings import API_PORT, HOST, UI_PORT


@app.command(cls=PlainHelp)
def chat(
    host: HostOption = HOST,
    port: PortOption = UI_PORT,
    share: Annotated[bool, typer.Option(help="Ask Gradio for a public share link.")] = False,
    sample: Annotated[Optional[Path], typer.Option(metavar="DIR",
                                                   help="Ingest this folder first if nothing is indexed.")] = None,
    insecure: Annotated[bool, typer.Option(help="Listen beyond this machine (or --share) without a login.")] = False,
    watch: WatchOption = None,
    kb: KbOption = None,
) -> None:
    """Serve the chat UI (open the address it prints in a browser).

    A host other than 127.0.0.1/localhost, or --share, needs users to log in:
    ASSISTANT_UI_USERS=alice:some-long-password (or --insecure).

    With several knowledge bases the page has a picker; --kb NAME is the one it opens on.

    \b
    Example:
      assistant chat --port 7860
      assistant chat --watch ~/notes    (new and changed files are answerable as they are saved)
    """
    from assistant.exposure import check_ui
    from assistant.watch import watching
    from ui import launch

    settings = load_settings()
    check_ui(host, bool(settings.ui.users), share, insecure)  # before the store is opened
    service = open_service(kb, settings=settings)
    if sample is not None and not service.sources():
        print(f"Nothing indexed yet: ingesting {sample} ...", file=sys.stderr)
        service.ingest([sample])
    with watching(service.assistant, watch):
        launch(service, host=host, port=port, share=share, insecure=insecure)


@app.command(name="eval", cls=PlainHelp)
def eval_(
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


@app.command(cls=PlainHelp)
def serve(
    host: HostOption = HOST,
    port: PortOption = API_PORT,
    insecure: Annotated[bool, typer.Option(help="Listen beyond this machine without an API key.")] = False,
    watch: WatchOption = None,
    kb: KbOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs; OpenAI-compatible routes under /v1).

    A host other than 127.0.0.1/localhost needs an API key: ASSISTANT_API_KEYS=secret (or --insecure).

    Every knowledge base is served: /kb/NAME/ask, /kb/NAME/sources... and model ids KIND@NAME. --kb NAME
    is the one of the plain routes (/ask) and model ids (extractive).

    \b
    Example:
      assistant serve --port 8000
      assistant serve --watch ~/notes    (keeps the folder in sync while serving)
    """
    from assistant.api import serve as run_server
    from assistant.exposure import check_api
    from assistant.watch import watching

    settings = load_settings()
    check_api(host, settings.server.has_keys(), insecure)  # before the store is opened
    service = open_service(kb, settings=settings)
    with watching(service.assistant, watch):
        run_server(service, host=host, port=port, insecure=insecure)


