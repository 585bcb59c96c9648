"""What carrying PDF page starts through cleaning costs: clean_text on a big paged text with no marks, with the
page starts as marks (what load_file does), and with the full offset map; peak traced memory and time.

    python bench/page_marks.py [PAGES]      # default 5000 pages, ~18.7 M characters
"""
from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.clean import clean_text  # noqa: E402

PAGE = "The harbour lighthouse report continues with measured figures for the quarter, line by line.\n" * 40


def main(pages: int) -> None:
    texts = [f"Page {n}\n{PAGE}" for n in range(pages)]
    raw = "\n\n".join(texts)
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text) + 2
    for mode in ("none", "marks", "map"):
        for traced in (False, True):  # the time untraced; tracemalloc slows it
            if traced:
                tracemalloc.start()
            began = time.perf_counter()
            cleaned = clean_text(raw, offsets=mode == "map", marks=starts if mode != "none" else ())
            if not traced:
                took = time.perf_counter() - began
            else:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            del cleaned
        print(f"{mode:5s} {len(raw) / 1e6:.1f} M chars, {pages} pages: {took:.1f} s, peak {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
