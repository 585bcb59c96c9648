"""The HTTP API: `create_app(assistant) -> FastAPI`; `assistant serve` runs it with uvicorn."""
# No `from __future__ import annotations`: FastAPI must see the request models, which are local.

import threading

from assistant.core import Assistant
from assistant.errors import (USER_ERRORS, BackendUnavailable, EmptyIndex, EmptyQuestion, InvalidText, LLMBadReply,
                              ModelError, StoreUnavailable, UnknownSource)
from assistant.text_input import require_text
from ingest.errors import PathNotFound
from ingest.files import printable
from vectorstore.errors import StoreBusy, StoreError, lost_connection, unreachable

STATUS = [(EmptyQuestion, 422), (InvalidText, 422), (UnknownSource, 404), (PathNotFound, 404), (EmptyIndex, 409),
          (StoreBusy, 409), (StoreUnavailable, 503), (LLMBadReply, 502), (BackendUnavailable, 503), (ModelError, 503)]


def status_for(exc: Exception) -> int:
    """The HTTP status of a user-facing error (400 when nothing more specific fits)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def validation_message(errors: list[dict]) -> str:
    """One line for a request body that does not fit the model; never echoes the input (it may be huge or NaN)."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":  # loc is ("body", position)
            parts.append(f"the body is not valid JSON (at position {error['loc'][-1]})")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "Invalid request: " + "; ".join(parts)


class Readiness:
    """Whether the store answers and the model is loaded; the model loads in the background at start-up."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.model_error: str | None = None

    def load_model(self) -> None:
        try:
            self.assistant.embedder.model
        except ModelError as exc:
            self.model_error = str(exc)
        except Exception as exc:  # a broken install: say what, /health stays 503  # noqa: BLE001
            self.model_error = f"the model failed to load ({type(exc).__name__}: {exc})"

    def store(self) -> str:
        try:
            self.assistant.store.generation(fresh=True)  # a probe must reach the store, not its cached answer
        except StoreError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
            url = self.assistant.settings.chroma_url
            if url and lost_connection(exc):
                return str(unreachable(url))
            return f"the store failed ({type(exc).__name__})"
        return "ok"

    def model(self) -> str:
        if self.model_error:
            return self.model_error
        return "ok" if self.assistant.embedder.loaded else "loading"

    def report(self) -> dict:
        state = {"store": self.store(), "model": self.model()}
        state["status"] = "ok" if all(v == "ok" for v in state.values()) else "unavailable"
        return state


def create_app(assistant: Assistant):
    """A FastAPI app over one Assistant; OpenAPI docs at /docs."""
    try:
        from contextlib import asynccontextmanager

        from fastapi import FastAPI, Request
        from fastapi.concurrency import run_in_threadpool
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import JSONResponse
        from pydantic import BaseModel, Field
        from starlette.exceptions import HTTPException
    except ImportError as exc:
        raise BackendUnavailable("The HTTP API needs FastAPI: pip install 'docs-assistant[api]'") from exc

    class AskRequest(BaseModel):
        question: str = Field(description="The question.", examples=["Who denied involvement?"])
        history: list[tuple[str, str]] = Field(default=[], description="Earlier (question, answer) turns, oldest first.")
        top_k: int | None = Field(default=None, ge=1, le=50, description="Passages to answer from.")
        sources: list[str] | None = Field(default=None, description="Only search these sources.")

    class IngestRequest(BaseModel):
        paths: list[str] = Field(description="Files or folders on the server's disk.")
        prune: bool = Field(default=False, description="Remove indexed files that vanished from these folders.")

    readiness = Readiness(assistant)

    @asynccontextmanager
    async def lifespan(app):
        # Load the model now, not on the first question; /health says 503 "loading" until it is ready.
        # Not a daemon: stopping the server mid-load waits for it (see Embedder.preload).
        threading.Thread(target=readiness.load_model, name="load-model").start()
        yield

    app = FastAPI(title="docs-assistant", description="Cited answers from your own documents.", lifespan=lifespan)

    def error(exc: Exception) -> JSONResponse:
        # printable(): a message quoting a path with undecodable bytes must not break the JSON encoder.
        return JSONResponse(status_code=status_for(exc), content={"error": printable(str(exc))})

    # One handler per class: a catch-all `Exception` handler would also log a traceback for every 404.
    for kind in USER_ERRORS:
        app.add_exception_handler(kind, lambda request, exc: error(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return JSONResponse(status_code=422, content={"error": validation_message(exc.errors())})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        # FastAPI raises a bare 400 only when it cannot parse a body (e.g. bytes that are not UTF-8).
        message = "Invalid request: the body is not valid UTF-8 JSON" if exc.status_code == 400 else str(exc.detail)
        return JSONResponse(status_code=exc.status_code, content={"error": message}, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return JSONResponse(status_code=500, content={"error": f"internal error: {type(exc).__name__}"})

    async def call(fn, *args):
        try:
            return await run_in_threadpool(fn, *args)
        except Exception as exc:
            # The store is checked when the app starts; a server that stops later fails inside chromadb's client.
            url = assistant.settings.chroma_url
            if url and not isinstance(exc, StoreError) and lost_connection(exc):
                raise unreachable(url) from exc
            raise

    @app.get("/health")
    async def health() -> JSONResponse:
        """200 when the store answers and the model is loaded, else 503; the body says which part is not ready."""
        state = await run_in_threadpool(readiness.report)
        return JSONResponse(status_code=200 if state["status"] == "ok" else 503, content=state)

    @app.get("/sources")
    async def sources() -> list[dict]:
        return [r.to_dict() for r in await call(assistant.sources)]

    @app.post("/ask")
    async def ask(body: AskRequest) -> dict:
        require_text(body.question)
        for turn in body.history:
            for text in turn:
                require_text(text, "history")
        for source in body.sources or ():
            require_text(source, "source filter")
        answer = await call(assistant.ask, body.question, body.history, body.top_k, body.sources)
        return answer.to_dict()

    @app.post("/ingest")
    async def ingest(body: IngestRequest) -> dict:
        report = await call(assistant.ingest, body.paths, body.prune)
        return report.to_dict()

    return app


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API until interrupted."""
    import uvicorn

    uvicorn.run(create_app(assistant), host=host, port=port, log_level="info")
