"""The `assistant` command: ingest, ask, sources, remove, chat, eval, serve, and kb list|create|delete."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from assistant.kbnames import NAME_RULE
from assistant.settings import API_PORT, HOST, TOP_K_MAX, UI_PORT


def _argument_label(param) -> str:
    label = param.metavar or param.name.upper()
    return label + "..." if param.nargs != 1 else label


class PlainHelp(TyperCommand):
    """Help that reads like other Unix tools: `PATH...` and `QUESTION`, not `{paths}... <list[Path]>`."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        args = [p for p in self.get_params(ctx) if p.param_type_name == "argument"]
        return [self.options_metavar] + [_argument_label(p) if p.required else f"[{_argument_label(p)}]"
                                         for p in args]

    def format_options(self, ctx, formatter) -> None:
        params = self.get_params(ctx)
        args = [(_argument_label(p), p.help or "") for p in params if p.param_type_name == "argument"]
        opts = [p.get_help_record(ctx) for p in params if p.param_type_name == "option"]
        for title, rows in (("Arguments", args), ("Options", [r for r in opts if r])):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


# Every command on an index takes it; the name is checked where every name is (assistant/kb.py).
HostOption = Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(metavar="PORT", help="Port.")]
TopKOption = Annotated[Optional[int], typer.Option("--top-k", metavar="N", min=1, max=TOP_K_MAX,
                                                  help="Passages to answer from.")]
KbOption = Annotated[Optional[str], typer.Option("--kb", metavar="NAME", help="The knowledge base (default: the "
                                                 "default one; see `assistant kb list`).")]

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False)
kb_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="""List, create or delete knowledge bases.

    \b
    A knowledge base is a named set of documents with its own index, in the same home (or Chroma server).
    Every command takes --kb NAME; without it, the default one.

    \b
    Example:
      assistant kb create notes
      assistant ingest --kb notes ~/notes
      assistant ask --kb notes "When is the ferry?"
    """)
app.add_typer(kb_app, name="kb")
feedback_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="""Turn the chat's thumbs up and down
    into an eval set.

    \b
    Example:
      assistant feedback export --out rated.jsonl
      assistant eval rated.jsonl
    """)
app.add_typer(feedback_app, name="feedback")


class State:
    home: Optional[Path] = None
    config: Optional[Path] = None


def _open(kb: Optional[str] = None, **overrides):
    from assistant.core import Assistant

    return Assistant.open(home=State.home, config=State.config, kb=kb, **overrides)


def _settings():
    from assistant.settings import Settings

    return Settings.load(State.config, home=State.home)


def _consoles(as_json: bool):
    from rich.console import Console

    return Console(), Console(stderr=True, quiet=as_json)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.callback()
def main_options(
    home: Annotated[Optional[Path], typer.Option("--home", envvar="ASSISTANT_HOME", metavar="DIR",
                                                 help="Where the index lives (default: a per-user data dir).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", envvar="ASSISTANT_CONFIG", metavar="FILE",
                                                   help="TOML settings file.")] = None,
) -> None:
    """Ask your documents: cited answers from your own files, offline on a CPU.

    \b
    Example:
      assistant ingest data/sample
      assistant ask "Who denied involvement?"
    """
    State.home, State.config = home, config


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
    out, err = _consoles(as_json)
    bot = _open(kb)
    if watch:
        return _watch(bot, paths)
    if as_json:
        report = bot.ingest(paths, prune=prune)
        _print_json(report.to_dict())
    else:
        with RichIngestProgress(err) as progress:
            report = bot.ingest(paths, prune=prune, progress=progress)
        print_report(out, report, verbose)


def _watch(bot, folders: list[Path]) -> None:
    """`ingest --watch`: sync the folders, then every change, until Ctrl-C or SIGTERM (exit 130)."""
    from assistant.watch import Watcher, say_on_stderr, watch_until_interrupted

    watcher = Watcher(bot, folders)
    try:
        watch_until_interrupted(watcher)
    except KeyboardInterrupt:
        say_on_stderr("stopped watching")
        raise typer.Exit(130) from None


WatchOption = Annotated[Optional[list[Path]], typer.Option("--watch", metavar="DIR", help="Keep this folder in sync "
                                                           "with the index while running (repeatable).")]


def _answerer_help() -> str:
    from assistant.answerers import kinds

    return f"Answer with: {', '.join(kinds())} (default: [answer] kind)."


