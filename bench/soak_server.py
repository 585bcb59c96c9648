"""Soak test against a Chroma server (not CI): clients asking for M minutes while documents are edited,
ingested (some ingests SIGKILLed), removed and re-added, and the Chroma server is restarted.

    python bench/soak_server.py [--minutes 10] [--clients 4] [--files 30] [--out bench/results/soak_server.json]

Everything is a real process on 127.0.0.1: one `chroma run`, one `assistant serve` pointed at it
(`ASSISTANT_CHROMA_URL`), `assistant ingest` / `assistant remove` for every change, and N client
threads posting questions to /ask. At 40 % of the run the Chroma server is stopped and started again
on the same data and port. At the end the clients stop, one last `ingest --prune` brings the index
in line with the folder, and the home is checked: every document's chunks are all present (visible
chunk count = what its commit record claims), no chunk is an orphan, and every document is found by
its own first sentence (searched within it) in both the dense and the BM25 ranking. The JSON reports requests, errors by
kind, p50/p95 latency (over all replies and over 200s) and each check. Nothing asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from soak import BIN, ENV, free_port, wait_healthy, write_doc  # noqa: E402

RESTART_AT = 0.4  # share of the run after which the Chroma server is restarted
DOWN_SECONDS = 5  # how long it stays down


class ChromaProcess:
    """`chroma run` on a fixed port and data path, so a restart is the same server coming back."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.proc = path, port, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import httpx

        self.proc = subprocess.Popen([str(BIN.parent / "chroma"), "run", "--path", str(self.path), "--host",
                                      "127.0.0.1", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(240):
            try:
                httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError(f"chroma run did not come up on {self.url}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


class Client(threading.Thread):
    """Asks about a random document until stopped; records each reply's status (or error kind) and time."""

    def __init__(self, api: str, files: int, seed: int):
        super().__init__(daemon=True)
        self.api, self.files, self.rng = api, files, random.Random(seed)
        self.stop, self.replies = threading.Event(), []  # (status or error kind, seconds)

    def run(self) -> None:
        import httpx

        while not self.stop.is_set():
            n = self.rng.randrange(self.files)
            began = time.perf_counter()
            try:
                status = httpx.post(f"{self.api}/ask", json={"question": f"What is the code word of document {n}?"},
                                    timeout=120).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            self.replies.append((status, time.perf_counter() - began))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def run(command: list[str], env: dict, timeout: float = 900) -> tuple[int, str]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        return done.returncode, done.stderr.strip().splitlines()[-1][:160] if done.stderr.strip() else ""
    except subprocess.TimeoutExpired:
        return -1, "HUNG"


def server_errors(log: Path) -> dict[str, int]:
    """The server log's error lines (a 500's traceback ends with one), counted by their text."""
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if line and not line.startswith((" ", "INFO", "Traceback")) and ("Error" in line or "Exception" in line):
            counts[line[:200]] = counts.get(line[:200], 0) + 1
    return counts


def consistency(url: str, api: str, docs: Path, assistant: list[str], env: dict) -> dict:
    """The end checks: chunks complete, no orphans, every document found by both rankings."""
    import httpx

    from vectorstore.store import Store

    store = Store.open(url=url)
    records = store.documents()
    visible: dict[str, int] = {}
    for chunk in store.iter_chunks():
        visible[chunk.source] = visible.get(chunk.source, 0) + 1
    incomplete = [r.source for r in records if visible.get(r.source, 0) != r.chunks]
    files = {p.resolve().as_posix() for p in docs.glob("*.txt")}
    not_found = {}
    for record in records:
        # The document's own first sentence (its version and code word), searched within that document:
        # the server's dense and BM25 indexes must both hold it. Across all documents the near-identical
        # "Document N version V" sentences would test ranking, not presence.
        question = Path(record.source).read_text().split(". ", 1)[0] + "."
        reply = httpx.post(f"{api}/ask", json={"question": question, "sources": [record.source]}, timeout=120)
        ranks = _ranks(reply.json(), record.source)
        if not all(ranks):
            # The same question from a new process tells a stale server from a store that lost something.
            done = subprocess.run([*assistant, "ask", "--json", "--source", record.source, question],
                                  capture_output=True, text=True, env=env, timeout=300)
            fresh = _ranks(json.loads(done.stdout or "{}"), record.source)
            not_found[record.source] = {"server": ranks, "new_process": fresh}
    return {"documents": len(records), "files": len(files), "sources_match_files": {r.source for r in records} == files,
            "incomplete": incomplete, "orphans": len(store.orphans()), "not_found_by_both": not_found}


def _ranks(answer: dict, source: str) -> tuple:
    """(dense rank, BM25 rank) of the source's first hit in an answer's hits; (None, None) if absent."""
    mine = [h for h in answer.get("hits", []) if h["source"] == source]
    return (mine[0]["dense_rank"], mine[0]["bm25_rank"]) if mine else (None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="soak-server-"))
    home, docs = work / "home", work / "docs"
    docs.mkdir()
    for n in range(args.files):
        write_doc(docs / f"doc{n:03d}.txt", n, 0)
    chroma = ChromaProcess(work / "chroma", free_port())
    chroma.start()
    env = {**ENV, "ASSISTANT_CHROMA_URL": chroma.url}
    assistant = [str(BIN), "--home", str(home)]
    assert run([*assistant, "ingest", str(docs)], env)[0] == 0, "the first ingest failed"
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    log = (work / "serve.log").open("w")
    server = subprocess.Popen([*assistant, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    events: list[dict] = []
    clients: list[Client] = []
    began = time.time()
    try:
        wait_healthy(api)
        clients = [Client(api, args.files, seed) for seed in range(args.clients)]
        for client in clients:
            client.start()
        rng, version, removed = random.Random(13), 0, []
        deadline, restart_at, restarted = began + args.minutes * 60, began + RESTART_AT * args.minutes * 60, False
        while time.time() < deadline:
            if not restarted and time.time() >= restart_at:
                chroma.stop()
                time.sleep(DOWN_SECONDS)
                chroma.start()
                restarted = True
                events.append({"at": round(time.time() - began), "event": "chroma restarted"})
                continue
            version += 1
            action = rng.choice(["edit", "edit", "kill", "remove"])
            if action == "remove" or (removed and rng.random() < 0.5):
                if removed and action != "remove":  # bring a removed document back
                    n = removed.pop()
                    write_doc(docs / f"doc{n:03d}.txt", n, version)
                    events.append({"at": round(time.time() - began), "event": f"re-add doc{n:03d}",
                                   "rc": run([*assistant, "ingest", str(docs)], env)})
                    continue
                n = rng.choice([k for k in range(args.files) if k not in removed])
                path = docs / f"doc{n:03d}.txt"
                path.unlink()
                removed.append(n)
                events.append({"at": round(time.time() - began), "event": f"remove doc{n:03d}",
                               "rc": run([*assistant, "remove", path.resolve().as_posix()], env)})
                continue
            for n in rng.sample([k for k in range(args.files) if k not in removed], 3):
                write_doc(docs / f"doc{n:03d}.txt", n, version)
            if action == "kill":
                victim = subprocess.Popen([*assistant, "ingest", str(docs)], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(1, 8))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
            events.append({"at": round(time.time() - began), "event": f"{action} + ingest",
                           "rc": run([*assistant, "ingest", str(docs)], env)})
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join(timeout=180)
        final = run([*assistant, "ingest", str(docs), "--prune"], env)
        checks = {"final_ingest": final, **consistency(chroma.url, api, docs, assistant, env)}
    finally:
        for client in clients:
            client.stop.set()
        server.terminate()
        server.wait(timeout=60)
        log.close()
        chroma.stop()
    replies = [r for client in clients for r in client.replies]
    kinds: dict[str, int] = {}
    for status, _ in replies:
        kinds[str(status)] = kinds.get(str(status), 0) + 1
    ok_times = [t for status, t in replies if status == 200]
    result = {
        "command": " ".join(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "minutes": args.minutes, "clients": args.clients, "files": args.files,
        "requests": len(replies), "by_status": kinds,
        "latency_s": {"p50": percentile([t for _, t in replies], 0.5), "p95": percentile([t for _, t in replies], 0.95),
                      "p50_ok": percentile(ok_times, 0.5), "p95_ok": percentile(ok_times, 0.95)},
        "events": events, "checks": checks, "seconds": round(time.time() - began),
        "server_errors": server_errors(work / "serve.log"),
        "all_ok": (checks["final_ingest"][0] == 0 and checks["sources_match_files"] and not checks["incomplete"]
                   and checks["orphans"] == 0 and not checks["not_found_by_both"]),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "events"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if os.environ.get("SOAK_KEEP") is None:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
