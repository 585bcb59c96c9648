"""How soon a saved change is answerable under `assistant ingest DIR --watch`.

    python bench/watch.py --work W [--changes 10] [--settle 1.0] [--out bench/results/watch.json]

Copies data/sample to W/docs, starts `assistant --home W/home ingest W/docs --watch` (this checkout,
`[ingest] watch_settle` = --settle) and waits for its first sync. Then, --changes times, one change at
a time: a new file with a fact no other file holds, or an edit that appends one to a sample file, in
turn. The clock starts when the file is closed (its last write: the file has settled from then on; the
watcher must still see it unchanged for watch_settle seconds) and stops when this process sees the
file's new version committed (polled every 20 ms), then when an ask here has answered (whether its
passages hold the new fact, its citations the file, its answer the fact's word, is counted). Reports the
medians and each change. Not a test: nothing here asserts a time. Downloads nothing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL = 0.02
WHO = ["lighthouse keeper", "ferry captain", "harbour pilot", "bridge engineer", "museum curator", "orchard farmer",
       "glass blower", "clock maker", "river guide", "bakery owner"]  # a fact of its own for each change


def start_watcher(home: Path, docs: Path, settle: float) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               ASSISTANT_INGEST__WATCH_SETTLE=str(settle))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "assistant"), "--home", str(home), "ingest",
                             str(docs), "--watch"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(line.rstrip() for line in proc.stderr), daemon=True).start()
    deadline = time.time() + 600
    while not any("synced:" in line for line in lines):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit(f"the watcher did not start: {lines}")
        time.sleep(0.1)
    return proc, lines


def change(docs: Path, n: int) -> tuple[Path, str, str]:
    """(file, question, word of the answer): a new file on even n, an edit of a sample file on odd n."""
    word = f"zeta{n}quill"
    who = WHO[n % len(WHO)] + (f" number {n // len(WHO) + 1}" if n >= len(WHO) else "")
    fact = f"The {who}'s code word was {word}."
    if n % 2 == 0:
        path = docs / f"fact-{n}.txt"
        text = fact + "\n"
    else:
        samples = sorted(p for p in docs.iterdir() if not p.name.startswith("fact-"))
        path = samples[n // 2 % len(samples)]
        text = path.read_text() + "\n" + fact + "\n"
    with open(path, "w") as out:
        out.write(text)
    return path, f"What was the {who}'s code word?", word


def measure(assistant, docs: Path, n: int) -> dict:
    path, question, word = change(docs, n)
    written = time.perf_counter()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = path.resolve().as_posix()
    while assistant.store.committed().get(source) != digest:
        if time.perf_counter() - written > 300:
            raise SystemExit(f"change {n} ({path.name}) was never synced")
        time.sleep(POLL)
    visible = time.perf_counter()
    answer = assistant.ask(question)
    answered = time.perf_counter()
    return {"n": n, "file": path.name, "kind": "new" if n % 2 == 0 else "edit",
            "visible_s": round(visible - written, 3), "answered_s": round(answered - written, 3),
            "retrieved": any(h.chunk.source == source and word in h.chunk.text for h in answer.hits),
            "cited": any(c.source == source for c in answer.citations), "word_in_answer": word in answer.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="A scratch folder (emptied first).")
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--settle", type=float, default=1.0, help="[ingest] watch_settle for the watcher.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from assistant import Assistant

    shutil.rmtree(args.work, ignore_errors=True)
    docs, home = args.work / "docs", args.work / "home"
    shutil.copytree(ROOT / "data" / "sample", docs)
    load = [os.getloadavg()[0]]
    proc, lines = start_watcher(home, docs, args.settle)
    try:
        assistant = Assistant.open(home=home)
        assistant.load_models()
        rows = []
        for n in range(args.changes):
            rows.append(measure(assistant, docs, n))
            print(json.dumps(rows[-1]), flush=True)
            time.sleep(args.settle)  # the next change is a change of its own, not part of this one's sync
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    load.append(os.getloadavg()[0])
    result = {"settle_s": args.settle, "changes": len(rows),
              "visible_p50_s": round(statistics.median(r["visible_s"] for r in rows), 3),
              "visible_max_s": max(r["visible_s"] for r in rows),
              "answered_p50_s": round(statistics.median(r["answered_s"] for r in rows), 3),
              "retrieved": sum(r["retrieved"] for r in rows), "cited": sum(r["cited"] for r in rows),
              "word_in_answer": sum(r["word_in_answer"] for r in rows), "load_average": load, "rows": rows,
              "watcher_log": [line for line in lines if "synced" in line or "failed" in line]}
    print(json.dumps({k: v for k, v in result.items() if k not in ("rows", "watcher_log")}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
