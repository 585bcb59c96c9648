"""Listing and searching saved conversations: 1,000 conversations of 20 turns, through History and over HTTP.

    python bench/history_search.py --squad DATA/squad-v1.1-dev [--conversations 1000] [--turns 20]
                                   [--repeats 21] [--work W] [--out bench/results/history_search.json]

Fills a fresh home's conversations file (assistant/history.py) with --conversations x --turns turns of
realistic size, made from SQuAD v1.1 dev: each question is a SQuAD question, each answer is the JSON a
turn keeps (assistant/turns.py `kept`: no hits) of an extractive answer, the sentence holding the gold
answer with its `[1]`, citing the whole paragraph as the passage. Then times, --repeats times each
(median, min, max), in this process (`History.conversations`, a fresh History so nothing is cached
between runs but SQLite's own page cache) and over HTTP (`GET /conversations[?search=...]` on a real
`assistant serve` over the same home, one keep-alive client, once /health says ready): the list, and
searches for a word in most turns ("the"), a word in a few, a prefix, two words, and a word in none.
Each reply holds at most history.LISTED conversations. Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.history import FILE_NAME, LOCAL, History  # noqa: E402

SEARCHES = {"list": None, "common word": "the", "rare word": "huguenots", "prefix": "photosynth",
            "two words": "university chicago", "no match": "zorblat"}


def squad_turns(folder: Path):
    """(question, kept answer JSON) pairs from SQuAD v1.1 dev, endlessly."""
    data = json.loads((folder / "dev-v1.1.json").read_text(encoding="utf-8"))["data"]
    pairs = []
    for article in data:
        title = article["title"].replace("_", " ")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentences = [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+[.!?]*\s*", context)]
            for qa in paragraph["qas"]:
                gold = qa["answers"][0]
                start = gold["answer_start"]
                s, e = next(((a, b) for a, b in sentences if a <= start < b), (0, len(context)))
                sentence = context[s:e].strip()
                citation = {"n": 1, "source": f"/srv/wiki/{article['title']}.txt", "title": title, "text": context,
                            "sentence": sentence, "start": 0, "end": len(context), "score": 0.71,
                            "chunk_id": f"{article['title']}:{len(pairs)}", "page": None, "page_kind": "page",
                            "ocr": False}
                pairs.append((qa["question"], {
                    "question": qa["question"], "answer": f"{sentence} [1]", "short": gold["text"],
                    "short_start": start, "short_end": start + len(gold["text"]), "abstained": False,
                    "confidence": 0.8, "citations": [citation], "query": qa["question"], "notes": [],
                    "details": [], "unsupported": [], "answered_by": "extractive",
                    "timings_ms": {"retrieve": 40.0, "answer": 120.0, "total": 160.0}}))
    return itertools.cycle(pairs)


def fill(path: Path, turns_source, conversations: int, turns: int) -> float:
    history = History(path)
    began = time.perf_counter()
    for _ in range(conversations):
        cid = None
        for _ in range(turns):
            question, answer = next(turns_source)
            cid = cid or history.start(LOCAL, question).id
            history.add_turn(LOCAL, cid, question, answer, "extractive", "default")
    return time.perf_counter() - began


def timed(call, repeats: int) -> dict:
    seconds, count = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        count = call()
        seconds.append((time.perf_counter() - began) * 1000)
    return {"median_ms": round(statistics.median(seconds), 2), "min_ms": round(min(seconds), 2),
            "max_ms": round(max(seconds), 2), "found": count}


def serve(home: Path):
    import httpx

    from support import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--home", str(home), "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("assistant serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True, help="the folder of SQuAD v1.1's dev-v1.1.json")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--work", type=Path, help="where to make the home (default: a temporary folder)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import httpx

    sys.path.insert(0, str(ROOT / "tests"))
    with tempfile.TemporaryDirectory(prefix="history-bench-", dir=args.work) as work:
        home = Path(work) / "home"
        path = home / FILE_NAME
        fill_s = fill(path, squad_turns(args.squad), args.conversations, args.turns)
        result = {"conversations": args.conversations, "turns": args.turns, "repeats": args.repeats,
                  "fill_s": round(fill_s, 1), "file_mb": round(sum(p.stat().st_size for p in home.glob(FILE_NAME + "*"))
                                                               / 1e6, 1),
                  "command": " ".join(["python", *sys.argv]), "history": {}, "http": {}}
        for name, search in SEARCHES.items():
            result["history"][name] = timed(lambda: len(History(path).conversations(LOCAL, search)), args.repeats)
            print(json.dumps({"via": "History", "query": name, **result["history"][name]}), flush=True)
        proc, url = serve(home)
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                for name, search in SEARCHES.items():
                    params = {"search": search} if search else {}

                    def call() -> int:
                        reply = client.get("/conversations", params=params)
                        reply.raise_for_status()
                        return len(reply.json())

                    result["http"][name] = timed(call, args.repeats)
                    print(json.dumps({"via": "HTTP", "query": name, **result["http"][name]}), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    result["load_average"] = os.getloadavg()
    print(f"\n{args.conversations} conversations x {args.turns} turns, {result['file_mb']} MB, filled in "
          f"{result['fill_s']} s; median of {args.repeats} (min-max), ms\n")
    print("| query | search | History | HTTP | found |\n|---|---|---:|---:|---:|")
    for name, search in SEARCHES.items():
        h, w = result["history"][name], result["http"][name]
        print(f"| {name} | {search or ''} | {h['median_ms']} ({h['min_ms']}-{h['max_ms']}) | "
              f"{w['median_ms']} ({w['min_ms']}-{w['max_ms']}) | {h['found']} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
