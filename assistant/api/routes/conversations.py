"""Saved conversations over HTTP: list and search, create, read, rename, delete, export; feedback on a turn.

Each request sees only its owner's conversations (auth.owner): another owner's are not found. Turns are saved
by POST /ask with `conversation` (routes/native.py). The conversations are the home's, whichever knowledge
base a turn was asked on: these routes are not served under /kb/{kb}/.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from assistant.api.auth import owner
from assistant.api.routes.native import ERRORS
from assistant.api.schemas import (ConversationDeletedOut, ConversationOut, ConversationTurnsOut, FeedbackIn,
                                   FeedbackOut, NewConversationIn, TitleIn)
from assistant.history import LISTED, History, to_markdown

router = APIRouter(tags=["conversations"], responses=ERRORS)


def history(request: Request) -> History:
    return request.app.state.service.history


@router.get("/conversations", response_model=list[ConversationOut],
            description=f"The conversations, most recently active first (the {LISTED} latest), without their turns.")
async def list_conversations(search: str | None = Query(None, description="Only those whose title, questions or "
                                                        "answers hold every word (a word matches as a prefix)."),
                             store: History = Depends(history), who: str = Depends(owner)) -> list[dict]:
    return [c.to_dict() for c in await run_in_threadpool(store.conversations, who, search)]


@router.post("/conversations", response_model=ConversationOut, status_code=201)
async def create_conversation(body: NewConversationIn | None = None, store: History = Depends(history),
                              who: str = Depends(owner)) -> dict:
    """A new, empty conversation (POST /ask with `"conversation": "new"` also starts one)."""
    return (await run_in_threadpool(store.start, who, body.title if body else "")).to_dict()


@router.get("/conversations/{cid}", response_model=ConversationTurnsOut)
async def get_conversation(cid: str, store: History = Depends(history), who: str = Depends(owner)) -> dict:
    """One conversation with all its turns."""
    return (await run_in_threadpool(store.conversation, who, cid)).to_dict()


@router.patch("/conversations/{cid}", response_model=ConversationOut)
async def rename_conversation(cid: str, body: TitleIn, store: History = Depends(history),
                              who: str = Depends(owner)) -> dict:
    """Give it another title."""

    def rename() -> dict:
        store.rename(who, cid, body.title)
        return store.conversation(who, cid).to_dict()

    return await run_in_threadpool(rename)


@router.delete("/conversations/{cid}", response_model=ConversationDeletedOut)
async def delete_conversation(cid: str, store: History = Depends(history), who: str = Depends(owner)) -> dict:
    """Delete it and its turns (their ratings too: export them first with `assistant feedback export`)."""
    await run_in_threadpool(store.delete, who, cid)
    return {"deleted": cid}


@router.get("/conversations/{cid}/export", response_class=Response,
            responses={200: {"content": {"text/markdown": {}, "application/json": {}},
                             "description": "The conversation as a file to download."}})
async def export_conversation(cid: str, format: Literal["markdown", "json"] = Query(  # noqa: A002 - the API's word
        "markdown", description="markdown: each question, its answer and its numbered sources; json: as GET "
                                "/conversations/{cid}."),
        store: History = Depends(history), who: str = Depends(owner)) -> Response:
    """The conversation as a Markdown or JSON file (`Content-Disposition: attachment`)."""
    conversation = await run_in_threadpool(store.conversation, who, cid)
    name = f"conversation-{conversation.id[:8]}"
    if format == "json":
        return JSONResponse(conversation.to_dict(),
                            headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    return Response(to_markdown(conversation), media_type="text/markdown; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.md"'})


@router.post("/turns/{turn}/feedback", response_model=FeedbackOut)
async def post_feedback(turn: int, body: FeedbackIn, store: History = Depends(history),
                        who: str = Depends(owner)) -> dict:
    """Rate an answer: thumbs up or down, with an optional comment. `assistant feedback export` turns the rated
    answers into an eval set (docs/evals.md)."""
    comment = await run_in_threadpool(store.rate, who, turn, body.rating, body.comment)
    return {"turn": turn, "rating": body.rating, "comment": comment}
