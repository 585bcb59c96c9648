"""The HTTP API: `create_app(assistant) -> FastAPI`; `assistant serve` runs it with uvicorn."""
# No `from __future__ import annotations`: FastAPI must see the request models, which are local.

from assistant.core import Assistant
from assistant.errors import (USER_ERRORS, BackendUnavailable, EmptyIndex, EmptyQuestion, LLMBadReply, ModelError,
                              StoreUnavailable, UnknownSource)
from ingest.errors import PathNotFound
from vectorstore.errors import lost_connection, unreachable

STATUS = [(EmptyQuestion, 422), (UnknownSource, 404), (PathNotFound, 404), (EmptyIndex, 409),
          (StoreUnavailable, 503), (LLMBadReply, 502), (BackendUnavailable, 503), (ModelError, 503)]


def status_for(exc: Exception) -> int:
    """The HTTP status of a user-facing error (400 when nothing more specific fits)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def create_app(assistant: Assistant):
    """A FastAPI app over one Assistant; OpenAPI docs at /docs."""
    try:
        from fastapi import FastAPI, Request
        from fastapi.concurrency import run_in_threadpool
        from fastapi.responses import JSONResponse
        from pydantic import BaseModel, Field
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

    app = FastAPI(title="docs-assistant", description="Cited answers from your own documents.")

    def error(exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status_for(exc), content={"error": str(exc)})

    # One handler per class: a catch-all `Exception` handler would also log a traceback for every 404.
    for kind in USER_ERRORS:
        app.add_exception_handler(kind, lambda request, exc: error(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return JSONResponse(status_code=500, content={"error": f"internal error: {type(exc).__name__}"})

    async def call(fn, *args):
        try:
            return await run_in_threadpool(fn, *args)
        except Exception as exc:
            # The store is checked when the app starts; a server that stops later fails inside chromadb's client.
            url = assistant.settings.chroma_url
            if url and lost_connection(exc):
                raise unreachable(url) from exc
            raise

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/sources")
    async def sources() -> list[dict]:
        return [r.to_dict() for r in await call(assistant.sources)]

    @app.post("/ask")
    async def ask(body: AskRequest) -> dict:
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
