"""What parsing files in a worker process ([ingest] read_timeout) costs, against parsing them in-process.

    python bench/read_worker.py --rounds 5 --files 300 --out bench/results/read_worker.json

Three measurements, each against the in-process way in the same run (medians of the rounds):
1. Whole ingests, each a new process on a new home, as `assistant ingest` runs them: data/sample
   (5 text files) and folders of N small .txt and .html files, read_timeout 60 and 0 (in-process),
   alternating which goes first. The time is the ingest's own (`report.seconds`: reading, chunking,
   embedding, writing, and the worker's start-up when it starts one), and the wall time of the process.
   Text is read in-process either way (ingest/worker.py, IN_PROCESS): those rows show that a text-only
   ingest pays nothing; `--kinds` can add others.
2. One file's round trip through the worker (a 1 KB text, a small HTML page) against reading it in-process.
3. The worker's start-up: the first HTML read of a process, the worker's interpreter and its parser's
   import included (a fresh `python -c` since issue 19; a multiprocessing fork server before).

No assertion: a measurement. On a shared 2-core machine read the ratios, not the seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time
began = time.perf_counter()
from assistant import Assistant
assistant = Assistant.open(home=sys.argv[1])
report = assistant.ingest([sys.argv[2]])
assert not report.to_dict()["failed"], report.to_dict()["failed"]
print(json.dumps({"ingest_s": report.seconds, "files": len(report.results)}))
"""


def small_files(folder: Path, count: int, kind: str) -> Path:
    """`count` distinct files of about 1 KB of text, .txt or .html, made from the sample's sentences."""
    sentences = [s.strip() + "." for f in sorted((ROOT / "data" / "sample").glob("*.txt"))
                 for s in f.read_text(encoding="utf-8").split(".") if len(s.split()) > 5]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = " ".join(sentences[(i * 7 + k * 13) % len(sentences)] for k in range(8))
        text = (f"Note {i}\n\n{body}\n" if kind == "txt" else
                f"<html><head><title>Note {i}</title></head><body><h1>Note {i}</h1><p>{body}</p></body></html>")
        (folder / f"note_{i:04d}.{kind}").write_text(text, encoding="utf-8")
    return folder


def one_ingest(folder: Path, timeout: str, scratch: Path) -> dict:
    home = Path(tempfile.mkdtemp(dir=scratch))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
           "ASSISTANT_INGEST__READ_TIMEOUT": timeout,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(home), str(folder)], capture_output=True, text=True,
                          env=env, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_s"] = time.perf_counter() - began
    return out


def ingests(folder: Path, rounds: int, scratch: Path) -> dict:
    runs: dict[str, list[dict]] = {"worker": [], "in-process": []}
    for r in range(rounds):
        order = [("worker", "60"), ("in-process", "0")]
        for name, timeout in (order if r % 2 == 0 else order[::-1]):
            runs[name].append(one_ingest(folder, timeout, scratch))
    summary = {}
    for key in ("ingest_s", "wall_s"):
        worker = statistics.median(run[key] for run in runs["worker"])
        inproc = statistics.median(run[key] for run in runs["in-process"])
        summary[key] = {"worker": round(worker, 3), "in-process": round(inproc, 3), "ratio": round(worker / inproc, 3),
                        "per_round_ratios": [round(a[key] / b[key], 3) for a, b in zip(runs["worker"],
                                                                                        runs["in-process"])]}
    return summary


def round_trips(count: int) -> dict:
    from ingest import worker
    from ingest.limits import Limits
    from ingest.readers import read_file

    texts = {"1 KB .txt": ("a.txt", (b"A harbour ledger line about ships and cargo. " * 23)[:1024]),
             "small .html": ("a.html", b"<title>Ledger</title><body><p>" + b"Ships and cargo. " * 40 + b"</p></body>")}
    limits = Limits(read_timeout=60)
    def through_worker(path: Path, data: bytes):  # any type, text included: what a round trip costs
        with worker._lock:
            return worker._running().ask((path, data, limits), limits.read_timeout)[1]

    ways = {"worker": through_worker, "in-process": lambda path, data: read_file(path, data, limits)}
    out = {}
    for label, (name, data) in texts.items():
        for read in ways.values():
            read(Path(name), data)  # start the worker (measured apart) and import the parser, both ways
        times = {}
        for way, read in ways.items():
            began = time.perf_counter()
            for _ in range(count):
                read(Path(name), data)
            times[way] = (time.perf_counter() - began) / count * 1000
        out[label] = {"worker_ms": round(times["worker"], 3), "in_process_ms": round(times["in-process"], 3)}
    worker.shutdown()
    return out


def start_up() -> float:
    """Seconds to the first HTML page read by a new worker in a new process."""
    child = ("import sys, time\n"
             "from pathlib import Path\n"
             "import ingest.worker as w\n"
             "began = time.perf_counter()\n"
             "w.read_file_limited(Path('a.html'), b'<p>hello</p>', w.Limits(read_timeout=60))\n"
             "print(time.perf_counter() - began)\n")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--kinds", default="txt,html", help="folders of small files to ingest, by type")
    parser.add_argument("--trips", type=int, default=500, help="reads per kind for the round-trip time")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict = {"command": "python " + " ".join(shlex.quote(a) for a in sys.argv), "cpus": os.cpu_count(),
                     "load_before": os.getloadavg()}
    results["start_up_s"] = round(statistics.median(start_up() for _ in range(args.rounds)), 3)
    results["round_trip"] = round_trips(args.trips)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        results["ingest_sample"] = ingests(ROOT / "data" / "sample", args.rounds, scratch)
        for kind in args.kinds.split(","):
            folder = small_files(scratch / kind, args.files, kind)
            results[f"ingest_{args.files}_small_{kind}"] = ingests(folder, args.rounds, scratch)
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
