"""Opening the chat UI over many saved conversations, in a real Chromium against a real `assistant chat`.

    python bench/ui_history.py --home H [--conversations 1000] [--turns 20] [--repeats 7]
                               [--squad DATA/squad-v1.1-dev/dev-v1.1.json] [--out bench/results/ui_history.json]

H must hold the sample corpus (`assistant --home H ingest data/sample`). Its conversations file is filled
first (through History.add_turn, as the UI saves a turn) up to --conversations of --turns turns each, with
realistic lengths: SQuAD dev questions, each answered by two sentences of its paragraph with two citations
and six retrieved passages, the shape Answer.to_dict() gives (about 8 KB a turn). Then, per repeat, a fresh
browser profile (nothing reopened) opens the page and the script reads, from the page's own clock:

- first paint and first contentful paint (the browser's paint timing);
- the list shown: the newest ui.conversations.SHOWN conversations rendered in the sidebar;
and, in the same page:
- a search typed in the sidebar: from Enter to the list showing the matches;
- opening a 20-turn conversation from the list: from the click to its last answer rendered.
Beside them, History.conversations(owner, search) timed in this process (the store's part of a search).

Medians over the repeats. Not a test: nothing here asserts a time. Downloads nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from assistant.history import FILE_NAME, LOCAL, History  # noqa: E402
from support import ChatServer, clean_env  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
HITS = 6


def fill(history: History, squad: Path, conversations: int, turns: int) -> int:
    """Add conversations until the owner has `conversations`; returns how many were added."""
    have = len(history.conversations(LOCAL, limit=conversations))
    rng = random.Random(21)
    paragraphs = [(a["title"], p) for a in json.loads(squad.read_text())["data"] for p in a["paragraphs"]]
    for _ in range(have, conversations):
        cid = None
        for title, paragraph in rng.sample(paragraphs, turns):
            qa = rng.choice(paragraph["qas"])
            answer = _answer(qa["question"], title, paragraph["context"], rng.sample(paragraphs, HITS))
            cid = cid or history.start(LOCAL, qa["question"]).id
            history.add_turn(LOCAL, cid, qa["question"], answer, "extractive", "default")
    return conversations - have


def _answer(question: str, title: str, context: str, others: list) -> dict:
    """An answer of the shape Answer.to_dict() gives: two cited sentences of the paragraph, six passages."""
    sentences = re.split(r"(?<=[.!?])\s+", context)[:2]
    source = f"/docs/{title}.txt"
    citations = [{"n": n, "source": source, "title": title, "text": context, "sentence": s, "start": 0,
                  "end": len(context), "score": 0.03, "chunk_id": f"{title}-{n}", "page": None, "page_kind": None,
                  "ocr": False} for n, s in enumerate(sentences, 1)]
    hits = [{"id": f"{t}-{i}", "doc_id": t, "source": f"/docs/{t}.txt", "title": t, "chunk_index": i, "start": 0,
             "end": len(p["context"]), "text": p["context"], "page": None, "page_breaks": [], "page_kind": "page",
             "ocr": False, "score": 0.03, "dense_rank": i + 1, "bm25_rank": i + 1, "dense_score": 0.5,
             "bm25_score": 7.0} for i, (t, p) in enumerate(others)]
    return {"question": question, "answer": " ".join(f"{s} [{n}]" for n, s in enumerate(sentences, 1)),
            "short": None, "short_start": None, "short_end": None, "abstained": False, "confidence": 0.7,
            "citations": citations, "query": question, "hits": hits, "notes": [], "details": [], "unsupported": [],
            "answered_by": "extractive", "timings_ms": {"retrieve": 40.0, "answer": 90.0, "total": 130.0}}


def pick_word(history: History, shown: int) -> tuple[str, int]:
    """A word of the questions that some conversations hold, but fewer than the list shows (so the list changes)."""
    for conversation in history.conversations(LOCAL, limit=20):
        for turn in history.conversation(LOCAL, conversation.id).turns:
            for word in sorted(set(re.findall(r"[A-Za-z]{7,}", turn.question)), key=len, reverse=True):
                found = len(history.conversations(LOCAL, word, shown))
                if 2 <= found < shown // 2:
                    return word, found
    raise SystemExit("no word found that a few conversations hold")


def measure(page, url: str, shown: int, word: str, matches: int, turns: int) -> dict:
    """One fresh page: paint, list, search and open times (ms)."""
    page.goto(url)
    page.wait_for_function(f"document.querySelectorAll('#conversations label').length === {shown}",
                           timeout=120_000)
    listed = page.evaluate("performance.now()")
    paints = {e["name"]: e["startTime"] for e in page.evaluate(
        "performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))")}
    search = page.locator("#conversation-search input")
    search.fill(word)
    began = time.perf_counter()
    search.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#conversations label').length === {matches}",
                           timeout=120_000)
    searched = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    page.locator("#conversations label").first.click()
    page.wait_for_function(f"document.querySelectorAll('#chat [data-testid=\"assistant\"]').length === {turns}",
                           timeout=120_000)
    opened = (time.perf_counter() - began) * 1000
    return {"first_paint": paints.get("first-paint"), "first_contentful_paint": paints.get("first-contentful-paint"),
            "list_shown": listed, "search": searched, "open": opened}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--squad", type=Path,
                        default=Path(os.environ.get("DATA", "DATA")) / "squad-v1.1-dev" / "dev-v1.1.json")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from ui.conversations import SHOWN

    history = History(args.home / FILE_NAME)
    began = time.perf_counter()
    added = fill(history, args.squad, args.conversations, args.turns)
    print(f"{added} conversations added in {time.perf_counter() - began:.0f} s; file "
          f"{(args.home / FILE_NAME).stat().st_size / 1e6:.0f} MB", flush=True)
    word, matches = pick_word(history, SHOWN)
    words = [word, "river", "century", "population", "university"]  # a rare word, then common ones
    store_ms = []
    for _ in range(args.repeats):
        for each in words:
            t = time.perf_counter()
            history.conversations(LOCAL, each, SHOWN)
            store_ms.append((time.perf_counter() - t) * 1000)
    server = ChatServer(args.home, env=clean_env(GRADIO_ANALYTICS_ENABLED="False"))
    runs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.repeats + 1):  # the first one warms the server up, and is not counted
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                run = measure(context.new_page(), server.url, min(SHOWN, args.conversations), word, matches,
                              args.turns)
                context.close()
                if i:
                    runs.append(run)
                    print(json.dumps({k: round(v, 1) for k, v in run.items()}), flush=True)
            browser.close()
    finally:
        server.stop()
    medians = {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}
    medians["store_search"] = round(statistics.median(store_ms), 2)
    result = {"command": "python " + " ".join(sys.argv), "conversations": args.conversations, "turns": args.turns, "shown": SHOWN, "repeats": args.repeats,
              "search_word": word, "matches_listed": matches, "median_ms": medians, "runs": runs}
    print(json.dumps(result["median_ms"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
