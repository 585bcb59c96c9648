"""Ask your documents: cited answers from your own files.

    from assistant import Assistant
    assistant = Assistant.open()
    assistant.ingest("data/sample")
    print(assistant.ask("Who denied involvement?").text)
"""
from assistant.answer import Answer, Citation
from assistant.core import Assistant
from assistant.errors import (AssistantError, BackendUnavailable, ConfigError, EmptyIndex, EmptyQuestion,
                              UnknownSource)
from assistant.settings import Settings
from ingest.errors import IngestError
from ingest.report import FileResult, IngestReport
from vectorstore.errors import StoreUnavailable
from vectorstore.records import DocumentRecord, Hit

__all__ = ["Answer", "Assistant", "AssistantError", "BackendUnavailable", "Citation", "ConfigError",
           "DocumentRecord", "EmptyIndex", "EmptyQuestion", "FileResult", "Hit", "IngestError", "IngestReport",
           "Settings", "StoreUnavailable", "UnknownSource"]
