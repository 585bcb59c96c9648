"""The native routes: /health, /kb, and /sources, /ask, /ingest, /documents (uploads), /documents/{source}.

Those on a knowledge base are served twice: as they are, on the server's own knowledge base, and
under /kb/{kb}/ on the one named (app.py includes `router` with that prefix). Each reaches its
knowledge base through `knowledge_base` (reading) or `changeable` (changing), with the request's
principal: a base it may not read or change is a 403 (assistant/access.py). The routes then call the
application service (assistant/service.py) with that base and principal: it checks the input and answers."""
from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import NamedTuple

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from assistant.answer import Answer
from assistant.answerers import Revision
from assistant.access import Principal
from assistant.api.auth import require_key
from assistant.api.errors import ApiError, shown
from assistant.api.schemas import (UPLOAD_BODY, AnswerOut, AskRequest, CreateKnowledgeBase, DocumentOut, ErrorOut,
                                   HealthOut, IngestReportOut, IngestRequest, KnowledgeBaseDeletedOut,
                                   KnowledgeBaseOut, RemovedOut, SourceOut, UploadReportOut)
from assistant.api.streaming import event, start
from assistant.service import Service
from assistant.turns import Recording
from ingest.files import printable

ERRORS = {status: {"model": ErrorOut} for status in (401, 403, 404, 409, 413, 422, 503)}
UPLOAD_ERRORS = {415: {"model": ErrorOut, "description": "A file of a type that is not ingested."}}

health = APIRouter(tags=["native"])
bases = APIRouter(tags=["native"], responses=ERRORS)
router = APIRouter(tags=["native"], responses=ERRORS)


def service(request: Request) -> Service:
    return request.app.state.service


class Scope(NamedTuple):
    """The request's knowledge base (None: the server's own) and who asks, checked before the body is read."""

    kb: str | None
    who: Principal


def knowledge_base(request: Request, who: Principal = Depends(require_key)) -> Scope:
    """The request's knowledge base (the {kb} of /kb/{kb}/..., else the server's own), once `who` may read it."""
    kb = request.path_params.get("kb")
    service(request).open(kb, who=who)
    return Scope(kb, who)


def changeable(request: Request, who: Principal = Depends(require_key)) -> Scope:
    """The request's knowledge base, once `who` may change it (ingest, upload, remove)."""
    kb = request.path_params.get("kb")
    service(request).open(kb, who=who, change=True)
    return Scope(kb, who)


def kb_segment(kb: str = Path(description="A knowledge base, as GET /kb lists them; 404 for any other name.")):
    """Declares the {kb} of the /kb/{kb}/... routes (for their OpenAPI schema); `knowledge_base` reads it."""


@health.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def get_health(svc: Service = Depends(service)) -> JSONResponse:
    """200 when the store answers and the model is loaded, else 503; the body says which part is not ready.

    Never needs an API key (for load balancers and container health checks)."""
    state = await run_in_threadpool(svc.readiness.report)
    return JSONResponse(status_code=200 if state["status"] == "ok" else 503, content=state)


@bases.get("/kb", response_model=list[KnowledgeBaseOut])
async def get_knowledge_bases(svc: Service = Depends(service), who: Principal = Depends(require_key)) -> list[dict]:
    """The knowledge bases the key may read, "default" first, with how many documents each holds (as
    `assistant kb list --json`); 403 when it may read none."""
    return await run_in_threadpool(svc.bases.summaries, who)


@bases.post("/kb", response_model=KnowledgeBaseOut, status_code=201)
async def create_knowledge_base(body: CreateKnowledgeBase, svc: Service = Depends(service),
                                who: Principal = Depends(require_key)) -> dict:
    """Make an empty knowledge base (as `assistant kb create NAME`); 409 if it exists, 403 unless the key may
    change it."""
    return await run_in_threadpool(svc.bases.create, body.name, who)


@bases.delete("/kb/{kb}", response_model=KnowledgeBaseDeletedOut)
async def delete_knowledge_base(kb: str, svc: Service = Depends(service),
                                who: Principal = Depends(require_key)) -> dict:
    """Delete a knowledge base with its documents and uploaded copies (as `assistant kb delete NAME`); 404 if
    unknown, 409 for the default one, 403 unless the key may change it."""
    return {"deleted": await run_in_threadpool(svc.bases.delete, kb, who)}


@router.get("/sources", response_model=list[SourceOut])
async def get_sources(svc: Service = Depends(service), on: Scope = Depends(knowledge_base)) -> list[dict]:
    """What is indexed, sorted by source."""
    return [r.to_dict() for r in await run_in_threadpool(svc.sources, on.kb, who=on.who)]


@router.post("/ask", response_model=AnswerOut, response_model_exclude_unset=True,
             responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                              "description": "The answer; with `stream: true`, server-sent events: `delta` "
                                             "{text}, `revision` {text}, then `answer` (this JSON) or `error`."}})
