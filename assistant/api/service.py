"""What the routes share: the Assistant (one view per answerer kind), its readiness, the ingest roots, uploads."""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from assistant.answerers import available_kinds
from assistant.core import Assistant
from assistant.errors import ModelError
from assistant.uploads import check_uploads, ingest_uploads
from vectorstore.errors import StoreError, lost_connection, unreachable


class Readiness:
    """Whether the store answers and the model is loaded; the model loads in the background at start-up."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.model_error: str | None = None

    def load_model(self) -> None:
        try:
            self.assistant.embedder.model
        except ModelError as exc:
            self.model_error = str(exc)
        except Exception as exc:  # a broken install: say what, /health stays 503  # noqa: BLE001
            self.model_error = f"the model failed to load ({type(exc).__name__}: {exc})"

    def store(self) -> str:
        try:
            self.assistant.store.generation(fresh=True)  # a probe must reach the store, not its cached answer
        except StoreError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
            url = self.assistant.settings.chroma_url
            if url and lost_connection(exc):
                return str(unreachable(url))
            return f"the store failed ({type(exc).__name__})"
        return "ok"

    def model(self) -> str:
        if self.model_error:
            return self.model_error
        return "ok" if self.assistant.embedder.loaded else "loading"

    def report(self) -> dict:
        state = {"store": self.store(), "model": self.model()}
        state["status"] = "ok" if all(v == "ok" for v in state.values()) else "unavailable"
        return state


class Service:
    """The Assistant behind the API, and the server settings it is served with."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.readiness = Readiness(assistant)
        server = assistant.settings.server
        self.api_keys = [key.get_secret_value().encode("utf-8") for key in server.api_keys]
        self.ingest_roots = [Path(root).expanduser().resolve() for root in server.ingest_roots]
        self._views = {assistant.settings.answer.kind: assistant}
        self._lock = threading.Lock()

    def kinds(self) -> list[str]:
        """The answerer kinds this server can answer with (the LLM only when one is configured)."""
        return available_kinds(self.settings)

    def with_answerer(self, kind: str) -> Assistant:
        """The assistant answering with `kind`, made once and kept (it shares the store and the model)."""
        with self._lock:
            if kind not in self._views:
                self._views[kind] = self.assistant.with_answerer(kind)
            return self._views[kind]

    def outside_roots(self, path: str) -> Path | None:
        """The resolved path when it is outside every ingest root (after symlinks and `..`), else None."""
        resolved = Path(path).expanduser().resolve()
        if any(resolved == root or resolved.is_relative_to(root) for root in self.ingest_roots):
            return None
        return resolved

    def upload(self, files: list[tuple[BinaryIO, str]]) -> dict:
        """Store and ingest uploaded (contents, given name) pairs with the chat UI's upload service; the report.

        Each upload is first written to a private scratch folder under a number, never under its
        given name. Any refused file (type, size, empty) is raised before anything is copied or indexed."""
        with tempfile.TemporaryDirectory(prefix="docs-assistant-upload-") as scratch:
            staged = []
            for i, (contents, name) in enumerate(files):
                temp = Path(scratch) / str(i)
                with temp.open("wb") as out:
                    shutil.copyfileobj(contents, out)
                staged.append((temp, name))
            check_uploads(self.settings, staged)
            return ingest_uploads(self.assistant, staged).to_dict()
