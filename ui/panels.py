"""HTML for the side panels: the sources list, the document viewer, "why this answer", upload results."""
from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from assistant.answer import Answer, page_label
from assistant.uploads import UploadResult
from ui.citations import open_link, short_source
from vectorstore.records import DocumentRecord

VIEW_WINDOW = 60_000  # characters shown around a position in a very long document


def status_line(records: Sequence[DocumentRecord]) -> str:
    """'5 documents · 22 passages' (or that nothing is indexed)."""
    if not records:
        return "No documents indexed yet"
    chunks = sum(r.chunks for r in records)
    return f"{len(records)} document{'s' if len(records) != 1 else ''} · {chunks} passage{'s' if chunks != 1 else ''}"


def sources_html(records: Sequence[DocumentRecord], now: float | None = None) -> str:
    """What is indexed: title, source, passages and when, each with a link to open it."""
    if not records:
        return ('<div class="sources empty"><p><b>Nothing indexed yet.</b></p><p>Drop PDF, DOCX, HTML, Markdown or '
                'text files above, or run <code>assistant ingest PATH</code>.</p></div>')
    now = now or time.time()
    rows = []
    for r in sorted(records, key=lambda r: (r.title or r.source).lower()):
        rows.append(
            f'<li><a class="open-doc doc-title" href="{escape(open_link(r.source))}" title="Open {escape(r.source)}">'
            f'{escape(r.title or short_source(r.source))}</a>'
            f'<div class="meta"><span class="src" title="{escape(r.source)}">{escape(short_source(r.source))}</span>'
            f' · {r.chunks} passage{"s" if r.chunks != 1 else ""} · '
            f'<span title="{escape(_stamp(r.indexed_at))}">{escape(ago(r.indexed_at, now))}</span></div></li>')
    return f'<ul class="sources">{"".join(rows)}</ul>'


