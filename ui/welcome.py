"""What a user sees first: the header, and the empty chat's invitation (examples, or how to add documents)."""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import PurePosixPath

from ui.panels import status_line
from vectorstore.records import DocumentRecord

PRODUCT = "Docs Assistant"
TITLE = f"{PRODUCT} · Ask your documents"
# The bundled sample corpus (data/sample): its questions are known to have cited answers.
SAMPLE_FILES = frozenset({"000_8bc013782648c3d5.txt", "001_0c9caba1aff1c6c0.txt", "002_529e4aac2a4b2b46.txt",
                          "003_e2e9fd2b9c1e80fc.txt", "004_7bdcd2d0aef0b556.txt"})
SAMPLE_QUESTIONS = ("Who denied involvement?", "What did Assange release?",
                    "What did the Kremlin say about WikiLeaks?")


def header_html(records: Sequence[DocumentRecord]) -> str:
    """The product name, what it does, and how much is indexed."""
    pill = "pill" if records else "pill empty"
    return (f'<div class="brand"><div class="logo" aria-hidden="true">D</div><div><h1>{PRODUCT}</h1>'
            f'<p class="tagline">Ask your documents. Every answer cites the passages it comes from.</p></div>'
            f'<span class="{pill}" id="index-status">{escape(status_line(records))}</span></div>')


def examples(records: Sequence[DocumentRecord]) -> list[dict]:
    """Example questions for the empty chat: only where they are known to work (the sample corpus)."""
    names = {PurePosixPath(r.source).name for r in records}
    if names & SAMPLE_FILES:
        return [{"text": q} for q in SAMPLE_QUESTIONS]
    return []


def placeholder(records: Sequence[DocumentRecord]) -> str:
    """Markdown shown in the empty chat."""
    if not records:
        return ("### Nothing indexed yet\n\nAdd documents in the **Documents** sidebar: drop PDF, DOCX, HTML, "
                "Markdown or text files there, or run `assistant ingest PATH`. Then ask away.")
    return (f"### Ask your documents\n\n{status_line(records)} indexed. Answers cite their sources: "
            "click a **[n]** to read the passage.")
