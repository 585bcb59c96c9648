"""PowerPoint (.pptx) through python-pptx: each slide one page ('slide' in citations)."""
from __future__ import annotations

import io

from ingest.bombs import check_office
from ingest.errors import EmptyDocument, FileTooLarge, UnreadableFile
from ingest.limits import Limits
from ingest.rawtext import RawText, join_pages
from ingest.tables import Budget, check_not_encrypted, table_lines


def read_pptx(data: bytes, name: str, limits: Limits = Limits()) -> RawText:
    """Slide by slide: the text of its shapes (grouped ones too) in their order on the slide, its tables in the
    row form, then its speaker notes after `Notes:`. Title: the first slide's title, else the document's."""
    check_not_encrypted(data, name)
    check_office(data, name, limits, "PPTX")
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        budget = Budget()
        slides = ["\n\n".join(_slide_blocks(slide, name, limits, budget)) for slide in deck.slides]
        first = deck.slides[0].shapes.title if len(deck.slides) else None
        title = " ".join((first.text_frame.text if first is not None else "").split()) or None
        title = title or (deck.core_properties.title or "").strip() or None
    except FileTooLarge:
        raise
    except Exception:  # python-pptx raises zip, XML, key and value errors for damaged files  # noqa: BLE001
        raise UnreadableFile(f"{name}: not a valid PPTX file") from None
    text, starts = join_pages(slides)
    if not text:
        raise EmptyDocument(f"{name}: presentation has no text")
    return RawText(text, title, pages=starts, page_kind="slide")


def _slide_blocks(slide, name: str, limits: Limits, budget: Budget) -> list[str]:
    blocks = []
    pending = list(reversed(slide.shapes))  # explicit stack: groups may nest deep
    while pending:
        shape = pending.pop()
        if hasattr(shape, "shapes"):  # a group
            pending.extend(reversed(shape.shapes))
        elif shape.has_text_frame:
            blocks.append(shape.text_frame.text.strip())
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = ([cell.text for cell in row.cells] for row in shape.table.rows)
            blocks.append("\n".join(table_lines(rows, name, limits, budget)))
    if slide.has_notes_slide and (notes := slide.notes_slide.notes_text_frame):
        blocks.append(f"Notes: {notes.text.strip()}" if notes.text.strip() else "")
    return [block for block in blocks if block]
