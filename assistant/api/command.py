"""`assistant serve`: the HTTP API as a command (registered by assistant/cli; importing this loads no server)."""
from __future__ import annotations

from typing import Annotated

import typer

from assistant.commandline import HostOption, KbOption, PortOption, WatchOption, load_settings, open_service
from assistant.settings import API_PORT, HOST


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
