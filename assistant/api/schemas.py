"""The API's request and response models: what /docs shows, and what the routes validate.

Response models allow extra keys: the answer JSON may gain keys (docs/design.md, "The JSON answer")
and the API passes them through rather than dropping them.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from assistant.answer import Answer, Citation
from assistant.history import COMMENT_CHARS, TITLE_CHARS
from assistant.settings import TopK
from assistant.uploads import UploadReport, UploadResult
from ingest.report import STATUSES, FileResult, IngestReport
from vectorstore.records import Chunk, DocumentRecord, Hit

# --------------------------------------------------------------------------------------------- native


class ErrorOut(BaseModel):
    """Every error of the native routes: one line, no traceback."""

    error: str = Field(description="What went wrong, as the CLI would say it.",
                       examples=["Nothing is indexed yet: run `assistant ingest PATH`"])


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str = Field(description='"ok", or why the store does not answer.')
    model: str = Field(description='"ok", "loading" while it loads at start-up, or why it failed.')


class KnowledgeBaseOut(BaseModel):
    name: str = Field(description='"default", or a name given to `assistant kb create`.', examples=["notes"])
    documents: int = Field(description="How many documents it holds.")


class CreateKnowledgeBase(BaseModel):
    name: str = Field(description="The new knowledge base's name (assistant.kbnames.NAME_RULE).", examples=["notes"])


class KnowledgeBaseDeletedOut(BaseModel):
    deleted: str = Field(description="The knowledge base deleted, with its documents and uploaded copies.")


class AskRequest(BaseModel):
    question: str = Field(description="The question.", examples=["Who denied involvement?"])
    history: list[tuple[str, str]] = Field(default=[], description="Earlier (question, answer) turns, oldest first.")
    top_k: TopK | None = Field(default=None, description="Passages to answer from.")
    sources: list[str] | None = Field(default=None, description="Only search these sources.")
    stream: bool = Field(default=False, description="Reply with server-sent events (see docs/api.md) instead of "
                                                    "one JSON answer.")
    conversation: str | None = Field(default=None, description='Save the turn in this conversation (an id), or '
                                     'in a new one ("new"); its earlier turns are the history unless `history` is '
                                     'given. Omitted: nothing is saved.', examples=["new"])


_NESTED: dict[type, type[BaseModel]] = {}  # a record -> its response model, once made


def response_model(name: str, doc: str, *parts: type | dict, drop: tuple[str, ...] = (),
                   base: type[BaseModel] | None = None) -> type[BaseModel]:
    """The response model of a record's to_dict(): the fields of `parts` in order, each a record (its fields,
    less `drop`, under their JSON names, with their descriptions) or a dict of more fields as create_model takes
    them. Every record field is required, as to_dict() always gives it; a tuple is a JSON list, and a record
    inside another is that record's response model."""
    specs = {}
    for part in parts:
        if isinstance(part, dict):
            specs.update(part)
            continue
        hints, names = get_type_hints(part, include_extras=True), getattr(part, "JSON_NAMES", {})
        specs.update({names.get(f.name, f.name): (_as_json(hints[f.name]), ...) for f in fields(part)
                      if f.name not in drop})
    config = {"__base__": base} if base else {"__config__": ConfigDict(extra="allow")}
    return create_model(name, __doc__=doc, **config, **specs)


