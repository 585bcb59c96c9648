"""What every command shares, wherever it is defined: the app, its options, help that reads like other Unix
tools, and the service of the command's home, config and knowledge base.

The commands are front ends of their own packages (assistant/cli: documents and groups; ui/command.py: chat;
evals/cli.py: eval; assistant/api/command.py: serve), registered on `app` by assistant/cli. This module
sits below all of them (.importlinter), so none imports another."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand

from assistant.settings import TOP_K_MAX


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
WatchOption = Annotated[Optional[list[Path]], typer.Option("--watch", metavar="DIR", help="Keep this folder in sync "
                                                           "with the index while running (repeatable).")]
KbOption = Annotated[Optional[str], typer.Option("--kb", metavar="NAME", help="The knowledge base (default: the "
                                                 "default one; see `assistant kb list`).")]

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False)
class State:
    home: Optional[Path] = None
    config: Optional[Path] = None


def open_service(kb: Optional[str] = None, **overrides):
    """The application service (assistant/service.py) of this command's home, config and knowledge base."""
    from assistant.service import build

    return build(home=State.home, config=State.config, kb=kb, **overrides)


def load_settings():
    from assistant.settings import Settings

    return Settings.load(State.config, home=State.home)


def consoles(as_json: bool):
    from rich.console import Console

    return Console(), Console(stderr=True, quiet=as_json)


def print_json(data) -> None:
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


def answerer_help() -> str:
    from assistant.answerers import kinds

    return f"Answer with: {', '.join(kinds())} (default: [answer] kind)."
