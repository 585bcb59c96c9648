"""The `assistant` command: ingest, ask, sources, remove, chat, eval, serve, and kb list|create|delete.

An adapter over the application service (assistant/service.py): each command builds it for its home,
config and knowledge base, calls it, and prints; a user-facing error is `Error: <one line>` and exit 1
(base.main). base.py holds the app and its options; documents.py the commands on documents; runs.py
the long-running ones (chat, eval, serve); groups.py `kb` and `feedback`. Importing it loads no model,
Chroma or Gradio: each command imports what it needs.
"""
from assistant.cli import documents, groups, runs  # noqa: F401 - each registers its commands on `app`
from assistant.cli.base import app, main

__all__ = ["app", "main"]
