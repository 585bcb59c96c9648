"""What the routes share: the assistants (per knowledge base and answerer kind), readiness, ingest roots, uploads."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from assistant.answerers import available_kinds
from assistant.bases import OpenBases
from assistant.core import Assistant
from assistant.errors import ModelError
from assistant.uploads import check_uploads, ingest_uploads
from vectorstore.errors import StoreError


class Readiness:
    """Whether the store answers and the model is loaded; the model loads in the background at start-up."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.model_error: str | None = None

    def load_model(self) -> None:
        try:
            self.assistant.load_models()
        except ModelError as exc:
            self.model_error = str(exc)
        except Exception as exc:  # a broken install: say what, /health stays 503  # noqa: BLE001
            self.model_error = f"the model failed to load ({type(exc).__name__}: {exc})"

    def store(self) -> str:
        try:
            self.assistant.store.check()  # a probe must reach the store, not its cached answer
        except StoreError as exc:
            return str(exc)
        return "ok"

    def model(self) -> str:
        if self.model_error:
            return self.model_error
        return "ok" if self.assistant.models_loaded else "loading"

    def report(self) -> dict:
        state = {"store": self.store(), "model": self.model()}
        state["status"] = "ok" if all(v == "ok" for v in state.values()) else "unavailable"
        return state


class Service:
    """The assistants behind the API, and the server settings they are served with.

    `assistant` is the one the server was started with: its knowledge base is the one of the routes
    without `/kb/NAME` and of the model ids without `@NAME`; `bases` opens the others on first use."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.readiness = Readiness(assistant)
        self.bases = OpenBases(assistant)
        server = assistant.settings.server
        self.ingest_roots = [Path(root).expanduser().resolve() for root in server.ingest_roots]

    def kinds(self) -> list[str]:
        """The answerer kinds this server can answer with (the LLM only when one is configured)."""
        return available_kinds(self.settings)

    def outside_roots(self, path: str) -> Path | None:
        """The resolved path when it is outside every ingest root (after symlinks and `..`), else None."""
        resolved = Path(path).expanduser().resolve()
        if any(resolved == root or resolved.is_relative_to(root) for root in self.ingest_roots):
            return None
        return resolved

    def upload(self, bot: Assistant, files: list[tuple[BinaryIO, str]]) -> dict:
        """Store and ingest uploaded (contents, given name) pairs into `bot`'s knowledge base with the chat UI's
        upload service; the report.

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
            return ingest_uploads(bot, staged).to_dict()
