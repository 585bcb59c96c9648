"""Loading, cleaning, chunking and syncing documents into the store."""
from ingest.chunking import Chunker
from ingest.documents import Document
from ingest.errors import (EmptyDocument, FileTooLarge, IngestError, IngestInterrupted, NothingToIngest,
                           NotARegularFile, PathNotFound, ReadTimeout, UnreadableFile, UnsupportedFile)
from ingest.limits import Limits
from ingest.progress import IngestProgress
from ingest.report import FileResult, IngestReport
from ingest.sync import Ingestor, SyncPlan, plan_sync

__all__ = ["Chunker", "Document", "EmptyDocument", "FileResult", "FileTooLarge", "IngestError", "IngestInterrupted",
           "IngestProgress", "IngestReport", "Ingestor", "Limits", "NotARegularFile", "NothingToIngest", "PathNotFound",
           "ReadTimeout", "SyncPlan", "UnreadableFile", "UnsupportedFile", "plan_sync"]
