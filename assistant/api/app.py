"""The FastAPI app: routes, error handlers, the model loaded at start-up, and `serve`."""
from __future__ import annotations

import re
import threading
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.api import auth
from assistant.api.errors import (ApiError, error_body, is_openai_path, shown, unparsable_body, validation_message,
                                  validation_param)
from assistant.api.routes import conversations, native, openai
from assistant.core import Assistant
from assistant.errors import USER_ERRORS
from assistant.exposure import check_api
from assistant.service import Service
from assistant.settings import API_PORT, HOST
from assistant.uploads import max_upload_bytes
from ingest.files import printable
from ingest.limits import MB

_UPLOADS = re.compile(r"(/kb/[^/]+)?/documents")  # POST /documents, or /kb/{kb}/documents


def create_app(target: Service | Assistant) -> FastAPI:
    """A FastAPI app over the application service (or a new one over an Assistant): its knowledge base, and the
    others of its home or Chroma server (/kb/{kb}/..., model ids `kind@kb`); OpenAPI docs at /docs. `[server]`
    settings apply (keys, limits, roots)."""
    service = Service.of(target)

    @asynccontextmanager
    async def lifespan(app):
        # Load the model now, not on the first question; /health says 503 "loading" until it is ready.
        # Not a daemon: stopping the server mid-load waits for it (see Embedder.preload).
        threading.Thread(target=service.readiness.load_model, name="load-model").start()
        yield

    app = FastAPI(title="docs-assistant", description="Cited answers from your own documents. "
                  "Native routes, and OpenAI-compatible ones under /v1 (see docs/api.md).", lifespan=lifespan)
    app.state.service = service
    app.add_middleware(BodyLimit, limits=BodyLimits(service.settings))

    def error(request: Request, status: int, message: str, param: str | None = None, code: str | None = None,
              headers: dict | None = None) -> JSONResponse:
        # printable(): a message quoting a path with undecodable bytes must not break the JSON encoder.
        return JSONResponse(status_code=status, headers=headers,
                            content=error_body(request.url.path, status, printable(message), param, code))

    # One handler per class: a catch-all `Exception` handler would also log a traceback for every 404.
    for kind in (*USER_ERRORS, Exception):
        app.add_exception_handler(kind, lambda request, exc: error(request, *shown(exc)))

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return error(request, exc.status, exc.message, exc.param, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if is_openai_path(request.url.path):  # OpenAI says 400 for a request that does not fit
            return error(request, 400, validation_message(errors), validation_param(errors), "invalid_request")
        return error(request, 422, validation_message(errors))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 400:  # FastAPI raises a bare 400 only when it cannot parse a body
            message = unparsable_body(exc.__cause__)
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return error(request, exc.status_code, message, headers=exc.headers)

    keyed = [Depends(auth.require_key)]  # the key is checked first: no other answer tells what exists
    app.include_router(native.health)
    app.include_router(native.bases, dependencies=keyed)
    app.include_router(native.router, dependencies=keyed)
    app.include_router(native.router, prefix="/kb/{kb}", dependencies=keyed + [Depends(native.kb_segment)])
    app.include_router(conversations.router, dependencies=keyed)
    app.include_router(openai.router, dependencies=keyed)
    return app


class BodyLimits:
    """The body limit of a request, and what its 413 says.

    `[server] max_body_mb` for every route but `POST /documents`, whose uploads may reach
    `[server] max_upload_files` x `[ingest] max_upload_mb`, plus `max_body_mb` for the form's own bytes
    (and so does `POST /kb/{kb}/documents`).
    """

    def __init__(self, settings):
        self.body = int(settings.server.max_body_mb * MB)
        self.upload = settings.server.max_upload_files * max_upload_bytes(settings) + self.body

    def __call__(self, scope) -> tuple[int, str]:
        if scope["method"] == "POST" and _UPLOADS.fullmatch(scope["path"]):
            return self.upload, (f"The upload is larger than [server] max_upload_files x [ingest] max_upload_mb "
                                 f"({self.upload / MB:g} MB with the form)")
        return self.body, f"The request body is larger than [server] max_body_mb ({self.body / MB:g} MB)"


class BodyLimit:
    """413 for a request body over its limit (see BodyLimits), as a one-line JSON error like every other.

    Not FastAPI's `max_body_size`: it answers a declared Content-Length over the limit with a plain-text
    "Content Too Large" and replaces any response the app gives.
    """

    def __init__(self, app, limits: BodyLimits):
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit, message = self.limits(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:  # refused before a byte of it is read
            body = error_body(scope["path"], 413, message)
            return await JSONResponse(body, status_code=413)(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            received = await receive()
            seen += len(received.get("body", b"")) if received["type"] == "http.request" else 0
            if seen > limit:  # a chunked body, counted as it arrives; the handler says 413
                raise HTTPException(413, message)
            return received

        await self.app(scope, counted, send)


def serve(target: Service | Assistant, host: str = HOST, port: int = API_PORT, insecure: bool = False) -> None:
    """Run the API until interrupted; refuses a non-loopback host without an API key unless `insecure`."""
    import uvicorn

    check_api(host, target.settings.server.has_keys(), insecure)
    uvicorn.run(create_app(target), host=host, port=port, log_level="info")
