"""Errors of the answering layer, and `failure`: how every front end shows one (an HTTP status and one line)."""
from typing import NamedTuple

from ingest.errors import EmptyDocument, FileTooLarge, IngestError, PathNotFound, UnsupportedFile
from ingest.files import printable
from vectorstore.errors import MissingNamespace, ModelError, StoreBusy, StoreError, StoreUnavailable


class AssistantError(Exception):
    """A user-facing problem with a question, a setting or the index."""


class ConfigError(AssistantError):
    """The settings file or a setting is invalid."""


class EmptyQuestion(AssistantError):
    """The question has no text."""


class InvalidText(AssistantError):
    """A question (or other text) is not valid Unicode: undecodable bytes, lone surrogates."""


class InvalidInput(AssistantError):
    """A request's value out of its bounds or shape (a top_k over the most, a history that is not pairs)."""


class EmptyIndex(AssistantError):
    """Nothing has been ingested yet."""


class UnknownSource(AssistantError):
    """A source filter names nothing that is indexed."""


class KnowledgeBaseError(AssistantError):
    """A knowledge base cannot be made or deleted as asked (it exists already; the default one)."""


class UnknownKnowledgeBase(KnowledgeBaseError):
    """A name that is no knowledge base of this home or Chroma server."""


class InvalidKnowledgeBaseName(KnowledgeBaseError):
    """A knowledge base name outside the allowed pattern (assistant.kbnames.NAME_RULE)."""


class Forbidden(AssistantError):
    """The principal may not read or change that knowledge base (assistant/access.py): HTTP 403."""


class WatchError(AssistantError):
    """--watch was given something it cannot watch (a file, not a folder)."""


class HistoryUnavailable(AssistantError):
    """The saved conversations' file cannot be used (not a database, locked, from a newer version, unwritable)."""


class UnknownConversation(AssistantError):
    """No conversation (or turn) of that id belongs to the one asking."""


class InvalidConversationInput(AssistantError):
    """A conversation's title, or a rating or comment on a turn, that cannot be saved (empty, out of range, too long)."""


class CitedDocumentGone(AssistantError):
    """A (saved) answer cites a document that is no longer indexed."""


class CitedDocumentChanged(AssistantError):
    """A (saved) answer cites a document whose text at the cited place is no longer the cited passage."""


class BackendUnavailable(AssistantError):
    """An answerer backend (LLM server, optional package) cannot be used."""


class LLMUnreachable(BackendUnavailable):
    """Nothing answers at the LLM endpoint (connection refused, unknown host)."""


class LLMTimeout(BackendUnavailable):
    """The LLM endpoint did not answer within `[llm] timeout`."""


class LLMAuthError(BackendUnavailable):
    """The LLM endpoint refused the API key (HTTP 401/403)."""


class LLMModelNotFound(BackendUnavailable):
    """The LLM endpoint does not serve `[llm] model`."""


class LLMBadReply(BackendUnavailable):
    """The LLM endpoint answered with an error or a reply that is not the OpenAI protocol (HTTP 502)."""


class ContextOverflow(BackendUnavailable):
    """The prompt does not fit the model's context window: retry with fewer passages.

    `prompt_tokens` and `context_tokens` are the server's counts when it gave them, else None.
    """

    def __init__(self, message: str, prompt_tokens: int | None = None, context_tokens: int | None = None):
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.context_tokens = context_tokens


# Everything the outer layers turn into a one-line message rather than a traceback.
USER_ERRORS = (AssistantError, IngestError, StoreError, ModelError)

# The HTTP status of each user-facing error, the first that fits (400 when none does). A knowledge base is only
# ever named to select it over HTTP: an invalid name is one that does not exist. A lost Chroma server is
# StoreUnavailable (vectorstore/boundary.py says it in one line): 503.
STATUS = [(Forbidden, 403), (EmptyQuestion, 422), (InvalidText, 422), (InvalidInput, 422),
          (InvalidConversationInput, 422), (UnknownSource, 404), (PathNotFound, 404), (UnknownConversation, 404),
          (HistoryUnavailable, 503), (UnknownKnowledgeBase, 404), (InvalidKnowledgeBaseName, 404),
          (MissingNamespace, 404), (KnowledgeBaseError, 409), (EmptyIndex, 409),
          (StoreBusy, 409), (StoreUnavailable, 503), (LLMBadReply, 502), (BackendUnavailable, 503), (ModelError, 503),
          (FileTooLarge, 413), (UnsupportedFile, 415), (EmptyDocument, 422)]


class Failure(NamedTuple):
    """A user-facing error as a front end shows it: the HTTP API answers `status`; the CLI prints
    `Error: <message>` and exits 1; the chat UI and its endpoints show `message`."""

    status: int
    message: str  # one line; bytes that are not UTF-8 (a path's) as \xNN escapes


def status_for(exc: BaseException) -> int:
    """The HTTP status of a user-facing error (400 when nothing more specific fits)."""
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def failure(exc: BaseException) -> Failure | None:
    """How the front ends show `exc`; None when it is not a user-facing error (USER_ERRORS) but a bug."""
    if not isinstance(exc, USER_ERRORS):
        return None
    return Failure(status_for(exc), printable(str(exc)) or type(exc).__name__)

__all__ = ["STATUS", "USER_ERRORS", "AssistantError", "BackendUnavailable", "CitedDocumentChanged", "CitedDocumentGone",
           "ConfigError", "ContextOverflow", "EmptyIndex", "EmptyQuestion", "Failure", "Forbidden", "HistoryUnavailable",
           "IngestError", "InvalidConversationInput", "InvalidInput", "InvalidKnowledgeBaseName", "InvalidText", "KnowledgeBaseError",
           "LLMAuthError", "LLMBadReply", "LLMModelNotFound", "LLMTimeout", "LLMUnreachable", "MissingNamespace",
           "ModelError", "StoreError", "StoreUnavailable", "UnknownConversation", "UnknownKnowledgeBase", "UnknownSource",
           "WatchError", "failure", "status_for"]
