"""The HTTP API: `create_app(assistant) -> FastAPI`; `assistant serve` runs it with uvicorn.

app.py builds the app (error handlers, start-up); schemas.py holds the request and response models;
routes/native.py and routes/openai.py the routes; auth.py the API keys; service.py what the routes
share; streaming.py the server-sent events. Routes, formats and statuses: docs/api.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.api.errors import status_for
from assistant.errors import BackendUnavailable
from assistant.settings import API_PORT, HOST

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.core import Assistant


def _app_module():
    try:
        from assistant.api import app
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("fastapi", "starlette", "uvicorn"):
            raise BackendUnavailable("The HTTP API needs FastAPI: pip install -e '.[api]' in the repository") from exc
        raise
    return app


def create_app(assistant: Assistant) -> FastAPI:
    """A FastAPI app over one Assistant; OpenAPI docs at /docs."""
    return _app_module().create_app(assistant)


def serve(assistant: Assistant, host: str = HOST, port: int = API_PORT, insecure: bool = False) -> None:
    """Run the API until interrupted (refuses a non-loopback host without an API key unless `insecure`)."""
    _app_module().serve(assistant, host=host, port=port, insecure=insecure)


__all__ = ["create_app", "serve", "status_for"]