def _as_json(hint):
    """A record field's type as its JSON has it: a tuple a list, a record inside it its response model."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return Annotated[(_as_json(args[0]), *hint.__metadata__)]
    if origin in (tuple, list):
        return list[_as_json(args[0])]
    return _NESTED.get(hint, hint)


CitationOut = response_model("CitationOut", Citation.__doc__, Citation)
HitOut = response_model("HitOut", "A retrieved passage with how it ranked.", Chunk, Hit, drop=("chunk",))
_NESTED.update({Citation: CitationOut, Hit: HitOut})
AnswerOut = response_model("AnswerOut", Answer.__doc__.split("\n")[0], Answer, {
    "conversation": (str | None, Field(None, description="Only when asked in a conversation: its id (that of the "
                                                         "new one for \"new\").")),
    "turn": (int | None, Field(None, description="Only when asked in a conversation: the saved turn's id (for "
                                                 "feedback); null when it could not be saved (a note says why)."))})
_PAGE_COUNT = {"page_count": (int, Field(description=DocumentRecord.page_count.__doc__))}
SourceOut = response_model("SourceOut", "One indexed document.", DocumentRecord, _PAGE_COUNT,
                           drop=("text", "page_starts"))
DocumentOut = response_model("DocumentOut", "One indexed document, with its text.", DocumentRecord, _PAGE_COUNT)


class RemovedOut(BaseModel):
    removed: str = Field(description="The source removed from the index.")


class IngestRequest(BaseModel):
    paths: list[str] = Field(description="Files or folders on the server's disk, inside `[server] ingest_roots`.")
    prune: bool = Field(default=False, description="Remove indexed files that vanished from these folders.")


FailedFile = response_model("FailedFile", "A file that was not ingested, and why.", FileResult,
                            drop=("status", "chunks"))
IngestReportOut = response_model(
    "IngestReportOut", "What an ingest did: the sources by what happened to each, then the totals.",
    {status: (list[str], ...) for status in STATUSES if status != "failed"}, {"failed": (list[FailedFile], ...)},
    IngestReport, drop=("results", "swept"))
UploadedFileOut = response_model("UploadedFileOut", UploadResult.__doc__, UploadResult)
_NESTED[UploadResult] = UploadedFileOut
UploadReportOut = response_model(  # the report's own fields are IngestReportOut's
    "UploadReportOut", "The ingest report of the stored copies; a file that failed is listed in `failed` under "
    "its given name.", UploadReport, drop=("seconds",), base=IngestReportOut)


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": "One or more files, each a part named `files`."}}}}}}


class TurnOut(BaseModel):
    """One saved question and its answer (the answer JSON without `hits`), with its rating."""

    id: int = Field(description="The turn's id, for POST /turns/{turn}/feedback.")
    seq: int = Field(description="Its place in the conversation, from 1.")
    question: str
    answer: dict[str, Any] = Field(description="The answer as POST /ask gave it, without `hits`.")
    answerer: str = Field(description="The answerer kind asked for.")
    kb: str = Field(description="The knowledge base it was asked on.")
    created: float = Field(description="When it was saved (Unix time).")
    rating: int | None = Field(None, description="1 (thumbs up), -1 (thumbs down), or null.")
    comment: str | None = None


class ConversationOut(BaseModel):
    """A saved conversation (GET /conversations lists these)."""

    id: str
    title: str = Field(description=f"Its first question, cut to {TITLE_CHARS} characters, unless renamed.")
    created: float
    updated: float = Field(description="When a turn was last added (Unix time); the list is newest first.")
    count: int = Field(description="How many turns it has.")


class ConversationTurnsOut(ConversationOut):
    turns: list[TurnOut] = Field(description="Its turns, in order.")


TITLE = f"Spaces are collapsed; cut to {TITLE_CHARS} characters."


class TitleIn(BaseModel):
    title: str = Field(description=TITLE + " Not empty.", examples=["Ferry times"])


class NewConversationIn(BaseModel):
    title: str = Field("", description=TITLE + " Empty: its first question titles it.")


class FeedbackIn(BaseModel):
    rating: int = Field(strict=True, description="1 (thumbs up) or -1 (thumbs down); a later rating replaces an "
                                                 "earlier one.", examples=[-1])
    comment: str | None = Field(None, description=f"Optional: what was wrong, or the right answer (at most "
                                                  f"{COMMENT_CHARS:,} characters).",
                                examples=["It was Peskov, not Lavrov"])


class FeedbackOut(BaseModel):
    turn: int
    rating: int
    comment: str | None = Field(description="The comment as kept (stripped; null when empty).")


class ConversationDeletedOut(BaseModel):
    deleted: str = Field(description="The id of the conversation deleted.")


# --------------------------------------------------------------------------------------- OpenAI shape


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    """Every error of the /v1 routes, in OpenAI's shape."""

    error: OpenAIErrorDetail


class ContentPart(BaseModel):
    """A part of a message's content; only `text` parts can be answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = Field(description="system, developer, user or assistant (tool messages are refused).")
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request; options that do not apply to a retrieval answerer are accepted and
    ignored (temperature, max_tokens, ...), the ones it cannot honour are refused (tools, n > 1, images)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="An answerer kind, as listed by GET /v1/models.", examples=["extractive"])
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation; the last one is the "
                                                                  "user's question.")
    stream: bool = False
    n: int | None = Field(default=None, description="Only 1.")
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    top_k: TopK | None = Field(default=None, description="Extension: passages to answer from.")
    sources: list[str] | None = Field(default=None, description="Extension: only search these sources.")


ChatCitation = response_model("ChatCitation", "Passage `n` of the reply: a native citation without how it ranked.",
                              Citation, drop=("score", "chunk_id"))


class ChatReply(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The answer, with its [n] marks.")
    citations: list[ChatCitation] = Field(description="Extension: citations[n-1] is passage [n].")
    abstained: bool = Field(description="Extension: true when the documents do not answer the question.")


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatReply
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "docs-assistant"
    name: str = Field(description="Extension: the answerer's label, and the knowledge base of an id `kind@kb`.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
