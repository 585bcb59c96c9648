"""The `assistant` command: ingest, ask, sources, remove, answerers, kb and feedback here, and the commands of
the other front ends (chat, eval, serve) through one hook, the entry point group GROUP.

Like the answerers (assistant/answerers/__init__.py), built-ins and add-ons register the same way: an entry
point in group `docs_assistant.commands`, named by the command and pointing at a typer command function
(`report = my_tool.cli:report`). The built-ins are written here (BUILTINS) so a source checkout works
uninstalled; they live in their own packages (ui/command.py, evals/cli.py, assistant/api/command.py), so this
package imports none of them. Each command builds the application service (assistant/service.py) for its
home, config and knowledge base, calls it and prints; a user-facing error is `Error: <one line>` and exit 1.
Importing it loads no model, Chroma or Gradio: each command imports what it needs when it runs.
"""
from __future__ import annotations

import sys
from importlib.metadata import EntryPoint

from assistant.cli import documents, groups  # noqa: F401 - each registers its commands on `app`
from assistant.commandline import PlainHelp, app
from assistant.plugins import load_group

GROUP = "docs_assistant.commands"
BUILTINS = (EntryPoint("chat", "ui.command:chat", GROUP), EntryPoint("eval", "evals.cli:eval_command", GROUP),
            EntryPoint("serve", "assistant.api.command:serve", GROUP))


def _register() -> None:
    """Every command of the group on `app`: the built-ins, then each installed package's, but for the names the
    commands defined here have (assistant/plugins.py says why one is left out)."""
    taken = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    taken |= {group.name for group in app.registered_groups}
    for name, function in load_group(GROUP, BUILTINS, "command", taken).items():
        app.command(name=name, cls=PlainHelp)(function)


_register()


def main() -> None:
    """Entry point: user errors become one line on stderr and exit 1 (typer exits 2 on usage errors)."""
    from assistant.errors import USER_ERRORS, failure

    try:
        app()
    except USER_ERRORS as exc:
        print(f"Error: {failure(exc).message}", file=sys.stderr)
        sys.exit(1)


__all__ = ["GROUP", "app", "main"]