def document_html(record: DocumentRecord, passage: tuple[int, int] | None = None,
                  sentence: tuple[int, int] | None = None) -> str:
    """The whole cleaned document, the cited passage shaded and the cited sentence marked."""
    text = record.text
    begin, finish = 0, len(text)
    if len(text) > VIEW_WINDOW:  # keep the page light: a window around the position
        centre = passage[0] if passage else 0
        begin = max(0, min(centre - VIEW_WINDOW // 2, len(text) - VIEW_WINDOW))
        finish = begin + VIEW_WINDOW
    marks = []  # (offset, html) boundaries, applied in order
    if passage:
        p0, p1 = _clip(passage, begin, finish)
        marks += [(p0, 0, '<span class="passage" id="doc-passage">'), (p1, 3, "</span>")]
        if sentence:
            s0, s1 = _clip((max(sentence[0], passage[0]), min(sentence[1], passage[1])), begin, finish)
            if s0 < s1:
                marks += [(s0, 1, "<mark>"), (s1, 2, "</mark>")]
    marks += _page_marks(record, begin, finish)
    out, last = [], begin
    for offset, _, tag in sorted(marks):
        out += [escape(text[last:offset]), tag]
        last = offset
    out.append(escape(text[last:finish]))
    before = f'<p class="cut">… {begin:,} characters above</p>' if begin else ""
    after = f'<p class="cut">… {len(text) - finish:,} characters below</p>' if finish < len(text) else ""
    where = f" · {_where(record, passage, sentence)}" if passage else ""
    title = escape(record.title or short_source(record.source))
    return (f'<div class="doc"><div class="doc-head"><div class="doc-title">{title}</div>'
            f'<div class="meta" title="{escape(record.source)}">{escape(record.source)}{where}</div></div>'
            f'<div class="doc-body">{before}<div class="doc-text">{"".join(out)}</div>{after}</div></div>')


def _page_marks(record: DocumentRecord, begin: int, finish: int) -> list[tuple[int, int, str]]:
    # A label where each page (slide, sheet) starts, before any other mark at that offset; one without text
    # is labelled too, so the numbering shown is the document's own.
    ends = record.page_starts[1:] + (len(record.text),)
    return [(start, -1, f'<span class="page-mark" id="doc-page-{n}">{escape(page_label(record.page_kind, n))}'
                        f'{" (no text)" if start == end else ""}</span>')
            for n, (start, end) in enumerate(zip(record.page_starts, ends), 1) if begin <= start <= finish]


def _where(record: DocumentRecord, passage: tuple[int, int], sentence: tuple[int, int] | None) -> str:
    # "p. 4" for a paged document (the page of the cited sentence), else the passage's characters.
    page = record.page_at(sentence[0] if sentence else passage[0])
    if page is None:
        return f"characters {passage[0]:,}–{passage[1]:,}"
    return page_label(record.page_kind, page)


def viewer_placeholder(indexed: bool) -> str:
    """The viewer before anything is opened."""
    tip = ("Ask a question, then click a <b>[n]</b> marker or <b>Open in document</b> to read the cited "
           "passage in its document." if indexed else "Add documents in the sidebar to start.")
    return f'<div class="doc empty"><p>{tip}</p></div>'


def why_html(answer: Answer | None) -> str:
    """How the answer was found: the rewritten query and each retrieved passage's ranks."""
    if answer is None:
        return '<div class="why empty"><p>Ask a question to see how its answer was found.</p></div>'
    cited: dict[str, list[int]] = {}
    for c in answer.citations:
        cited.setdefault(c.chunk_id, []).append(c.n)
    rewritten = answer.query and answer.query != answer.question
    query = (f'<p><b>Searched for:</b> “{escape(answer.query)}” '
             '<span class="meta">(rewritten from the conversation)</span></p>'
             if rewritten else f'<p><b>Searched for:</b> “{escape(answer.query or answer.question)}”</p>')
    timing = answer.timings_ms
    times = (f'<p class="meta">retrieval {timing.get("retrieve", 0):.0f} ms · '
             f'answer {timing.get("answer", 0):.0f} ms · '
             f'total {timing.get("total", 0):.0f} ms</p>') if timing else ""
    rows = []
    for i, h in enumerate(answer.hits, 1):
        ch = h.chunk
        tag = "".join(f'<span class="cited" title="Cited in the answer">[{n}]</span>' for n in cited.get(ch.id, []))
        rows.append(
            f'<tr><td>{i}</td><td><a class="open-doc" href="{escape(open_link(ch.source, ch.start, ch.end))}" '
            f'title="{escape(ch.text[:400])}">{escape(ch.title or short_source(ch.source))}</a>{tag}'
            f'<div class="meta">{escape(short_source(ch.source))} · #{ch.chunk_index}</div></td>'
            f'<td>{_rank(h.dense_rank)}</td><td>{_rank(h.bm25_rank)}</td><td>{h.score:.4f}</td></tr>')
    table = ('<table><thead><tr><th>#</th><th>Passage</th><th title="Rank in the embedding search">Dense</th>'
             '<th title="Rank in the keyword (BM25) search">BM25</th>'
             '<th title="Reciprocal rank fusion score">Fused</th>'
             f'</tr></thead><tbody>{"".join(rows)}</tbody></table>') if rows else "<p>No passages were retrieved.</p>"
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in answer.notes + answer.details)
    verdict = ("abstained: the evidence was too weak" if answer.abstained
               else f"{len(answer.citations)} passage(s) cited")
    return f'<div class="why">{query}<p class="meta">{verdict}</p>{times}{notes}{table}</div>'


def uploads_html(results: Sequence[UploadResult]) -> str:
    """One line per uploaded file: added / updated / unchanged, or failed with the reason."""
    if not results:
        return ""
    rows = []
    for r in results:
        detail = escape(r.error or "") if r.status == "failed" else f"{r.chunks} passage{'s' if r.chunks != 1 else ''}"
        if r.status == "unchanged":
            detail = "already indexed"
        rows.append(f'<li class="{escape(r.status)}"><span class="badge">{escape(r.status)}</span>'
                    f'<span class="name">{escape(r.name)}</span><div class="meta">{detail}</div></li>')
    return f'<ul class="upload-results" aria-live="polite">{"".join(rows)}</ul>'


def ago(ts: float, now: float) -> str:
    """A short relative time: 'just now', '5 min ago', '3 h ago', or a date."""
    delta = max(0.0, now - ts)
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)} min ago"
    if delta < 86400:
        return f"{int(delta // 3600)} h ago"
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def _stamp(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _rank(rank: int | None) -> str:
    return str(rank) if rank is not None else '<span class="meta">–</span>'


def _clip(span: tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
    return min(max(span[0], lo), hi), min(max(span[1], lo), hi)
