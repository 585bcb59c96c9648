"""A mail's attachments as documents of their own (ingest/mail.py gives their bytes).

An attachment's source is the mail's, `#`, and its name (`/home/ada/mail/budget.eml#report.pdf`, see
ingest.files.attachment_source): `sources` lists it, a citation names it, and what is done to the mail is done to
its attachments too: removing or pruning the mail removes them, a changed mail replaces them (an attachment no
longer in it is removed), an unchanged mail leaves them as they are, without reading them again. An attachment
of a type ingest does not read is reported as skipped. Attachments of an attached message are not expanded (the
attached message lists their names).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ingest.documents import Document
from ingest.errors import IngestError, UnsupportedFile
from ingest.files import ATTACHMENT, attachment_source, mail_of
from ingest.limits import Limits
from ingest.loading import load_file
from ingest.readers import reader_for

# One prepared source: (source, sha256, document or None if unchanged or failed, chunks, error message or None).
Entry = tuple[str, str, Document | None, list | None, str | None]


def by_mail(committed: dict[str, str]) -> dict[str, list[str]]:
    """The committed attachments' sources, by their mail's source."""
    found: dict[str, list[str]] = {}
    for source in committed:
        if (mail := mail_of(source)) is not None:
            found.setdefault(mail, []).append(source)
    return found


def prepare(doc: Document, committed: dict[str, str], limits: Limits, chunk: Callable[[Document], tuple],
            progress: Callable[[str, str], None]) -> tuple[list[Entry], list[str]]:
    """The entries of a mail's attachments, and the sources of those skipped as not a supported type; each
    read (in the reader worker, under [ingest] read_timeout) and chunked unless unchanged."""
    entries: list[Entry] = []
    skipped: list[str] = []
    for name, data in doc.attachments:
        source = attachment_source(doc.source, name)
        try:
            reader_for(Path(name))
        except UnsupportedFile:
            skipped.append(source)
            continue
        sha = hashlib.sha256(data).hexdigest()
        if committed.get(source) == sha:
            entries.append((source, sha, None, None, None))
            continue
        try:
            part = load_file(Path(name), limits, data=data, mtime=doc.mtime, sha256=sha, source=source,
                             progress=lambda step, source=source: progress(source, step))
        except IngestError as exc:
            entries.append((source, sha, None, None, f"{Path(doc.source).name}{ATTACHMENT}{exc}"))  # mail.eml#a.pdf: ...
            continue
        part = replace(part, attachments=())  # an attached message's own attachments: not expanded
        entries.append((source, sha, part, *chunk(part)))
    return entries, skipped