@app.command(cls=PlainHelp)
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    top_k: TopKOption = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", metavar="SOURCE",
                                                        help="Only search this source (repeatable).")] = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", metavar="KIND", help=_answerer_help())] = None,
    kb: KbOption = None,
) -> None:
    """Answer a question, citing the indexed documents by number.

    Example: assistant ask "Who denied involvement?"
    """
    from assistant.render import print_answer, stream_answer
    from assistant.text_input import require_text

    require_text(question)  # bytes the terminal could not decode arrive as lone surrogates
    for name in source or ():
        require_text(name, "source filter")
    out, err = _consoles(as_json)
    bot = _open(kb, preload=True)
    if answerer:
        bot = bot.with_answerer(answerer)
    if as_json or not err.is_terminal:
        answer = bot.ask(question, top_k=top_k, sources=source or None)
    else:  # a person is watching: show the answer on stderr as it is written, then print it
        answer = stream_answer(err, bot.stream(question, top_k=top_k, sources=source or None))
    if as_json:
        _print_json(answer.to_dict())
    else:
        print_answer(out, answer)


@app.command(cls=PlainHelp)
def sources(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
            kb: KbOption = None) -> None:
    """List what is indexed: title, source, chunks, sha256, when.

    Example: assistant sources --json
    """
    from assistant.render import print_sources

    records = _open(kb).sources()
    if as_json:
        _print_json([r.to_dict() for r in records])
    else:
        print_sources(_consoles(False)[0], records)


@app.command(cls=PlainHelp)
def answerers(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the answerers (built-in and plugins), whether these settings can use each, and their options.

    Example: assistant answerers
    """
    from assistant.answerers import describe

    rows = describe(_settings())
    if as_json:
        _print_json(rows)
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
    removed = _open(kb).remove(source)
    print(f"removed {removed}")


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

    settings = _settings()
    check_ui(host, bool(settings.ui.users), share, insecure)  # before the store is opened
    bot = _open(kb, settings=settings)
    if sample is not None and not bot.sources():
        print(f"Nothing indexed yet: ingesting {sample} ...", file=sys.stderr)
        bot.ingest([sample])
    with watching(bot, watch):
        launch(bot, host=host, port=port, share=share, insecure=insecure)


@app.command(name="eval", cls=PlainHelp)
def eval_(
    target: Annotated[Optional[Path], typer.Argument(metavar="SET_OR_DIR",
                                                     help="Eval set (.jsonl) or benchmark dir/file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", metavar="DIR",
                                                help="Write results.json, summary.md, charts here.")] = None,
    top_k: TopKOption = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", metavar="KIND", help=_answerer_help())] = None,
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

    settings = _settings()
    check_api(host, settings.server.has_keys(), insecure)  # before the store is opened
    bot = _open(kb, settings=settings)
    with watching(bot, watch):
        run_server(bot, host=host, port=port, insecure=insecure)


@kb_app.command("list", cls=PlainHelp)
def kb_list(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the knowledge bases, the default one first, with how many documents each holds.

    Example: assistant kb list
    """
    from assistant.access import EVERYTHING
    from assistant.bases import OpenBases

    rows = OpenBases(_open()).summaries(EVERYTHING)
    if as_json:
        _print_json(rows)
        return
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        count = row["documents"]
        print(f"{row['name']:<{width}}  {count} document{'s' if count != 1 else ''}")


@kb_app.command("create", cls=PlainHelp)
def kb_create(name: Annotated[str, typer.Argument(metavar="NAME", help=f"The new one's name: {NAME_RULE}.")]) -> None:
    """Make a new, empty knowledge base.

    Example: assistant kb create notes
    """
    from assistant.kb import create

    base = create(_settings(), name)
    print(f"created {base.name}: add documents with `assistant ingest --kb {base.name} PATH`")


@kb_app.command("delete", cls=PlainHelp)
def kb_delete(name: Annotated[str, typer.Argument(metavar="NAME", help="The knowledge base to delete.")]) -> None:
    """Delete a knowledge base: its documents, index and uploaded copies. Never the default one.

    The files it was ingested from stay where they are.

    Example: assistant kb delete notes
    """
    from assistant.kb import delete

    print(f"deleted {delete(_settings(), name).name}")


@feedback_app.command("export", cls=PlainHelp)
def feedback_export(out: Annotated[Path, typer.Option("--out", metavar="FILE", help="The JSONL eval set to write.")],
                    ) -> None:
    """Write every rated answer of every user's saved conversations as an eval set (docs/evals.md).

    A thumbs up keeps the answer and its cited sources as gold; a thumbs down without a comment means the
    assistant should have declined; a thumbs down with a comment (or on a decline) is written with
    "answers": [] and the comment as its "note", for a person to fill in the right answer.

    Example: assistant feedback export --out rated.jsonl
    """
    from assistant.history import History, to_case

    cases = [to_case(conversation, turn) for conversation, turn in History.of(_settings()).rated()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    pending = sum(1 for case in cases if case["answers"] == [])
    print(f"wrote {len(cases)} case{'s' * (len(cases) != 1)} to {out}"
          + (f"; {pending} wait for a gold answer (fill in their \"answers\")" if pending else ""))


def main() -> None:
    """Entry point: user errors become one line on stderr and exit 1 (typer exits 2 on usage errors)."""
    from assistant.errors import USER_ERRORS

    try:
        app()
    except USER_ERRORS as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
