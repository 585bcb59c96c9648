"""Terminal rendering for the CLI (rich): ingest reports, answers with highlighted citations, sources."""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from assistant.answer import Answer
from assistant.answerers.base import Revision
from ingest.files import mail_of
from ingest.progress import IngestProgress
from ingest.report import IngestReport
from vectorstore.records import DocumentRecord

STATUS_STYLE = {"added": "green", "updated": "cyan", "unchanged": "dim", "removed": "yellow", "failed": "bold red"}


def short(source: str) -> str:
    """A source as the user would type it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(source)
    except ValueError:
        return source
    return rel if not rel.startswith("..") else source


class RichIngestProgress(IngestProgress):
    """Files and chunks progress bars on stderr."""

    def __init__(self, console: Console):
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=console, transient=True)
        self.files_task = self.bar.add_task("files", total=None)
        self.chunks_task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar.live.is_started:
            self.bar.stop()

    def files(self, total: int) -> None:
        # Started only once the paths are known good: a bad path prints its error line alone. Not drawn where
        # no one watches (stderr is a file or pipe): there it would only leave a blank line before an error.
        if self.bar.console.is_terminal:
            self.bar.start()
        self.bar.update(self.files_task, total=total)

    def reading(self, source: str, step: str) -> None:
        # "OCR page 3/12 of scan.pdf" as the files bar's label while a long file is read; the next file resets it.
        self.bar.update(self.files_task, description=f"{step} of {os.path.basename(source)}")

    def file_started(self, source: str, chunks: int) -> None:
        # Files are embedded in batches: one bar over every chunk queued so far.
        if self.chunks_task is None:
            self.chunks_task = self.bar.add_task("embedding", total=0)
        self.bar.update(self.chunks_task, total=self.bar.tasks[self.chunks_task].total + chunks)

    def embedded(self, n: int) -> None:
        if self.chunks_task is not None:
            self.bar.advance(self.chunks_task, n)

    def file_done(self, result) -> None:
        if result.status != "removed" and mail_of(result.source) is None:  # files, not a mail's attachments
            self.bar.update(self.files_task, advance=1, description="files")


def print_report(console: Console, report: IngestReport, verbose: bool = False) -> None:
    """Per-file table and totals; verbose: also the files skipped as not a supported type."""
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("status")
    table.add_column("source")
    table.add_column("chunks / reason")
    for r in report.results:
        # Text, not str: a reason says "[ingest] max_pages", a name may be "[draft].txt"; neither is Rich markup.
        table.add_row(Text(r.status, style=STATUS_STYLE[r.status]), Text(short(r.source)),
                      Text(r.error or (str(r.chunks) if r.chunks else "")))
    console.print(table)
    if verbose and report.skipped:
        console.print(Text("skipped (not a supported type):", style="dim"))
        for source in report.skipped:
            console.print(Text(f"  {short(source)}", style="dim"))
    counts = report.to_dict()
    skipped = f", {len(report.skipped)} skipped (not a supported type{'' if verbose else '; --verbose lists them'})" \
        if report.skipped else ""
    console.print(", ".join(f"{len(counts[s])} {s}" for s in ("added", "updated", "unchanged", "removed", "failed"))
                  + f"{skipped}; {report.chunks} chunks embedded in {report.seconds:.1f} s")


def stream_answer(console: Console, pieces: Iterator[str | Revision | Answer]) -> Answer:
    """Show an answer live as it streams in (verified sentences replace the raw text); return it."""
    from rich.live import Live

    shown = ""
    with Live(Text(""), console=console, transient=True, refresh_per_second=12) as live:
        for piece in pieces:
            if isinstance(piece, Answer):
                return piece
            shown = piece.text if isinstance(piece, Revision) else shown + piece
            live.update(Text(shown, style="bold"))
    raise RuntimeError("the answer stream ended without an answer")


def print_answer(console: Console, answer: Answer) -> None:
    """The short answer (bold) when there is one, the answer's sentences, then each citation with its
    sentence highlighted inside the passage."""
    if answer.short:
        console.print(Text(answer.short, style="bold"))
    console.print(Text(answer.text, style="" if answer.short else "bold"))
    for note in answer.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    if answer.abstained and answer.hits:
        console.print(Text("\nClosest passages:", style="dim"))
        for i, hit in enumerate(answer.hits[:3], 1):
            console.print(Text(f"  {i}. {hit.chunk.title} — {short(hit.chunk.source)}", style="dim"))
    shared: dict[tuple[str, int, int], list] = {}  # citations of one passage are printed with it, once
    for c in answer.citations:
        shared.setdefault((c.source, c.start, c.end), []).append(c)
    for group in shared.values():
        first = group[0]
        console.print()
        where = "".join(f", {place}" for place in dict.fromkeys(c.location for c in group) if place)
        console.print(Text.assemble((" ".join(f"[{c.n}]" for c in group) + " ", "bold cyan"), (first.title, "bold"),
                                    " — ", (short(first.source) + where, "dim"),
                                    (" (read by OCR)" if first.ocr else "", "yellow")))
        passage = Text(first.text)
        for c in group:
            at = first.text.find(c.sentence)
            if at >= 0:
                passage.stylize("bold yellow", at, at + len(c.sentence))
        console.print(passage)
    t = answer.timings_ms
    console.print(Text(f"\nretrieve {t.get('retrieve', 0):.0f} ms · answer {t.get('answer', 0):.0f} ms · "
                       f"total {t.get('total', 0):.0f} ms", style="dim"))


_WHEN = "%Y-%m-%d %H:%M"  # when a source was indexed, as `sources` shows it
_SHA_SHOWN = 12  # hex digits of a source's sha256 in `sources`


def print_sources(console: Console, records: list[DocumentRecord]) -> None:
    """What is indexed."""
    # A source is printed whole, to be copied into `assistant remove`; the title is cut to make room, and a
    # narrow terminal leaves out the sha256 (`--json` has every field).
    widest = max((len(short(r.source)) for r in records), default=6)
    with_sha = console.width >= widest + 70
    rest = (widest + len("chunks") + _SHA_SHOWN * with_sha + len(datetime.fromtimestamp(0).strftime(_WHEN))
            + 2 * (4 + with_sha))  # + each column's padding
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("title", max_width=max(10, console.width - rest), no_wrap=True, overflow="ellipsis")
    table.add_column("source", no_wrap=True, min_width=widest)
    for col in ("chunks", "sha256", "indexed")[:: 1 if with_sha else 2]:
        table.add_column(col, no_wrap=True)
    for r in records:
        when = datetime.fromtimestamp(r.indexed_at).strftime(_WHEN)
        sha = (r.sha256[:_SHA_SHOWN],) if with_sha else ()
        table.add_row(Text(r.title[:60]), Text(short(r.source)), str(r.chunks), *sha, when)
    console.print(table)
    console.print(f"{len(records)} sources, {sum(r.chunks for r in records)} chunks")
