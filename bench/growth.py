"""How asking scales with the corpus: ask p50/p95 and the first ask after a one-file change at ~1k, 10k, 100k chunks.

    python bench/growth.py --squad DATA/squad-v1.1-dev --clapnq DATA/clapnq-dev --scifact DATA/scifact \\
        --sizes 1000,10000,100000 --work /tmp/growth [--baseline-src OLD] --out bench/results/growth.json

Corpus. Real passages, already embedded with the real MiniLM model: the SQuAD v1.1 dev paragraphs and
the CLAP NQ dev passages from the stores `assistant eval` caches for them (built here through the same
code if they are not cached yet), and the first `--scifact-limit` SciFact abstracts, ingested once into
WORK/pool-scifact-N with `Assistant.ingest_texts` (the only embedding this script does besides the
questions). Every document keeps its cleaned text, chunks, offsets and vectors; sources get a data-set
prefix ("squad/", "clapnq/", "scifact/"). The documents are shuffled (seeded) and taken in that order,
then again as copies under new sources ("<source> ~2", ...) with new document and chunk ids, until a
size is reached: the pool has ~6k distinct chunks, so 10k and 100k chunks repeat passages (every
question's paragraph is there 2 or 17 times; retrieval then returns copies, which changes what is
answered, not how long it takes to find it). Homes are written through `Store.write_chunks` and
`Store.commit_documents` (the calls ingest makes: chunks first, then one commit record per document,
each commit a new store generation), WORK/size-N, each a copy of the one before plus the next
documents; a home whose marker matches is reused, so a second run (say with `--src` an older
checkout) measures the same stores.

Measured per size, in a fresh process running this checkout's code (`--src DIR`: another one), and
with `--baseline-src DIR` (e.g. `git archive main | tar -x -C DIR`) the same again with that code, on
the same homes, in the same run, alternating which goes first:

- opening: `Assistant.open` with the model loaded, the saved BM25 index read by a new `LexicalIndex`
  (`bm25 load`; the one before it may have had to rebuild an index the other code saved in its own
  format), and a whole-corpus BM25 build into a scratch directory (`bm25 whole build`: what a first
  question pays when no saved index can be used);
- asking: `--questions` SQuAD questions (seeded; each one's paragraph is in the smallest home), each
  asked with `Assistant.ask`, `--repeats` rounds, every round with the sentence and document caches
  emptied (so each round is a first-time question); retrieve ms and total ms (the Answer's own
  timings) p50 and p95 per round, medians over the rounds; Chroma calls per question;
- the first ask after a one-file change, `--changes` times: a small new .txt file ingested with
  `Assistant.ingest` (the real ingest path, same process, like the chat UI or `serve`), then the
  next question timed whole and split into the BM25 refresh (time inside `LexicalIndex._ensure_fresh`),
  the store listing its documents again (inside `Documents.listing`: every question after a
  change does it, whatever the BM25 index) and the rest; the same question asked again beside it.
  Then another file, the listing, and a new `LexicalIndex` on the same directory (what the next
  `assistant ask` process does): its refresh time after the change, beside its load time with
  nothing changed. The files are removed at the end and the index
  refreshed (not timed), so the home is as before;
- RSS: current after the asks, and the process's peak (`ru_maxrss`).

The load average is recorded before and after every size. Nothing here asserts a time: the machine is
shared, so read each size against the smallest one measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 13
MARKER = "growth-home.json"
COMMIT_CHUNKS = 2000  # chunks written and committed together while a home is built (Chroma takes <= 5461 records a call)
CHANGE_TEXT = ("Growth note {n}. The harbour committee met on a rainy Tuesday and agreed to repaint the "
               "lighthouse {colour} before the regatta. The work will cost {cost} euros and take {days} days.")
COLOURS = ["red", "white", "blue", "green", "yellow", "orange", "black", "grey"]


def _lexical_dir(assistant):
    """The BM25 folder of the assistant's index (an older checkout, before knowledge bases, keeps it in settings)."""
    return assistant.kb.lexical_dir if hasattr(assistant, "kb") else assistant.settings.lexical_dir


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- the pool: embedded documents from the cached stores -------------------------------------------
def _cached_home(module, data: Path, settings) -> Path:
    """The home `assistant eval DATA` keeps for this benchmark, built through the same code if missing."""
    from evals.adapters.cache import benchmark_home, build_store, is_ready

    bench = module.load(data)
    home = benchmark_home(bench, settings)
    if not is_ready(home, bench):
        from assistant import Assistant

        print(f"building the {bench.name} store (embeds {bench.documents} documents) -> {home}", file=sys.stderr)
        build_store(Assistant.open(home=home), bench, home)
    return home


