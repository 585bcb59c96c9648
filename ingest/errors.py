"""Errors of the ingest layer; each message says what is wrong and what to do."""
from vectorstore.errors import StoreUnavailable


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


class NotARegularFile(UnreadableFile):
    """A FIFO, socket or device: reading it could block forever or never end."""


class ReadTimeout(UnreadableFile):
    """Reading the file took longer than [ingest] read_timeout: its parser was stopped."""


class FileTooLarge(IngestError):
    """A file, or what it unpacks to, is over one of the [ingest] limits."""


class ReaderOutOfMemory(FileTooLarge):
    """Parsing the file needed more memory than [ingest] reader_memory_mb gives the worker process."""


class IngestInterrupted(IngestError, StoreUnavailable):
    """The store failed mid-ingest: the run stopped; what was committed before is kept."""
