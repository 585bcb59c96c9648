"""HTML for chat answers: the text with clickable [n] markers and, under it, the cited passages.

Every piece of document text is escaped here; the chat shows this HTML as is (no Markdown),
so a `*` or `$` in a document stays a `*` or `$`.
"""
from __future__ import annotations

from html import escape
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode

from assistant.answer import MARK, Answer, Citation, page_label
from vectorstore.records import Hit

CLOSEST = 3  # passages shown under an abstention


def cite_id(turn: int, n: int) -> str:
    """The DOM id of citation n of a turn's answer (the target of its [n] marker)."""
    return f"cite-{turn}-{n}"


def open_link(source: str, start: int | None = None, end: int | None = None,
              sentence: tuple[int, int] | None = None, cite: tuple[int, int] | None = None) -> str:
    """The href that asks the document viewer to open `source` at a position (see app.js); `cite` (turn, n) says
    it is citation n of that turn's answer, so the viewer can check the document still reads as cited."""
    query = {"open": source}
    if start is not None and end is not None:
        query["p"] = f"{start}-{end}"
    if sentence:
        query["s"] = f"{sentence[0]}-{sentence[1]}"
    if cite:
        query["c"] = f"{cite[0]}-{cite[1]}"
    return "#" + urlencode(query, quote_via=quote)


def highlight(text: str, sentence: str, phrase: tuple[int, int] | None = None) -> str:
    """Escaped `text` with the first occurrence of `sentence` wrapped in <mark>, and inside it the
    characters text[phrase[0]:phrase[1]] (the short answer) in <strong>."""
    at = text.find(sentence) if sentence else -1
    if at < 0:
        return escape(text)
    end = at + len(sentence)
    inside = escape(text[at:end])
    if phrase and at <= phrase[0] < phrase[1] <= end:
        a, b = phrase
        inside = f"{escape(text[at:a])}<strong>{escape(text[a:b])}</strong>{escape(text[b:end])}"
    return f"{escape(text[:at])}<mark>{inside}</mark>{escape(text[end:])}"


def link_markers(text: str, turn: int, count: int) -> str:
    """Escaped answer text whose [n] markers (1..count) link to the citations below it."""
    out, last = [], 0
    for m in MARK.finditer(text):
        n = int(m.group(1))
        if not 1 <= n <= count:
            continue
        out += [escape(text[last:m.start()]),
                f'<a class="cite-ref" href="#{cite_id(turn, n)}" title="Show passage {n}">[{n}]</a>']
        last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def streaming_html(text: str, turn: int, count: int) -> str:
    """The answer while it streams in."""
    return (f'<div class="answer streaming"><p class="text">{link_markers(text, turn, count)}'
            '<span class="caret"></span></p></div>')


def pending_html() -> str:
    """Shown while the documents are searched."""
    return ('<div class="answer pending"><span class="dots"><i></i><i></i><i></i></span> '
            'Searching your documents…</div>')


def answer_html(answer: Answer, turn: int) -> str:
    """A finished answer: its short answer in bold (when it has one), its text, then its citations (or,
    when it abstains, the closest passages)."""
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in answer.notes)
    if answer.abstained:
        closest = [_hit_entry(h, turn, i) for i, h in enumerate(answer.hits[:CLOSEST], 1)]
        extra = (f'<div class="cites"><div class="cites-head">Closest passages (not enough to answer)</div>'
                 f'{"".join(closest)}</div>') if closest else ""
        return (f'<div class="answer abstained"><p><span class="badge">Not found</span> '
                f'{escape(answer.text)}</p>{notes}{extra}</div>')
    body = link_markers(answer.text, turn, len(answer.citations))
    phrase = answer.short_start, answer.short_end
    cites = "".join(citation_entry(c, turn, phrase if c.n == 1 and None not in phrase else None)
                    for c in answer.citations)
    count = len(answer.citations)
    head = f'<div class="cites-head">Sources · {count} passage{"s" if count != 1 else ""}</div>'
    short = f'<p class="short"><strong>{escape(answer.short)}</strong></p>' if answer.short else ""
    return f'<div class="answer">{short}<p class="text">{body}</p>{notes}<div class="cites">{head}{cites}</div></div>'


def citation_entry(c: Citation, turn: int, phrase: tuple[int, int] | None = None) -> str:
    """One citation: a summary line (number, title, source) that opens to the highlighted passage;
    `phrase` (document offsets) is the short answer, shown in bold inside the highlighted sentence."""
    link = open_link(c.source, c.start, c.end, c.sentence_span(), (turn, c.n))
    return (f'<details class="cite" id="{cite_id(turn, c.n)}"><summary><span class="num">{c.n}</span>'
            f'<span class="title">{escape(c.title or short_source(c.source))}</span>'
            f'<span class="src" title="{escape(c.source)}">{escape(short_source(c.source))}</span>'
            f'{_place(c.location, c.ocr)}</summary><blockquote class="passage">'
            f'{highlight(c.text, c.sentence, phrase and (phrase[0] - c.start, phrase[1] - c.start))}</blockquote>'
            f'<a class="open-doc" href="{escape(link)}">Open in document ↗</a></details>')


def _place(location: str, ocr: bool) -> str:
    # The page (slide, sheet) after the file name, and a warning that OCR read the text.
    page = f'<span class="page">{escape(location)}</span>' if location else ""
    return page + ('<span class="ocr" title="This text was read by OCR: words may be misread">OCR</span>'
                   if ocr else "")


def _hit_entry(hit: Hit, turn: int, i: int) -> str:
    ch = hit.chunk
    link = open_link(ch.source, ch.start, ch.end)
    return (f'<details class="cite closest" id="{cite_id(turn, i)}"><summary><span class="num">{i}</span>'
            f'<span class="title">{escape(ch.title or short_source(ch.source))}</span>'
            f'<span class="src" title="{escape(ch.source)}">{escape(short_source(ch.source))}</span>'
            f'{_place(page_label(ch.page_kind, ch.page) if ch.page else "", ch.ocr)}</summary>'
            f'<blockquote class="passage">{escape(ch.text)}</blockquote>'
            f'<a class="open-doc" href="{escape(link)}">Open in document ↗</a></details>')


def error_html(message: str, hint: str = "") -> str:
    """A readable failure in the chat (never a traceback)."""
    tip = f'<p class="hint">{escape(hint)}</p>' if hint else ""
    return (f'<div class="answer error" role="alert"><p><span class="badge">Error</span> {escape(message)}</p>'
            f'{tip}</div>')


def notice_html(message: str) -> str:
    """A friendly notice in the chat, e.g. that nothing is indexed yet."""
    return f'<div class="answer notice"><p>{escape(message)}</p></div>'


def short_source(source: str) -> str:
    """The file name of a source (the full path is in the tooltip)."""
    return PurePosixPath(source).name or source
