"""The API's request and response models: what /docs shows, and what the routes validate.

Response models allow extra keys: the answer JSON may gain keys (docs/design.md, "The JSON answer")
and the API passes them through rather than dropping them.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.history import COMMENT_CHARS, TITLE_CHARS

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


class DeletedOut(BaseModel):
    deleted: str = Field(description="The knowledge base deleted, with its documents and uploaded copies.")


class AskRequest(BaseModel):
    question: str = Field(description="The question.", examples=["Who denied involvement?"])
    history: list[tuple[str, str]] = Field(default=[], description="Earlier (question, answer) turns, oldest first.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="Passages to answer from.")
    sources: list[str] | None = Field(default=None, description="Only search these sources.")
    stream: bool = Field(default=False, description="Reply with server-sent events (see docs/api.md) instead of "
                                                    "one JSON answer.")
    conversation: str | None = Field(default=None, description='Save the turn in this conversation (an id), or '
                                     'in a new one ("new"); its earlier turns are the history unless `history` is '
                                     'given. Omitted: nothing is saved.', examples=["new"])


class CitationPlace(BaseModel):
    """Where a citation is in a paged document (PDF pages, slides, sheets)."""

    page: int | None = Field(None, description="The page (slide, sheet), from 1, that the cited sentence starts "
                                               "on; null when the document has no pages.")
    page_kind: str | None = Field(None, description="What `page` counts: `page`, `slide` or `sheet`; null "
                                                    "without a page.")
    ocr: bool = Field(False, description="Some of the cited passage was read by OCR (it may hold misread words).")


class CitationOut(CitationPlace):
    """Passage `n`: `sentence` occurs verbatim in `text`, which is the document's text[start:end]."""

    model_config = ConfigDict(extra="allow")

    n: int
    source: str
    title: str
    text: str = Field(description="The cited passage.")
    sentence: str = Field(description="The sentence of the passage the answer relies on.")
    start: int = Field(description="Offset of the passage in the document's text (GET /documents/{source}).")
    end: int
    score: float
    chunk_id: str = ""


class HitOut(BaseModel):
    """A retrieved passage with how it ranked."""

    model_config = ConfigDict(extra="allow")

    id: str
    doc_id: str
    source: str
    title: str
    chunk_index: int
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(None, description="The page the passage starts on; null when its document has none.")
    page_breaks: list[int] = Field([], description="Offsets where the pages after `page` start inside the passage.")
    page_kind: str = "page"
    ocr: bool = False
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    bm25_score: float | None = None


class AnswerOut(BaseModel):
    """The answer: `[n]` in `answer` is `citations[n-1]` (the same object as `assistant ask --json`)."""

    model_config = ConfigDict(extra="allow")

    question: str
    answer: str
    short: str | None = Field(None, description="The exact phrase that answers, as the reader found it in the "
                                                "first cited sentence; null when the answer declines or the "
                                                "answerer does not extract one.")
    short_start: int | None = Field(None, description="Where `short` starts in the first citation's document "
                                                      "text (the offsets citations use).")
    short_end: int | None = Field(None, description="Where `short` ends in that text.")
    abstained: bool
    confidence: float | None = Field(None, description="The extractive answerer's estimate (0-1) that the answer "
                                                       "is right; null for other answerers.")
    citations: list[CitationOut]
    query: str = Field(description="What was searched for: the question rewritten from the conversation.")
    hits: list[HitOut]
    notes: list[str]
    details: list[str]
    unsupported: list[str]
    answered_by: str = Field(description="The answerer kind that wrote the answer: the one asked for, or "
                                         "`extractive` when it stood in for an LLM answer that did not verify.")
    timings_ms: dict[str, float]
    conversation: str | None = Field(None, description="Only when asked in a conversation: its id (that of the new "
                                                       "one for \"new\").")
    turn: int | None = Field(None, description="Only when asked in a conversation: the saved turn's id (for "
                                               "feedback); null when it could not be saved (a note says why).")


class SourceOut(BaseModel):
    """One indexed document."""

    model_config = ConfigDict(extra="allow")

    doc_id: str
    source: str
    title: str
    sha256: str
    chunks: int
    mtime: float
    indexed_at: float
    page_count: int = Field(0, description="Its pages (slides, sheets); 0 when the format has none.")
    page_kind: str = "page"
    ocr_pages: list[int] = Field([], description="The numbers of the pages read by OCR.")


class DocumentOut(SourceOut):
    text: str = Field(description="The cleaned text citation offsets point into.")
    page_starts: list[int] = Field([], description="Where each page starts in `text`: page n is "
                                                   "text[page_starts[n-1]:page_starts[n]].")


class RemovedOut(BaseModel):
    removed: str = Field(description="The source removed from the index.")


class IngestRequest(BaseModel):
    paths: list[str] = Field(description="Files or folders on the server's disk, inside `[server] ingest_roots`.")
    prune: bool = Field(default=False, description="Remove indexed files that vanished from these folders.")


class FailedFile(BaseModel):
    source: str
    error: str | None


class IngestReportOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    failed: list[FailedFile]
    skipped: list[str] = Field([], description="Files in the folders not ingested: not of a supported type.")
    chunks: int
    seconds: float


class UploadedFileOut(BaseModel):
    name: str = Field(description="The file name as given, without any folder part.")
    status: Literal["added", "updated", "unchanged", "failed"]
    source: str = Field(description="The indexed copy in `<home>/uploads/`; empty when it failed.")
    chunks: int
    error: str | None


class UploadReportOut(IngestReportOut):
    """The ingest report of the stored copies; a file that failed is listed in `failed` under its given name."""

    files: list[UploadedFileOut] = Field(description="One line per uploaded file, in the order sent.")


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


class DeletedOut(BaseModel):
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
    top_k: int | None = Field(default=None, ge=1, le=50, description="Extension: passages to answer from.")
    sources: list[str] | None = Field(default=None, description="Extension: only search these sources.")


class ChatCitation(CitationPlace):
    n: int
    source: str
    title: str
    text: str = Field(description="The cited passage.")
    sentence: str
    start: int
    end: int


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
