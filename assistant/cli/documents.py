"""The commands on a knowledge base's documents: ingest, ask, sources, answerers, remove."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.commandline import (KbOption, PlainHelp, TopKOption, WatchOption, answerer_help, app, consoles,
                                   load_settings, open_service, print_json)


@app.command(cls=PlainHelp)
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Files or folders (read recursively).")],
    prune: Annotated[bool, typer.Option(help="Remove indexed files that vanished from these folders.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Then keep these folders in sync as files change, until Ctrl-C "
                                             "(removes what vanished, like --prune).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also list the files skipped as not a "
                                                                  "supported type.")] = False,
    kb: KbOption = None,
) -> None:
    """Add, update or (with --prune) remove documents. Unchanged files cost nothing.

    \b
    Example:
      assistant ingest data/sample --prune
      assistant ingest ~/notes --watch    (one log line per sync; Ctrl-C stops it)
    """
    from assistant.render import RichIngestProgress, print_report

    if watch and as_json:
        raise typer.BadParameter("--watch logs one line per sync; it has no JSON report", param_hint="--json")
    out, err = consoles(as_json)
    service = open_service(kb)
    if watch:
        return _watch(service.assistant, paths)
    if as_json:
        report = service.ingest(paths, prune=prune)
        print_json(report.to_dict())
    else:
        with RichIngestProgress(err) as progress:
            report = service.ingest(paths, prune=prune, progress=progress)
        print_report(out, report, verbose)


def _watch(assistant, folders: list[Path]) -> None:
    """`ingest --watch`: sync the folders, then every change, until Ctrl-C or SIGTERM (exit 130)."""
    from assistant.watch import Watcher, say_on_stderr, watch_until_interrupted

    watcher = Watcher(assistant, folders)
    try:
        watch_until_interrupted(watcher)
    except KeyboardInterrupt:
        say_on_stderr("stopped watching")
        raise typer.Exit(130) from None


@app.command(cls=PlainHelp)
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    top_k: TopKOption = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", metavar="SOURCE",
                                                        help="Only search this source (repeatable).")] = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", metavar="KIND", help=answerer_help())] = None,
    kb: KbOption = None,
) -> None:
    """Answer a question, citing the indexed documents by number.

    Example: assistant ask "Who denied involvement?"
    """
    from assistant.render import print_answer, stream_answer

    out, err = consoles(as_json)
    service = open_service(kb, preload=True)
    asked = {"question": question, "top_k": top_k, "sources": source or None, "kind": answerer}
    if as_json or not err.is_terminal:
        answer = service.ask(**asked)
    else:  # a person is watching: show the answer on stderr as it is written, then print it
        answer = stream_answer(err, service.stream(**asked))
    if as_json:
        print_json(answer.to_dict())
    else:
        print_answer(out, answer)


@app.command(cls=PlainHelp)
def sources(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
            kb: KbOption = None) -> None:
    """List what is indexed: title, source, chunks, sha256, when.

    Example: assistant sources --json
    """
    from assistant.render import print_sources

    records = open_service(kb).sources()
    if as_json:
        print_json([r.to_dict() for r in records])
    else:
        print_sources(consoles(False)[0], records)


@app.command(cls=PlainHelp)
def answerers(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the answerers (built-in and plugins), whether these settings can use each, and their options.

    Example: assistant answerers
    """
    from assistant.answerers import describe

    rows = describe(load_settings())
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "ready" if row["available"] else f"needs {row['needs']}"
        print(f"{row['kind']}: {row['label']} ({state})")
        for option in row["options"]:
            print(f"  [answer.options.{row['kind']}] {option['name']} = {option['value']!r}  {option['help']}")


@app.command(cls=PlainHelp)
def remove(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A source (path or its trailing part).")],
    kb: KbOption = None,
) -> None:
    """Remove one document from the index.

    Example: assistant remove data/sample/000_8bc013782648c3d5.txt
    """
    removed = open_service(kb).remove(source)
    print(f"removed {removed}")