def _scifact_home(data: Path, limit: int, work: Path) -> Path:
    """The first `limit` SciFact abstracts, ingested once into a home of their own (real model)."""
    from itertools import islice

    from assistant import Assistant
    from evals.adapters import beir

    home = work / f"pool-scifact-{limit}"
    assistant = Assistant.open(home=home)
    if len(assistant.sources()) != limit:
        bench = beir.load(data)
        began = time.perf_counter()
        report = assistant.ingest_texts(islice(bench.corpus(), limit))
        print(f"ingested {limit} SciFact abstracts ({report.chunks} chunks) in {time.perf_counter() - began:.0f} s",
              file=sys.stderr)
    return home


def read_pool(home: Path, prefix: str) -> list[dict]:
    """Every visible document of a home: record, cleaned text, and its chunks with their vectors.

    Reads the chunks collection directly (read-only): the Store has no call that returns vectors.
    """
    from vectorstore.store import PAGE, Store

    store = Store.open(home / "chroma")
    records = {r.source: r for r in store.documents()}
    texts = {}
    names = list(records)
    for begin in range(0, len(names), 500):
        texts.update({s: r.text for s, r in store.documents_text(names[begin:begin + 500]).items()})
    chunks: dict[str, list] = {s: [] for s in records}
    offset = 0
    while True:
        got = store._connection.chunks.get(include=["metadatas", "documents", "embeddings"], limit=PAGE, offset=offset)
        for text, meta, vector in zip(got["documents"], got["metadatas"], got["embeddings"]):
            record = records.get(meta["source"])
            if record is not None and record.sha256 == meta["sha256"]:
                chunks[meta["source"]].append((int(meta["chunk_index"]), int(meta["start"]), int(meta["end"]),
                                               text, list(map(float, vector))))
        if len(got["ids"]) < PAGE:
            break
        offset += PAGE
    docs = []
    for source, record in sorted(records.items()):
        parts = sorted(chunks[source])
        if len(parts) != record.chunks:
            raise SystemExit(f"{home}: {source} has {len(parts)} visible chunks, its record says {record.chunks}")
        docs.append({"source": f"{prefix}/{source}", "title": record.title, "sha256": record.sha256,
                     "text": texts[source], "chunks": parts})
    return docs


def pool(args) -> list[dict]:
    from assistant.settings import Settings
    from evals.adapters import clapnq, squad

    settings = Settings.load()
    docs = read_pool(_cached_home(squad, args.squad, settings), "squad")
    docs += read_pool(_cached_home(clapnq, args.clapnq, settings), "clapnq")
    if args.scifact_limit:
        docs += read_pool(_scifact_home(args.scifact, args.scifact_limit, args.work), "scifact")
    random.Random(SEED).shuffle(docs)
    return docs


def plan(docs: list[dict], size: int) -> list[tuple[dict, int]]:
    """(document, copy number) in order until `size` chunks: the plan of a smaller size is a prefix of a larger one's."""
    out, total, copy = [], 0, 1
    while total < size:
        for doc in docs:
            if total >= size:
                break
            out.append((doc, copy))
            total += len(doc["chunks"])
        copy += 1
    return out


