"""OpenAI-compatible routes: POST /v1/chat/completions (plain and streamed) and GET /v1/models.

A model is an answerer kind on the server's knowledge base (`extractive`), or on the knowledge base
named after an @ (`extractive@notes`, `extractive@default`). The last user message is the question;
earlier user/assistant pairs are the conversation; system messages are ignored (the answerer has its
own instructions). A key sees and asks only the knowledge bases it may read (assistant/access.py): 403.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from functools import partial

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse

from assistant.answer import Answer, Citation
from assistant.access import Principal
from assistant.answerers import kinds as all_kinds
from assistant.api.auth import require_key
from assistant.api.errors import ApiError, error_body, shown
from assistant.api.schemas import (ChatCitation, ChatCompletion, ChatCompletionRequest, ChatMessage, ModelList,
                                   OpenAIErrorOut)
from assistant.api.streaming import AppendOnly, event, start
from assistant.core import Assistant
from assistant.errors import KnowledgeBaseError
from assistant.service import Service
from assistant.text_input import require_text

ERRORS = {status: {"model": OpenAIErrorOut} for status in (400, 401, 403, 404, 409, 413, 422, 503)}
router = APIRouter(prefix="/v1", tags=["openai"], responses=ERRORS)
ROLES = ("system", "developer", "user", "assistant")


def service(request: Request) -> Service:
    return request.app.state.service


@router.get("/models", response_model=ModelList)
async def models(svc: Service = Depends(service), who: Principal = Depends(require_key)) -> dict:
    """Each answerer kind these settings allow, as a model on the server's knowledge base; when there are several
    knowledge bases, then each kind on each of them by name (`kind@kb`): those the key may read."""
    kinds = svc.kinds()
    names = await run_in_threadpool(svc.bases.names, who)
    own = svc.assistant.kb.name
    ids = [(kind, all_kinds()[kind].label) for kind in kinds] if own in names else []
    if names != [own]:  # with the server's own one alone, the list is what it always was
        ids += [(f"{kind}@{kb}", f"{all_kinds()[kind].label} · {kb}") for kb in names for kind in kinds]
    return {"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": "docs-assistant",
                                        "name": name} for model, name in ids]}


def _text(message: ChatMessage, index: int) -> str:
    """A message's text; refuses what cannot be answered (images, audio, files)."""
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return require_text(content, "message")
    parts = []
    for part in content:
        if part.type != "text":
            raise ApiError(400, f"Only text content is supported: messages[{index}] has a {part.type!r} part",
                           param=f"messages.{index}.content", code="unsupported_content")
        parts.append(require_text(part.text or "", "message"))
    return "\n".join(parts)


def conversation(body: ChatCompletionRequest) -> tuple[str, list[tuple[str, str]]]:
    """(question, history): the last message is the user's question; earlier user/assistant pairs are history."""
    if body.tools or body.functions:
        raise ApiError(400, "Tools and functions are not supported: this model answers from your documents only",
                       param="tools" if body.tools else "functions", code="unsupported_parameter")
    if body.n not in (None, 1):
        raise ApiError(400, "Only n = 1 is supported", param="n", code="unsupported_parameter")
    turns = []
    for index, message in enumerate(body.messages):
        if message.role not in ROLES:
            raise ApiError(400, f"messages[{index}] has role {message.role!r}: only system, developer, user and "
                                "assistant messages are supported", param=f"messages.{index}.role",
                           code="unsupported_role")
        turns.append((message.role, _text(message, index)))
    if turns[-1][0] != "user":
        raise ApiError(400, "The last message must be the user's question", param="messages",
                       code="invalid_messages")
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            pending = text if pending is None else f"{pending}\n{text}"
        elif role == "assistant" and pending is not None:
            history.append((pending, text))
            pending = None
    return turns[-1][1], history


def _assistant_for(svc: Service, model: str, who: Principal) -> Assistant:
    """The assistant a model id names: `kind` on the server's knowledge base, `kind@kb` on that one (its `kb.name`
    and `settings.answer.kind` are what the service is asked with)."""
    kind, at, kb = model.partition("@")
    kinds = svc.kinds()
    if kind not in kinds:
        hint = " (no LLM is configured: set [llm] base_url)" if kind in all_kinds() else ""
        named = ", or KIND@KB for knowledge base KB" if len(svc.bases.names(who)) > 1 else ""
        raise ApiError(404, f"The model {model!r} does not exist{hint}: choose one of {', '.join(kinds)}{named} "
                            "(GET /v1/models)", param="model", code="model_not_found")
    try:
        return svc.open(kb if at else None, kind, who=who)
    except KnowledgeBaseError as exc:  # an invalid or unknown name
        raise ApiError(404, f"The model {model!r} does not exist: {exc}", param="model",
                       code="model_not_found") from None


def _citation(c: Citation) -> dict:
    """A citation as the chat reply gives it: the native one without the ranking details."""
    return {key: value for key, value in c.to_dict().items() if key in ChatCitation.model_fields}


@router.post("/chat/completions", response_model=ChatCompletion,
             responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                              "description": "The completion; with `stream: true`, `chat.completion.chunk` "
                                             "events, then `data: [DONE]`."}})
async def chat_completions(body: ChatCompletionRequest, svc: Service = Depends(service),
                           who: Principal = Depends(require_key)):
    """Answer the last user message from the documents; `citations` on the message (and on the last chunk)."""
    question, history = conversation(body)
    assistant = await run_in_threadpool(_assistant_for, svc, body.model, who)  # opening a knowledge base reads the store
    asked = (question, history, body.top_k, body.sources)
    on = {"kb": assistant.kb.name, "kind": assistant.settings.answer.kind, "who": who}
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        answer = await run_in_threadpool(partial(svc.ask, *asked, **on))
        message = {"role": "assistant", "content": answer.text,
                   "citations": [_citation(c) for c in answer.citations], "abstained": answer.abstained}
        return {"id": reply_id, "object": "chat.completion", "created": created, "model": body.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": None}
    items = await start(svc.stream(*asked, **on))
    head = {"id": reply_id, "object": "chat.completion.chunk", "created": created, "model": body.model}
    revises = all_kinds()[assistant.settings.answer.kind].revises
    return EventSourceResponse(_chunks(items, head, AppendOnly(revises)))


async def _chunks(items: AsyncIterator, head: dict, text: AppendOnly) -> AsyncIterator[bytes]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
        return event({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                      **extra})

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for item in items:
            if isinstance(item, Answer):
                rest = text.finish(item.text)
                if rest:
                    yield chunk({"content": rest})
                # The last chunk: the final text (equal to the deltas joined) and its citations.
                yield chunk({}, "stop", content=item.text, citations=[_citation(c) for c in item.citations],
                            abstained=item.abstained)
            else:
                delta = text.add(item)
                if delta:
                    yield chunk({"content": delta})
    except Exception as exc:  # noqa: BLE001 - the status line is sent: OpenAI's clients raise on an error event
        yield event(error_body("/v1", *shown(exc)))
        return
    yield event("[DONE]")
