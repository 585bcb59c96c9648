"""The HTTP API: `create_app(assistant) -> FastAPI`; `assistant serve` runs it with uvicorn.

app.py builds the app (error handlers, start-up); schemas.py holds the request and response models;
routes/native.py and routes/openai.py the routes, adapters over the application service
(assistant/service.py); auth.py the API keys; streaming.py the server-sent events. Routes, formats and
statuses: docs/api.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import BackendUnavailable, status_for
from assistant.settings import API_PORT, HOST

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.core import Assistant
    from assistant.service import Service


def _app_module():
    try:
        from assistant.api import app
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("fastapi", "starlette", "uvicorn"):
            raise BackendUnavailable("The HTTP API needs FastAPI: pip install -e '.[api]' in the repository") from exc
        raise
    return app


def create_app(target: Service | Assistant) -> FastAPI:
    """A FastAPI app over the application service (or a new one over an Assistant); OpenAPI docs at /docs."""
    return _app_module().create_app(target)


def serve(target: Service | Assistant, host: str = HOST, port: int = API_PORT, insecure: bool = False) -> None:
    """Run the API until interrupted (refuses a non-loopback host without an API key unless `insecure`)."""
    _app_module().serve(target, host=host, port=port, insecure=insecure)


__all__ = ["create_app", "serve", "status_for"]
