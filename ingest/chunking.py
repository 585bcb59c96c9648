"""Token-aware chunking with llama-index's SentenceSplitter, keeping exact character offsets."""
from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from functools import cached_property

from ingest.documents import Document
from ingest.punkt import split_sentences
from ingest.tables import ROW_SEPARATOR
from vectorstore.records import Chunk

# Long documents are chunked a section at a time so memory stays bounded.
SECTION_CHARS = 200_000
# A chunk holds at most this many characters a token of its size: the splitter counts a text as
# max(its tokens, its length / CHARS_PER_TOKEN). English runs at 4-5 characters a token; a word
# longer than 100 characters is one [UNK] token to the model, so without this a text of long
# "words" made chunks of 200,000 characters (a 200 MB file without whitespace grew past 2 GB).
CHARS_PER_TOKEN = 10


def doc_id_for(source: str) -> str:
    """Stable id of a source."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def chunk_id(doc_id: str, start: int, text: str) -> str:
    """Stable chunk id: the same text at the same place always gets the same id."""
    return hashlib.sha256(f"{doc_id}:{start}:{text}".encode("utf-8")).hexdigest()[:32]


def sections(text: str, size: int = SECTION_CHARS) -> Iterator[tuple[int, str]]:
    """(offset, piece) pieces of about `size` chars, cut at paragraph or line breaks."""
    begin = 0
    while begin < len(text):
        end = min(begin + size, len(text))
        if end < len(text):
            cut = max(text.rfind("\n\n", begin + size // 2, end), text.rfind("\n", begin + size // 2, end))
            end = cut + 1 if cut > 0 else end
        yield begin, text[begin:end]
        begin = end


class Chunker:
    """Splits a document into chunks no longer than the embedding model can read."""

    def __init__(self, chunk_size: int, chunk_overlap: int, tokenizer: Callable[[str], list] | None = None):
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._tokenizer = tokenizer

    @cached_property
    def _longest(self) -> int:
        """The most characters a chunk may hold."""
        return self.chunk_size * CHARS_PER_TOKEN

    @cached_property
    def _tokenize(self) -> Callable[[str], list]:
        from llama_index.core.utils import get_tokenizer

        return self._tokenizer or get_tokenizer()

    def _count(self, text: str) -> list:
        """What the splitter counts as text's tokens: its real ones, or one per CHARS_PER_TOKEN characters."""
        tokens = self._tokenize(text)
        short = -(-len(text) // CHARS_PER_TOKEN) - len(tokens)
        return list(tokens) + [0] * short if short > 0 else tokens

    @cached_property
    def _splitter(self):
        # Imported on first use: llama-index takes seconds to import, and answering never chunks.
        from llama_index.core.node_parser import SentenceSplitter

        # split_rows: the splitter's own default sentence cuts, without importing all of nltk, and table rows.
        return SentenceSplitter(chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap,
                                tokenizer=self._count, chunking_tokenizer_fn=split_rows,
                                include_metadata=False)

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks of doc with offsets such that doc.text[start:end] == chunk.text."""
        doc_id = doc_id_for(doc.source)
        chunks: list[Chunk] = []
        for base, piece, run in self._pieces(doc.text):
            texts = [piece] if run else self._splitter.split_text(piece)
            cursor = 0
            for text in texts:
                found = piece.find(text, cursor)
                if found < 0:  # the splitter altered the text: fall back to a whole-piece search
                    found = piece.find(text)
                if found < 0:
                    raise ValueError(f"chunk not found in {doc.source}: {text[:40]!r}")
                start = base + found
                chunks.append(Chunk(id=chunk_id(doc_id, start, text), doc_id=doc_id, source=doc.source,
                                    title=doc.title, chunk_index=len(chunks), start=start,
                                    end=start + len(text), text=text, **_pages(doc, start, start + len(text))))
                cursor = found + 1
        return chunks

    def _pieces(self, text: str) -> Iterator[tuple[int, str, bool]]:
        """(offset, piece, is a run): the sections of text, with each run of non-space characters longer
        than a chunk cut out into runs of a chunk's worth (the splitter would cut it a character at a
        time, tokenizing each), each a chunk as it stands."""
        run = re.compile(rf"\S{{{self._longest + 1},}}")
        for base, section in sections(text):
            begin = 0
            for found in run.finditer(section):
                if found.start() > begin:
                    yield base + begin, section[begin:found.start()], False
                for cut in range(found.start(), found.end(), self._longest):
                    yield base + cut, section[cut:min(cut + self._longest, found.end())], True
                begin = found.end()
            if begin < len(section):
                yield base + begin, section[begin:], False


def split_rows(text: str) -> list[str]:
    """text cut into sentences (ingest/punkt.py), each table row in the row form (ingest/tables.py) one of its
    own: a chunk cut inside a table is cut between rows, never inside one (after "Revenue: 4." of "4.2")."""
    if ROW_SEPARATOR not in text:
        return split_sentences(text)
    pieces: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        between = "".join(prose)
        if between.strip():
            pieces.extend(split_sentences(between))
        elif pieces:  # blank lines between two tables (or pages of one): kept, so the pieces still join to text
            pieces[-1] += between
        prose.clear()

    lines = text.split("\n")
    for i, line in enumerate(lines):
        line += "\n" if i + 1 < len(lines) else ""
        if ROW_SEPARATOR in line:
            flush()
            pieces.append(line)
        else:
            prose.append(line)
    flush()
    return pieces


def _pages(doc: Document, start: int, end: int) -> dict:
    """A chunk's page fields: the page it starts on, the page starts inside it, whether OCR read any of it."""
    if not doc.pages:  # no pages; an image file read by OCR is all OCR
        return {"ocr": bool(doc.ocr_pages)}
    first = bisect_right(doc.pages, start)  # pages that start at or before it: the last of them holds start
    breaks = doc.pages[first:bisect_left(doc.pages, end, first)]
    page = max(first, 1)
    return {"page": page, "page_breaks": breaks, "page_kind": doc.page_kind,
            "ocr": any(n in doc.ocr_pages for n in range(page, page + len(breaks) + 1))}