def write_documents(home: Path, items: list[tuple[dict, int]]) -> None:
    """Chunks then commit records, through the Store's write calls, COMMIT_CHUNKS at a time."""
    import numpy as np

    from ingest.chunking import chunk_id, doc_id_for
    from vectorstore.records import Chunk, DocumentRecord
    from vectorstore.store import Store

    store = Store.open(home / "chroma")
    with store.writer():
        begin = 0
        while begin < len(items):
            batch, count = [], 0
            while begin < len(items) and count < COMMIT_CHUNKS:
                batch.append(items[begin])
                count += len(items[begin][0]["chunks"])
                begin += 1
            chunks, vectors, shas, records = [], [], [], []
            for doc, copy in batch:
                source = doc["source"] if copy == 1 else f"{doc['source']} ~{copy}"
                doc_id = doc_id_for(source)
                for index, start, end, text, vector in doc["chunks"]:
                    chunks.append(Chunk(id=chunk_id(doc_id, start, text), doc_id=doc_id, source=source,
                                        title=doc["title"], chunk_index=index, start=start, end=end, text=text))
                    vectors.append(vector)
                    shas.append(doc["sha256"])
                records.append(DocumentRecord(doc_id=doc_id, source=source, title=doc["title"], sha256=doc["sha256"],
                                              chunks=len(doc["chunks"]), mtime=0.0, indexed_at=time.time(),
                                              text=doc["text"]))
            store.write_chunks(chunks, np.asarray(vectors, dtype=np.float32), shas)
            store.commit_documents(records)


def build_homes(args, sizes: list[int]) -> dict[int, dict]:
    """WORK/size-N for every size (reused when its marker matches), each grown from the one before."""
    docs = None
    built: dict[int, dict] = {}
    previous = None
    for size in sizes:
        home = args.work / f"size-{size}"
        want = {"size": size, "seed": SEED, "scifact_limit": args.scifact_limit}
        try:
            marker = json.loads((home / MARKER).read_text())
        except (OSError, ValueError):
            marker = {}
        if {k: marker.get(k) for k in want} == want:
            built[size] = marker
            previous = (home, marker["documents"])
            continue
        if docs is None:
            docs = pool(args)
            print(f"pool: {len(docs)} documents, {sum(len(d['chunks']) for d in docs)} chunks", file=sys.stderr)
        items = plan(docs, size)
        shutil.rmtree(home, ignore_errors=True)
        done = 0
        if previous is not None:
            shutil.copytree(previous[0], home, ignore=shutil.ignore_patterns(MARKER))
            done = previous[1]
        began = time.perf_counter()
        write_documents(home, items[done:])
        seconds = time.perf_counter() - began
        marker = {**want, "documents": len(items), "chunks": sum(len(d["chunks"]) for d, _ in items),
                  "distinct_chunks": sum(len(d["chunks"]) for d, c in items if c == 1),
                  "write_s": round(seconds, 1), "written_chunks": sum(len(d["chunks"]) for d, _ in items[done:])}
        (home / MARKER).write_text(json.dumps(marker))
        print(f"size {size}: {marker}", file=sys.stderr)
        built[size] = marker
        previous = (home, len(items))
    return built


def questions(args, count: int) -> list[dict]:
    """`count` seeded SQuAD questions whose paragraph is in the smallest home."""
    from evals.adapters import squad
    from vectorstore.store import Store

    home = args.work / f"size-{min(args.sizes)}"
    present = {r.source for r in Store.open(home / "chroma").documents()}
    cases = [c for c in squad.load(args.squad).cases if f"squad/{c.sources[0]}" in present]
    chosen = random.Random(SEED).sample(cases, min(count, len(cases)))
    return [{"id": c.id, "question": c.question, "source": f"squad/{c.sources[0]}"} for c in chosen]


# ---- one size, measured in its own process ---------------------------------------------------------
class _Counting:
    """A Chroma collection that counts the calls made through it."""

    def __init__(self, inner, name: str, calls: dict):
        self._inner, self._name, self._calls = inner, name, calls

    def __getattr__(self, attr):
        value = getattr(self._inner, attr)
        if not callable(value):
            return value

        def counted(*a, **kw):
            self._calls[self._name] = self._calls.get(self._name, 0) + 1
            return value(*a, **kw)

        return counted


