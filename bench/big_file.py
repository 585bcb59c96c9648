"""Peak memory of ingesting one big text file (the issue's 50 MB), whole and by phase.

    python bench/big_file.py --mb 50 --work /tmp/bigfile                 # a real `assistant ingest`
    python bench/big_file.py --mb 50 --work /tmp/bigfile --phases        # where the memory goes, in minutes
    python bench/big_file.py --mb 200 --kind blob --work /tmp/bigfile    # 200 MB of "x", no whitespace

The file is generated, deterministically from --seed: paragraphs of 3-8 sentences of 6-24 words
drawn from the vocabulary of data/sample, with the odd curly apostrophe and accented word, so
Python holds the text at 2 bytes a character as it would a real English text with a "’" in it.
Every chunk is distinct (each paragraph carries its own number), so no embedding is skipped.
`--kind blob`: the same size of the letter x and nothing else (issue 22's `tr '\0' x`): one line,
no whitespace; its chunks are all the same text, so the model embeds one of them.
A size over `[ingest] max_file_mb` is refused: the figures are those of the refusal.

Default: `assistant --home WORK/home ingest FILE` as a child process, with the settings the
environment gives (`ASSISTANT_MODEL__PRECISION=int8` for the int8 model); reports its wall time
and peak RSS (`ru_maxrss` from wait4). Embedding 70,000 chunks takes most of an hour on 2 cores.

`--phases`: the same ingest in a child process with the model's arithmetic replaced by random unit
vectors (the model is still loaded; embedding memory does not grow with the file: it runs 2,048
chunks at a time), printing the peak RSS (and the time) after loading + cleaning, chunking, writing the chunks
and the commit. Those figures are for finding the memory, not for reporting an ingest.

Not a test: nothing here asserts a time or a size. Downloads nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_text(path: Path, mb: float, seed: int = 7) -> Path:
    """Write about `mb` MB of paragraphs to path (kept if it is already there at that size)."""
    target = int(mb * 1_000_000)
    if path.exists() and abs(path.stat().st_size - target) < 100_000:
        return path
    words = sorted({w for p in (ROOT / "data" / "sample").glob("*.txt")
                    for w in re.findall(r"[A-Za-z][a-z]+", p.read_text(encoding="utf-8"))})
    words += ["café", "naïve", "don’t", "it’s"]
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written, number = 0, 0
    with path.open("w", encoding="utf-8") as fh:
        while written < target:
            number += 1
            sentences = []
            for _ in range(rng.randint(3, 8)):
                sentence = " ".join(rng.choices(words, k=rng.randint(6, 24)))
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
            paragraph = f"{number}. " + " ".join(sentences) + "\n\n"
            fh.write(paragraph)
            written += len(paragraph.encode("utf-8"))
    return path


def make_blob(path: Path, mb: float) -> Path:
    """Write `mb` MB of the letter x, without a line break (kept if it is already there at that size)."""
    target = int(mb * 1_000_000)
    if not (path.exists() and path.stat().st_size == target):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            for begin in range(0, target, 1 << 20):
                fh.write(b"x" * min(1 << 20, target - begin))
    return path


def run_child(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(wall s, peak RSS MB, output) of one child process, reaped with wait4 for its own peak."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}):\n{out.decode()[-3000:]}")
    return time.perf_counter() - began, usage.ru_maxrss / 1024, out.decode()


def phases(home: Path, path: Path) -> None:
    """In this process: ingest path with random vectors, printing the peak RSS after each phase (JSON)."""
    import numpy as np

    from assistant.core import Assistant
    from ingest import loading, sync
    from ingest.chunking import Chunker
    from vectorstore.embedder import Embedder
    from vectorstore.store import Store

    marks: list[tuple[str, float, float]] = []  # (phase, peak RSS MB so far, seconds since the start)
    began = time.perf_counter()

    def mark(name: str) -> None:
        marks.append((name, round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      round(time.perf_counter() - began, 1)))

    def after(owner, name: str, label: str, before: str | None = None) -> None:
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            if before:
                mark(before)
            result = original(*args, **kwargs)
            if not any(m[0] == label for m in marks) or label == "commit":
                mark(label)
            return result

        setattr(owner, name, wrapped)

    rng = np.random.default_rng(0)

    def embed(self, texts, on_batch=None):
        vectors = rng.standard_normal((len(texts), Embedder.dimension)).astype(np.float32)
        if on_batch:
            on_batch(len(texts))
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    Embedder.embed = embed
    after(loading, "load_file", "loaded + cleaned")
    sync.load_file = loading.load_file
    after(Chunker, "chunk", "chunked")
    after(Store, "write_chunks", "first chunks written")
    after(Store, "commit_documents", "commit", before="all chunks written")
    assistant = Assistant.open(home=home)
    assistant.load_models()
    mark("start (imports, model, store)")
    report = assistant.ingest([path])
    mark("end")
    print(json.dumps({"phases": marks, "chunks": report.chunks,
                      "failed": [r.error for r in report.failed]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50, help="size of the generated text file (default 50)")
    parser.add_argument("--work", type=Path, required=True, help="a folder for the file and a fresh home")
    parser.add_argument("--kind", choices=("words", "blob"), default="words",
                        help="words: English-like paragraphs (default); blob: the letter x, no whitespace")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--phases", action="store_true", help="random vectors; the peak RSS after each phase")
    parser.add_argument("--out", type=Path, help="also write the result here as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    path = args.work / (f"big-{args.mb:g}mb.txt" if args.kind == "words" else f"blob-{args.mb:g}mb.txt")
    home = args.work / "home"
    if args.child:
        phases(home, path)
        return
    make_text(path, args.mb, args.seed) if args.kind == "words" else make_blob(path, args.mb)
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    if args.phases:
        argv = [sys.executable, __file__, "--child", "--mb", f"{args.mb:g}", "--kind", args.kind,
                "--work", str(args.work)]
    else:
        argv = [str(Path(sys.executable).parent / "assistant"), "--home", str(home), "ingest", str(path)]
    wall, rss, out = run_child(argv, env)
    result = {"command": "python " + " ".join(sys.argv), "kind": args.kind,
              "file_mb": round(path.stat().st_size / 1e6, 1),
              "precision": os.environ.get("ASSISTANT_MODEL__PRECISION", "fp32"), "wall_s": round(wall, 1),
              "peak_rss_mb": round(rss), "load_average_at_end": os.getloadavg()[0]}
    if args.phases:
        result.update(json.loads(out.strip().splitlines()[-1]))
    else:
        result["output_tail"] = out.strip().splitlines()[-6:]
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
