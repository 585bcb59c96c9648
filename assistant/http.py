"""The HTTP API: `create_app(assistant) -> FastAPI`; `assistant serve` runs it with uvicorn."""
# No `from __future__ import annotations`: FastAPI must see the request models, which are local.

from assistant.core import Assistant
from assistant.errors import (USER_ERRORS, BackendUnavailable, EmptyIndex, EmptyQuestion, StoreUnavailable,
                              UnknownSource)
from ingest.errors import PathNotFound

STATUS = [(EmptyQuestion, 422), (UnknownSource, 404), (PathNotFound, 404), (EmptyIndex, 409),
          (StoreUnavailable, 503), (BackendUnavailable, 503)]


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

    @app.exception_handler(Exception)
    async def user_error(request: Request, exc: Exception):
        if isinstance(exc, USER_ERRORS):
            return JSONResponse(status_code=status_for(exc), content={"error": str(exc)})
        return JSONResponse(status_code=500, content={"error": f"internal error: {type(exc).__name__}"})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/sources")
    def sources() -> list[dict]:
        return [r.to_dict() for r in assistant.sources()]

    @app.post("/ask")
    async def ask(body: AskRequest) -> dict:
        answer = await run_in_threadpool(assistant.ask, body.question, body.history, body.top_k, body.sources)
        return answer.to_dict()

    @app.post("/ingest")
    async def ingest(body: IngestRequest) -> dict:
        report = await run_in_threadpool(assistant.ingest, body.paths, body.prune)
        return report.to_dict()

    return app


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API until interrupted."""
    import uvicorn

    uvicorn.run(create_app(assistant), host=host, port=port, log_level="info")
