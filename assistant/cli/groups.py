"""The command groups: kb list|create|delete, and feedback export."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.commandline import PlainHelp, app, load_settings, open_service, print_json
from assistant.kbnames import NAME_RULE

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


@kb_app.command("list", cls=PlainHelp)
def kb_list(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the knowledge bases, the default one first, with how many documents each holds.

    Example: assistant kb list
    """
    from assistant.access import EVERYTHING

    rows = open_service().bases.summaries(EVERYTHING)
    if as_json:
        print_json(rows)
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

    base = create(load_settings(), name)
    print(f"created {base.name}: add documents with `assistant ingest --kb {base.name} PATH`")


@kb_app.command("delete", cls=PlainHelp)
def kb_delete(name: Annotated[str, typer.Argument(metavar="NAME", help="The knowledge base to delete.")]) -> None:
    """Delete a knowledge base: its documents, index and uploaded copies. Never the default one.

    The files it was ingested from stay where they are.

    Example: assistant kb delete notes
    """
    from assistant.kb import delete

    print(f"deleted {delete(load_settings(), name).name}")


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

    cases = [to_case(conversation, turn) for conversation, turn in History.of(load_settings()).rated()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    pending = sum(1 for case in cases if case["answers"] == [])
    print(f"wrote {len(cases)} case{'s' * (len(cases) != 1)} to {out}"
          + (f"; {pending} wait for a gold answer (fill in their \"answers\")" if pending else ""))


