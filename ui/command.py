"""`assistant chat`: the chat UI as a command (registered by assistant/cli; importing this loads no Gradio)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.commandline import HostOption, KbOption, PortOption, WatchOption, load_settings, open_service
from assistant.settings import HOST, UI_PORT


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