async def ask(body: AskRequest, svc: Service = Depends(service), on: Scope = Depends(knowledge_base)):
    """Answer a question with numbered citations; `stream: true` sends the text as it is written.

    With `conversation`, the turn is saved there and the answer also gives `conversation` and `turn`; when the
    history file cannot be used, the question is still answered, with a note saying the turn was not saved."""
    history, save = body.history, Answer.to_dict
    if body.conversation is not None:
        assistant = svc.open(on.kb, who=on.who)
        recording = Recording(svc.history, on.who.name, body.conversation, assistant.settings.answer.kind, assistant.kb.name)
        earlier = await run_in_threadpool(recording.earlier)  # an unknown conversation is a 404 before answering
        history = history or earlier
        save = partial(recording.save, body.question.strip())
    asked = (body.question, history, body.top_k, body.sources)
    if not body.stream:
        answer = await run_in_threadpool(partial(svc.ask, *asked, kb=on.kb, who=on.who))
        return await run_in_threadpool(save, answer)
    items = await start(svc.stream(*asked, kb=on.kb, who=on.who))
    return EventSourceResponse(_ask_events(items, save))


async def _ask_events(items: AsyncIterator, save=Answer.to_dict) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            if isinstance(item, Answer):  # complete: saved (when asked in a conversation) before it is sent
                yield event(await run_in_threadpool(save, item), "answer")
            elif isinstance(item, Revision):
                yield event({"text": item.text}, "revision")
            else:
                yield event({"text": item}, "delta")
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the error (one line) is the last event
        status, message = shown(exc)
        yield event({"error": message, "status": status}, "error")


@router.post("/ingest", response_model=IngestReportOut,
             responses={403: {"model": ErrorOut, "description": "A path outside `[server] ingest_roots`, or a "
                                                                 "key that may not change the knowledge base."}})
async def ingest(body: IngestRequest, svc: Service = Depends(service), on: Scope = Depends(changeable)) -> dict:
    """Add, update or (with prune) remove documents from folders inside `[server] ingest_roots`."""
    if not svc.ingest_roots:
        raise ApiError(403, "Ingesting over HTTP is off: set [server] ingest_roots to the folders it may read "
                            "(ASSISTANT_SERVER__INGEST_ROOTS='[\"/srv/docs\"]')")
    paths = []
    for given in body.paths:  # every path is checked before anything is read: a refusal changes nothing
        try:
            outside = svc.outside_roots(given)
        except (OSError, ValueError, RuntimeError):  # a NUL byte, a lone surrogate, a symlink loop
            raise ApiError(403, f"{printable(given)!r} is not a path inside [server] ingest_roots") from None
        if outside is not None:
            raise ApiError(403, f"{printable(given)} is outside [server] ingest_roots")
        paths.append(given)
    report = await run_in_threadpool(lambda: svc.ingest(paths, body.prune, on.kb, who=on.who))
    return report.to_dict()


@router.post("/documents", response_model=UploadReportOut, responses=UPLOAD_ERRORS,
             openapi_extra={"requestBody": UPLOAD_BODY})
async def upload_documents(request: Request, svc: Service = Depends(service),
                           on: Scope = Depends(changeable)) -> dict:
    """Upload and ingest files (multipart/form-data, each a part named `files`), as the chat UI does.

    The copies go to the knowledge base's uploads folder (`<home>/uploads/` for the default one) under
    the file's name without any folder part (`../../x.txt` is stored as `uploads/x.txt`); uploading a
    name again updates it. If any file is refused, nothing is stored: 415 for a type that is not
    ingested, 413 over `[ingest] max_upload_mb` (or a body over `[server] max_upload_files` x that),
    422 for an empty file or no file. A file that fails to ingest (e.g. a broken PDF) is reported in
    `failed`, and the other files are still ingested."""
    # Parsed here, not as a FastAPI File parameter: FastAPI reads a body before the API key is checked.
    try:
        form = await request.form()
    except HTTPException as exc:
        if exc.status_code == 413:  # a chunked body counted past its limit as it arrived (app.BodyLimit)
            raise
        raise ApiError(422, f"Invalid upload: {exc.detail}") from None  # Starlette's one line: a malformed body
    try:
        parts = form.getlist("files")
        uploads = [part for part in parts if isinstance(part, UploadFile)]
        if not uploads or len(uploads) != len(parts):
            raise ApiError(422, "No file: send each file as a multipart/form-data file part named `files`")
        most = svc.settings.server.max_upload_files
        if len(uploads) > most:
            raise ApiError(413, f"{len(uploads)} files: POST /documents takes at most {most} at a time "
                                "([server] max_upload_files)")
        files = [(part.file, part.filename or "") for part in uploads]
        return await run_in_threadpool(lambda: svc.upload(files, on.kb, who=on.who))
    finally:
        await form.close()


@router.get("/documents/{source:path}", response_model=DocumentOut)
async def get_document(source: str, svc: Service = Depends(service), on: Scope = Depends(knowledge_base)) -> dict:
    """One indexed document with its cleaned text (citation offsets point into it); 404 if unknown.

    `source` is as `/sources` lists it (an absolute path keeps its leading slash:
    `/documents//srv/docs/a.txt`), or its trailing part (`/documents/a.txt`)."""
    return (await run_in_threadpool(lambda: svc.document(source, on.kb, who=on.who))).to_dict(with_text=True)


@router.delete("/documents/{source:path}", response_model=RemovedOut)
async def delete_document(source: str, svc: Service = Depends(service), on: Scope = Depends(changeable)) -> dict:
    """Remove one document from the index; 404 if unknown."""
    removed = await run_in_threadpool(lambda: svc.remove(source, on.kb, who=on.who))
    return {"removed": removed}
