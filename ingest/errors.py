"""Errors of the ingest layer; each message says what is wrong and what to do."""


class IngestError(Exception):
    """A path or file could not be ingested."""


class PathNotFound(IngestError):
    """A path given to ingest does not exist."""


class NothingToIngest(IngestError):
    """A folder holds no file we can read."""


class UnsupportedFile(IngestError):
    """The file is not of a type we read, or is not what its extension claims."""


class EmptyDocument(IngestError):
    """The file has no text to index."""


class UnreadableFile(IngestError):
    """The file exists but cannot be read (permissions, corruption, password)."""
