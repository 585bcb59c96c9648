"""Soak and fault test (not CI): real processes on one home, hostile files, kills, and a check of what is left.

    python bench/soak.py [--rounds 5] [--files 40] [--out bench/results/soak.json]

One `assistant serve` runs throughout. Each round: edit a few documents, start `assistant ingest` in
another process and SIGKILL it at a random moment, run it again to completion, try a second writer
while one runs (it must be refused, not corrupt anything), ingest a folder holding a FIFO, a link
to /dev/zero, a .docx bomb and a non-UTF-8 name (each must fail alone, nothing may hang), and ask
the server questions all the while. After each round the home is checked: the chunks equal what
the commit records claim, the server finds every document by meaning (dense rank), /health is 200.
Every call has a timeout: a hang is reported as a failure, never waited on. Nothing here asserts a
time; the JSON lists each check and what failed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "assistant"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}
WORDS = ("harbour ledger ferry lighthouse orchard council bridge festival mascot clerk cargo island "
         "budget keeper bottle glass morning evening record harvest").split()


def cli(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "--home", str(home), *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout)


def write_doc(path: Path, n: int, version: int) -> None:
    rng = random.Random(n * 1000 + version)
    body = " ".join(rng.choice(WORDS) for _ in range(300))
    path.write_text(f"Document {n} version {version}: the code word is soakword{n}x. {body}.\n")


def docx_bomb() -> bytes:
    """Issue 22's: a 134 KB .docx whose one paragraph holds 99 MB of <a/> (26M elements, 3.2 GB to parse)."""
    from docx_caps import with_body

    return with_body(b"<w:p><w:r><w:t>hello</w:t></w:r>" + b"<a/>" * (99 * 2**20 // 4) + b"</w:p>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api: str, tries: int = 600) -> None:
    """Wait (up to 5 minutes) for a starting `assistant serve` to say it is ready."""
    import httpx

    for _ in range(tries):
        try:
            if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)


class Asker(threading.Thread):
    """Asks the server questions until stopped; counts replies by status."""

    def __init__(self, api: str):
        super().__init__(daemon=True)
        self.api, self.stop, self.statuses = api, threading.Event(), {}

    def run(self) -> None:
        import httpx

        while not self.stop.is_set():
            try:
                code = httpx.post(f"{self.api}/ask", json={"question": "What is the code word of document 3?"},
                                  timeout=120).status_code
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            self.statuses[code] = self.statuses.get(code, 0) + 1


def check(home: Path, api: str, docs: Path, files: int) -> dict:
    """The invariants after a round."""
    import httpx

    sys.path.insert(0, str(ROOT))
    from vectorstore.store import Store

    store = Store.open(path=home / "chroma")
    records = store.documents()
    missing_dense = []
    for n in random.Random(len(records)).sample(range(files), 3):
        answer = httpx.post(f"{api}/ask", json={"question": f"soakword{n}x"}, timeout=120).json()
        source = (docs / f"doc{n:03d}.txt").resolve().as_posix()
        if not any(h["source"] == source and h["dense_rank"] for h in answer.get("hits", [])):
            missing_dense.append(source)
    return {"documents": len(records), "chunk_rows": store._connection.chunks.count(),
            "chunks_claimed": sum(r.chunks for r in records),
            "health": httpx.get(f"{api}/health", timeout=60).status_code, "missing_dense": missing_dense}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    home, docs, hostile = work / "home", work / "docs", work / "hostile"
    docs.mkdir()
    for n in range(args.files):
        write_doc(docs / f"doc{n:03d}.txt", n, 0)
    assert cli(home, "ingest", str(docs)).returncode == 0
    hostile.mkdir()
    os.mkfifo(hostile / "pipe.txt")
    (hostile / "zero.txt").symlink_to("/dev/zero")
    (hostile / "bomb.docx").write_bytes(docx_bomb())
    with open(os.fsencode(hostile) + b"/caf\xe9.txt", "w") as fh:
        fh.write("A note with a Latin-1 name.\n")
    (hostile / "fine.txt").write_text("A fine note about the harbour.\n")

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN), "--home", str(home), "serve", "--port", str(port)], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rounds, began = [], time.time()
    try:
        wait_healthy(api)
        asker = Asker(api)
        asker.start()
        rng = random.Random(13)
        for number in range(args.rounds):
            row: dict = {"round": number + 1}
            for n in rng.sample(range(args.files), 5):
                write_doc(docs / f"doc{n:03d}.txt", n, number + 1)
            victim = subprocess.Popen([str(BIN), "--home", str(home), "ingest", str(docs)], env=ENV,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(3, 15))
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            writer = subprocess.Popen([str(BIN), "--home", str(home), "ingest", str(docs), "--json"], env=ENV,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2)
            second = cli(home, "ingest", str(docs), timeout=300)
            row["second_writer"] = (second.returncode, second.stderr.strip()[:120])
            out, err = writer.communicate(timeout=900)
            row["resumed_ingest_rc"] = writer.returncode
            try:
                hostile_run = cli(home, "ingest", str(hostile), "--json", timeout=300)
                report = json.loads(hostile_run.stdout or "{}")
                row["hostile"] = {"rc": hostile_run.returncode, "failed": len(report.get("failed", [])),
                                  "added_or_unchanged": len(report.get("added", []) + report.get("unchanged", []))}
            except subprocess.TimeoutExpired:
                row["hostile"] = "HUNG"
            row.update(check(home, api, docs, args.files))
            row["ok"] = (row["chunk_rows"] == row["chunks_claimed"] and row["health"] == 200
                         and not row["missing_dense"] and row["resumed_ingest_rc"] == 0
                         and row["hostile"] != "HUNG")
            rounds.append(row)
            print(json.dumps(row), flush=True)
        asker.stop.set()
        asker.join(timeout=180)
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    result = {"command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "rounds": rounds,
              "asks": {str(k): v for k, v in asker.statuses.items()}, "seconds": round(time.time() - began),
              "all_ok": all(r["ok"] for r in rounds)}
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
