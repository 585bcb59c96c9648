"""Errors of the answering layer; the CLI prints their message as one line and exits 1."""
from ingest.errors import IngestError
from vectorstore.errors import ModelError, StoreError, StoreUnavailable


class AssistantError(Exception):
    """A user-facing problem with a question, a setting or the index."""


class ConfigError(AssistantError):
    """The settings file or a setting is invalid."""


class EmptyQuestion(AssistantError):
    """The question has no text."""


class InvalidText(AssistantError):
    """A question (or other text) is not valid Unicode: undecodable bytes, lone surrogates."""


class EmptyIndex(AssistantError):
    """Nothing has been ingested yet."""


class UnknownSource(AssistantError):
    """A source filter names nothing that is indexed."""


class BackendUnavailable(AssistantError):
    """An answerer backend (LLM server, optional package) cannot be used."""


# Everything the outer layers turn into a one-line message rather than a traceback.
USER_ERRORS = (AssistantError, IngestError, StoreError, ModelError)

__all__ = ["USER_ERRORS", "AssistantError", "BackendUnavailable", "ConfigError", "EmptyIndex", "EmptyQuestion",
           "IngestError", "InvalidText", "ModelError", "StoreError", "StoreUnavailable", "UnknownSource"]