def _timed(obj, name: str) -> dict[str, float]:
    """Wrap obj.name so that the seconds spent inside it add up in the returned {"s": ...}."""
    spent = {"s": 0.0}
    inner = getattr(obj, name)

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent["s"] += time.perf_counter() - t0

    setattr(obj, name, timed)
    return spent


def measure(home: Path, asked: list[dict], repeats: int, changes: int, scratch: Path) -> dict:
    import vectorstore
    from assistant import Assistant
    from vectorstore.lexical import LexicalIndex

    out: dict = {"imported_from": str(Path(vectorstore.__file__).resolve().parents[1]), "load_average_start": _load()}
    began = time.perf_counter()
    assistant = Assistant.open(home=home, preload=True)
    assistant.embedder.model
    out["open_s"] = time.perf_counter() - began
    calls: dict[str, int] = {}

    def count_calls() -> None:
        connection = assistant.store._connection
        if not isinstance(connection.chunks, _Counting):
            connection.chunks = _Counting(connection.chunks, "chunks", calls)
        if not isinstance(connection.docs, _Counting):
            connection.docs = _Counting(connection.docs, "documents", calls)

    assistant.store.committed()
    out["documents"] = len(assistant.store.committed())
    out["chunks"] = assistant.store._generations.visible
    began = time.perf_counter()
    assistant.lexical.unknown([])  # the saved index, read; built if another version of the code saved it in its format
    out["bm25_first_s"] = time.perf_counter() - began
    began = time.perf_counter()
    LexicalIndex(assistant.store, _lexical_dir(assistant)).unknown([])  # now surely in this code's format: a load
    out["bm25_load_s"] = time.perf_counter() - began
    # A whole-corpus build, into a scratch directory: what a question pays when no saved index can be used.
    shutil.rmtree(scratch, ignore_errors=True)
    began = time.perf_counter()
    LexicalIndex(assistant.store, scratch).unknown([])
    out["bm25_full_build_s"] = time.perf_counter() - began
    shutil.rmtree(scratch, ignore_errors=True)

    rounds = []
    for _ in range(repeats):
        assistant.embedder._cache.clear()
        assistant._texts.clear()
        runs = []
        for q in asked:
            count_calls()
            calls.clear()
            t0 = time.perf_counter()
            answer = assistant.ask(q["question"])
            wall = (time.perf_counter() - t0) * 1000
            runs.append({"retrieve": answer.timings_ms["retrieve"], "total": answer.timings_ms["total"],
                         "wall": wall, "calls": sum(calls.values()),
                         "found": any(h.chunk.source.split(" ~")[0] == q["source"] for h in answer.hits)})
        rounds.append({stage: {"p50": statistics.median(r[stage] for r in runs), "p95": _pct([r[stage] for r in runs], 0.95)}
                       for stage in ("retrieve", "total", "wall", "calls")})
        rounds[-1]["found"] = sum(r["found"] for r in runs) / len(runs)
    out["ask_rounds"] = rounds
    out["ask"] = {stage: {p: statistics.median(r[stage][p] for r in rounds) for p in ("p50", "p95")}
                  for stage in ("retrieve", "total", "wall", "calls")}
    out["paragraph_found"] = statistics.median(r["found"] for r in rounds)
    out["rss_after_asks_mb"] = _rss_mb()

    # ---- the first ask after a one-file change -------------------------------------------------
    changes_dir = scratch.with_name(scratch.name + "-changes")
    shutil.rmtree(changes_dir, ignore_errors=True)
    changes_dir.mkdir(parents=True)
    refresh = _timed(assistant.lexical, "_ensure_fresh")  # seconds inside, since last reset
    listing = _timed(assistant.store._documents, "listing")
    files: list[Path] = []

    def change(n: int) -> float:
        path = changes_dir / f"note-{n}.txt"
        path.write_text(CHANGE_TEXT.format(n=n, colour=COLOURS[n % len(COLOURS)], cost=1000 + 37 * n, days=3 + n))
        files.append(path)
        t0 = time.perf_counter()
        report = assistant.ingest(path)
        assert report.sources("added"), report
        return time.perf_counter() - t0

    # untimed: the first ingest of a process imports the chunker (llama-index), and the first
    # question after it pays the first refresh
    change(0)
    assistant.ask(asked[0]["question"])
    cycles = []
    for n in range(1, changes + 1):
        question = asked[n % len(asked)]["question"]
        assistant.embedder._cache.clear()
        assistant._texts.clear()
        assistant.ask(question)  # the same question once before, so "first ask after" differs only by the change
        ingest_s = change(2 * n - 1)
        count_calls()
        calls.clear()
        refresh["s"] = listing["s"] = 0.0
        t0 = time.perf_counter()
        first = assistant.ask(question)
        first_s = time.perf_counter() - t0
        first_calls = sum(calls.values())
        first_refresh, first_listing = refresh["s"], listing["s"]
        calls.clear()
        refresh["s"] = 0.0
        t0 = time.perf_counter()
        assistant.ask(question)
        again_s = time.perf_counter() - t0
        again_calls = sum(calls.values())
        # the next process's view: a new LexicalIndex on the saved index, after a change and without one
        # (the store lists the documents first, as a question's first step does)
        change(2 * n)
        t0 = time.perf_counter()
        assistant.store.committed()
        new_process_listing_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        LexicalIndex(assistant.store, _lexical_dir(assistant)).unknown([])
        new_process_refresh_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        LexicalIndex(assistant.store, _lexical_dir(assistant)).unknown([])
        new_process_load_s = time.perf_counter() - t0
        cycles.append({"ingest_s": ingest_s, "first_ask_s": first_s, "first_bm25_refresh_s": first_refresh,
                       "first_listing_s": first_listing, "first_rest_s": first_s - first_refresh - first_listing,
                       "first_retrieve_ms": first.timings_ms["retrieve"], "first_calls": first_calls,
                       "again_ask_s": again_s, "again_calls": again_calls, "new_process_listing_s": new_process_listing_s,
                       "new_process_refresh_s": new_process_refresh_s, "new_process_load_s": new_process_load_s})
    out["change_cycles"] = cycles
    out["change"] = {k: statistics.median(c[k] for c in cycles) for k in cycles[0]} if cycles else {}
    del assistant.lexical._ensure_fresh, assistant.store._documents.listing  # the methods again
    for path in files:
        assistant.remove(str(path))
    assistant.lexical.unknown([])  # saved at the home's own generation again
    shutil.rmtree(changes_dir, ignore_errors=True)
    out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load_average_end"] = _load()
    return out


# ---- the report --------------------------------------------------------------------------------
def table(result: dict) -> str:
    rows = result["sizes"]
    smallest = {row["code"]: row for row in rows if row["size"] == min(r["size"] for r in rows)}
    lines = ["| chunks (documents) | code | ask retrieve p50 · p95 ms | ask total p50 · p95 ms | total p50 / smallest | "
             "Chroma calls per question | first ask after a one-file change s | its BM25 refresh · document listing s | "
             "the same ask again s | next process: BM25 refresh after a change · load s | BM25 whole build s | "
             "RSS after the asks · peak MB | load average |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        a, c = row["ask"], row["change"]
        base = smallest[row["code"]]["ask"]["total"]["p50"]
        lines.append(
            f"| {row['chunks']:,} ({row['documents']:,}) | {row['code']} | {a['retrieve']['p50']:.0f} · {a['retrieve']['p95']:.0f} | "
            f"{a['total']['p50']:.0f} · {a['total']['p95']:.0f} | {a['total']['p50'] / base:.2f} | "
            f"{a['calls']['p50']:.0f} | {c['first_ask_s']:.2f} | {c['first_bm25_refresh_s']:.2f} · {c['first_listing_s']:.2f} | "
            f"{c['again_ask_s']:.2f} | "
            f"{c['new_process_refresh_s']:.2f} · {c['new_process_load_s']:.2f} | {row['bm25_full_build_s']:.1f} | "
            f"{row['rss_after_asks_mb']:.0f} · {row['rss_peak_mb']:.0f} | "
            f"{row['load_average_start'][0]:.1f}–{row['load_average_end'][0]:.1f} |")
    return "\n".join(lines)


def run_size(args, size: int, asked: list[dict], src: Path) -> dict:
    qfile = args.work / "questions.json"
    qfile.write_text(json.dumps(asked))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(src), HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    result_file = args.work / f"result-{size}.json"
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(args.work / f"size-{size}"),
            "--child-questions", str(qfile), "--child-out", str(result_file), "--repeats", str(args.repeats),
            "--changes", str(args.changes)]
    proc = subprocess.Popen(argv, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"size {size}: the measuring process failed ({os.waitstatus_to_exitcode(status)})")
    row = json.loads(result_file.read_text())
    row["child_peak_rss_mb"] = usage.ru_maxrss / 1024
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, help="DATA/squad-v1.1-dev")
    parser.add_argument("--clapnq", type=Path, help="DATA/clapnq-dev")
    parser.add_argument("--scifact", type=Path, help="DATA/scifact (BEIR layout)")
    parser.add_argument("--scifact-limit", type=int, default=1000, help="SciFact abstracts to embed into the pool (0: none)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("/tmp/growth"), help="where the homes are built (GBs at 100k)")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the questions, per size")
    parser.add_argument("--changes", type=int, default=3, help="one-file changes timed, per size")
    parser.add_argument("--src", type=Path, default=ROOT, help="the checkout whose code is measured")
    parser.add_argument("--baseline-src", type=Path,
                        help="another checkout measured on the same homes in the same run (e.g. `git archive main`)")
    parser.add_argument("--out", type=Path, help="write JSON here (and the table as .md beside it)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-questions", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asked = json.loads(args.child_questions.read_text())
        row = measure(args.child, asked, args.repeats, args.changes, args.child.with_name(args.child.name + "-scratch"))
        args.child_out.write_text(json.dumps(row))
        return
    if not (args.squad and args.clapnq and (args.scifact or not args.scifact_limit)):
        parser.error("--squad, --clapnq and --scifact (or --scifact-limit 0) are required")
    sys.path.insert(0, str(args.src.resolve()))
    args.src = args.src.resolve()
    args.baseline_src = args.baseline_src.resolve() if args.baseline_src else None
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    homes = build_homes(args, args.sizes)
    build_s = time.perf_counter() - began
    asked = questions(args, args.questions)
    contenders = [("this code", args.src)] + ([("baseline", args.baseline_src)] if args.baseline_src else [])
    rows = []
    for turn, size in enumerate(args.sizes):
        # the baseline first at every other size, so a change in the machine's load hits both alike
        for label, src in (contenders if turn % 2 == 0 else contenders[::-1]):
            load_before = _load()
            row = run_size(args, size, asked, src)
            rows.append({"size": size, "code": label, "src": str(src), "home": homes[size], "load_before": load_before,
                         "load_after": _load(), **row})
            print(f"size {size}, {label}: ask total p50 {row['ask']['total']['p50']:.0f} ms, first ask after a change "
                  f"{row['change'].get('first_ask_s', float('nan')):.2f} s (BM25 refresh "
                  f"{row['change'].get('first_bm25_refresh_s', float('nan')):.2f} s)", file=sys.stderr)
    result = {"command": "python " + " ".join(sys.argv), "src": str(args.src),
              "baseline_src": str(args.baseline_src) if args.baseline_src else None, "sizes": rows,
              "questions": len(asked), "repeats": args.repeats, "changes": args.changes,
              "build_homes_s": round(build_s, 1), "cpus": os.cpu_count(),
              "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - (time.perf_counter() - began)))}
    text = table(result)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(f"`{result['command']}`\n\n{text}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
