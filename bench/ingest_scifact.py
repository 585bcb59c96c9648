"""Ingest speed and memory on BEIR SciFact: our pipeline vs a plain llama-index + Chroma ingest.

Each contender runs in its own fresh subprocess (so peak RSS is its own), on the same texts
(`title + " " + text` per abstract, the BEIR protocol), with the same MiniLM weights, the same
chunk size/overlap counted in the same MiniLM tokens, into a fresh Chroma PersistentClient.
Ours runs twice per round: with the fp32 model (`ours`) and the int8 one (`ours-int8`).

    python bench/ingest_scifact.py --corpus SCIFACT_DIR/corpus.jsonl

Not a test: nothing here asserts a time. Reads only the corpus path it is given; downloads nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results"
CONTENDERS = ("ours", "ours-int8", "baseline")
OURS = {"ours": "fp32", "ours-int8": "int8"}  # contender -> [model] precision
NAMES = {"ours": "ours (`Assistant.ingest_texts`, fp32)", "ours-int8": "ours, `[model] precision = \"int8\"`",
         "baseline": "llama-index `VectorStoreIndex` + `ChromaVectorStore`"}


def load_corpus(path: Path, limit: int | None) -> list[dict]:
    """The first `limit` SciFact docs as {"id", "title", "text"} with text = title + " " + abstract."""
    docs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            docs.append({"id": str(row["_id"]), "title": row.get("title") or "",
                         "text": f"{row.get('title') or ''} {row.get('text') or ''}".strip()})
            if limit and len(docs) >= limit:
                break
    return docs


def _offline_env() -> None:
    # Never reach for the hub or phone home: the model is local, the data is local.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Timer:
    """Accumulates wall time and calls of wrapped functions (the phases of an ingest)."""

    def __init__(self, report_every: int = 0):
        self.began = time.perf_counter()
        self.report_every = report_every  # print a progress line every N embedded texts (long runs)
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.items: dict[str, int] = {}  # len() of what the step returned, summed

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                out = fn(*args, **kwargs)
                if hasattr(out, "__len__"):
                    before = self.items.get(name, 0)
                    self.items[name] = before + len(out)
                    if name == "embed" and self.report_every and \
                            self.items[name] // self.report_every > before // self.report_every:
                        print(f"    {self.items[name]} chunks embedded, {time.perf_counter() - self.began:.0f} s",
                              file=sys.stderr, flush=True)
                return out
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
                self.calls[name] = self.calls.get(name, 0) + 1
        return timed


# ---- the contenders (each runs in a child process) ------------------------------------

def run_ours(docs: list[dict], workdir: Path, chunk_size: int, chunk_overlap: int, batch_size: int,
             profile: Path | None, precision: str = "fp32") -> dict:
    """Our ingest (`Assistant.ingest_texts`): clean, chunk (SentenceSplitter, MiniLM tokens), embed, write, commit."""
    setup_began = time.perf_counter()
    from assistant import Assistant

    assistant = Assistant.open(home=workdir / "ours", chunk={"size": chunk_size, "overlap": chunk_overlap},
                         embed_batch_size=batch_size, model={"precision": precision})
    assert assistant.embedder.precision == precision
    assistant.embedder.embed(["warm up"])  # load the model and run one batch before the clock starts
    setup = time.perf_counter() - setup_began

    timer = _Timer(report_every=2000)
    ingestor, store = assistant.ingestor, assistant.store
    ingestor.chunker.chunk = timer.wrap("chunk", ingestor.chunker.chunk)
    ingestor.embedder.embed = timer.wrap("embed", ingestor.embedder.embed)
    store.write_chunks = timer.wrap("store_write", store.write_chunks)
    for name in ("commit_documents", "commit_document"):  # the batched API, or the older per-document one
        if hasattr(store, name):
            setattr(store, name, timer.wrap("store_commit", getattr(store, name)))
    model = ingestor.embedder.model
    model.encode = timer.wrap("model_encode", model.encode)

    items = [(d["id"], d["text"], d["title"]) for d in docs]
    began = time.perf_counter()
    report = _profiled(profile, lambda: assistant.ingest_texts(items))
    seconds = time.perf_counter() - began
    return {"docs": len(docs), "indexed_docs": len(report.sources("added")), "failed": len(report.failed),
            "chunks": report.chunks, "stored_chunks": store.count(), "seconds": seconds, "setup_seconds": setup,
            "phases": {k: round(v, 3) for k, v in timer.seconds.items()}, "calls": timer.calls,
            "embedded_texts": timer.items.get("embed", 0), "failures": [r.error for r in report.failed[:5]],
            "embedder": assistant.embedder.backend, "precision": assistant.embedder.precision}


def run_baseline(docs: list[dict], workdir: Path, chunk_size: int, chunk_overlap: int, batch_size: int,
                 profile: Path | None) -> dict:
    """Plain llama-index: VectorStoreIndex.from_documents into a ChromaVectorStore, HuggingFaceEmbedding."""
    setup_began = time.perf_counter()
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from tokenizers import Tokenizer

    from vectorstore.minilm import packaged_model_dir  # only to find the same weights

    model_dir = packaged_model_dir()
    # The same tokenizer ours sizes chunks with: MiniLM WordPiece, no special tokens.
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                                tokenizer=lambda text: tok.encode(text, add_special_tokens=False).ids)
    embed_model = HuggingFaceEmbedding(model_name=str(model_dir), device="cpu", embed_batch_size=batch_size)
    embed_model.get_text_embedding("warm up")
    client = chromadb.PersistentClient(path=str(workdir / "baseline"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("scifact", metadata={"hnsw:space": "cosine"})
    vector_store = ChromaVectorStore(chroma_collection=collection)
    setup = time.perf_counter() - setup_began

    timer = _Timer(report_every=2000)
    # Time the phases without changing what runs: wrap the bound methods llama-index calls.
    object.__setattr__(splitter, "_parse_nodes", timer.wrap("chunk", splitter._parse_nodes))
    object.__setattr__(embed_model, "_get_text_embeddings", timer.wrap("embed", embed_model._get_text_embeddings))
    object.__setattr__(vector_store, "add", timer.wrap("store_write", vector_store.add))
    st_model = embed_model._model
    st_model.encode = timer.wrap("model_encode", st_model.encode)

    # The title rides along as metadata (like ours) but is not embedded: the text already starts with it.
    documents = [Document(text=d["text"], id_=d["id"], metadata={"title": d["title"]},
                          excluded_embed_metadata_keys=["title"], excluded_llm_metadata_keys=["title"])
                 for d in docs]
    began = time.perf_counter()
    storage = StorageContext.from_defaults(vector_store=vector_store)
    index = _profiled(profile, lambda: VectorStoreIndex.from_documents(
        documents, storage_context=storage, embed_model=embed_model, transformations=[splitter]))
    seconds = time.perf_counter() - began
    del index
    chunks = timer.items.get("chunk", 0)  # the nodes the splitter made (Chroma holds the text, not the index)
    return {"docs": len(docs), "indexed_docs": len(docs), "failed": 0, "chunks": chunks,
            "stored_chunks": collection.count(), "seconds": seconds, "setup_seconds": setup,
            "phases": {k: round(v, 3) for k, v in timer.seconds.items()}, "calls": timer.calls,
            "embedded_texts": timer.items.get("embed", 0), "failures": []}


def _profiled(profile: Path | None, fn):
    if profile is None:
        return fn()
    import cProfile
    import pstats

    prof = cProfile.Profile()
    try:
        return prof.runcall(fn)
    finally:
        prof.dump_stats(str(profile))
        stats = pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(35)
        stats.sort_stats("tottime").print_stats(20)


def child_main(args: argparse.Namespace) -> None:
    """Run one contender and write its figures (with its own peak RSS) to args.child_result."""
    began = time.perf_counter()
    _offline_env()
    if args.nice:
        os.nice(args.nice)
    sys.path.insert(0, str(ROOT))

    docs = load_corpus(Path(args.corpus), args.limit)
    profile = Path(args.profile) if args.profile else None
    if args.child in OURS:
        result = run_ours(docs, Path(args.workdir), args.chunk_size, args.chunk_overlap, args.batch_size, profile,
                          OURS[args.child])
    else:
        result = run_baseline(docs, Path(args.workdir), args.chunk_size, args.chunk_overlap, args.batch_size, profile)
    torch = sys.modules.get("torch")  # not imported here: ours may run without it (its peak RSS is its own)
    result.update(contender=args.child, chunks_per_s=result["chunks"] / result["seconds"],
                  docs_per_s=result["docs"] / result["seconds"], peak_rss_mb=_peak_rss_mb(),
                  process_seconds=time.perf_counter() - began,
                  torch_threads=torch.get_num_threads() if torch else None,
                  torch_version=torch.__version__ if torch else None)
    Path(args.child_result).write_text(json.dumps(result, indent=2))


# ---- the parent: runs the children, compares, reports ----------------------------------

def run_child(contender: str, args: argparse.Namespace, tmp: Path, round_no: int) -> dict:
    workdir = tmp / f"{contender}-{round_no}"
    workdir.mkdir()
    out = workdir / "result.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", contender, "--corpus", str(args.corpus),
           "--workdir", str(workdir), "--child-result", str(out), "--chunk-size", str(args.chunk_size),
           "--chunk-overlap", str(args.chunk_overlap), "--batch-size", str(args.batch_size),
           "--nice", str(args.nice)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.profile:
        cmd += ["--profile", str(Path(args.profile) / f"ingest_scifact.{contender}.{round_no}.prof")]
    load_before = os.getloadavg()[0]
    print(f"[round {round_no}] {contender} ...", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, cwd=str(ROOT))
    result = json.loads(out.read_text())
    result.update(round=round_no, load_before=round(load_before, 2), load_after=round(os.getloadavg()[0], 2))
    print(f"[round {round_no}] {contender}: {result['chunks']} chunks in {result['seconds']:.1f} s "
          f"= {result['chunks_per_s']:.1f} chunks/s, peak RSS {result['peak_rss_mb']:.0f} MB, "
          f"phases {result['phases']}", file=sys.stderr, flush=True)
    return result


def summarise(runs: list[dict]) -> dict:
    summary = {}
    for name in CONTENDERS:
        mine = [r for r in runs if r["contender"] == name]
        if not mine:
            continue
        summary[name] = {
            "docs": mine[0]["docs"], "chunks": mine[0]["chunks"], "runs": len(mine),
            "seconds": statistics.median(r["seconds"] for r in mine),
            "embed_seconds": statistics.median(r["phases"].get("embed", 0.0) for r in mine),
            "chunks_per_s": statistics.median(r["chunks_per_s"] for r in mine),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in mine),
            "setup_seconds": statistics.median(r["setup_seconds"] for r in mine),
        }
    # Per round (the same machine state), each of ours over the baseline, and int8 over fp32.
    for key, top, bottom in (("ratio", "ours", "baseline"), ("ratio_int8", "ours-int8", "baseline"),
                             ("ratio_int8_fp32", "ours-int8", "ours")):
        ratios = []
        for round_no in sorted({r["round"] for r in runs}):
            pair = {r["contender"]: r for r in runs if r["round"] == round_no}
            if top in pair and bottom in pair:
                ratios.append(pair[top]["chunks_per_s"] / pair[bottom]["chunks_per_s"])
        summary[f"{key}_per_round"] = [round(x, 3) for x in ratios]
        summary[key] = statistics.median(ratios) if ratios else None
    return summary


def markdown(result: dict) -> str:
    s = result["summary"]
    lines = [
        "# Ingest benchmark: BEIR SciFact",
        "",
        f"Command: `{result['command']}` (code {result['env']['code']}, {result['env']['when']})",
        "",
        f"{result['docs']} documents (`title + \" \" + text`), chunk size {result['chunk_size']} / overlap "
        f"{result['chunk_overlap']} MiniLM tokens, embed batch {result['batch_size']}, all-MiniLM-L6-v2 on CPU "
        f"({result['env']['cpus']} cores, torch {result['env']['torch_threads']} threads), each contender in a "
        f"fresh process under `nice -n {result['nice']}`, fresh Chroma PersistentClient, "
        f"{result['rounds']} round(s), order alternated; medians over rounds, peak RSS = max.",
        "",
        "| contender | docs | chunks | ingest s | embed s | chunks/s | peak RSS MB | setup s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in (n for n in CONTENDERS if n in s):
        c = s[name]
        lines.append(f"| {NAMES[name]} | {c['docs']} | {c['chunks']} | {c['seconds']:.1f} | "
                     f"{c['embed_seconds']:.1f} | {c['chunks_per_s']:.1f} | {c['peak_rss_mb']:.0f} | "
                     f"{c['setup_seconds']:.1f} |")
    for key, what in (("ratio", "ours fp32/baseline"), ("ratio_int8", "ours int8/baseline"),
                      ("ratio_int8_fp32", "ours int8/ours fp32")):
        if s.get(key) is not None:
            lines += ["", f"**Ratio {what} (chunks/s, same run): {s[key]:.2f}** "
                          f"(per round: {', '.join(f'{x:.2f}' for x in s[key + '_per_round'])}); "
                          "above 1 means the first is faster."]
    lines += [
        "",
        "Per run (phase seconds are wall time inside the named step; `model_encode` = "
        "SentenceTransformer.encode calls):",
        "",
        "| round | contender | ingest s | chunks/s | peak RSS MB | phases | encode calls | load before/after |",
        "|---:|---|---:|---:|---:|---|---:|---|",
    ]
    for r in result["runs"]:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
        lines.append(f"| {r['round']} | {r['contender']} | {r['seconds']:.1f} | {r['chunks_per_s']:.1f} | "
                     f"{r['peak_rss_mb']:.0f} | {phases} | {r['calls'].get('model_encode', 0)} | "
                     f"{r['load_before']} / {r['load_after']} |")
    lines += ["", "ingest s: the ingest call only (model loaded and warmed up before the clock starts); "
              "setup s: imports, model load, opening the store.", ""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="example: python bench/ingest_scifact.py --limit 300 --rounds 1")
    p.add_argument("--corpus", type=Path, required=True, help="SciFact corpus.jsonl (BEIR layout)")
    p.add_argument("--limit", type=int, default=None, help="only the first N documents")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where ingest_scifact.json/.md go")
    p.add_argument("--rounds", type=int, default=2, help="rounds; the order of contenders alternates")
    p.add_argument("--chunk-size", type=int, default=None, help="MiniLM tokens; default: the project's setting")
    p.add_argument("--chunk-overlap", type=int, default=None, help="default: the project's setting")
    p.add_argument("--batch-size", type=int, default=None,
                   help="embedding batch for both; default: the project's embed_batch_size")
    p.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS),
                   help="run only some (e.g. to profile one); a ratio needs both of its sides")
    p.add_argument("--nice", type=int, default=5, help="niceness of both children")
    p.add_argument("--profile", type=Path, default=None, help="cProfile each ingest, .prof files into this dir")
    p.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--child-result", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    if not args.corpus.is_file():
        sys.exit(f"corpus not found: {args.corpus} (give --corpus PATH to SciFact corpus.jsonl)")
    sys.path.insert(0, str(ROOT))
    from assistant.settings import Settings

    defaults = Settings(home=Path(tempfile.gettempdir()))
    args.chunk_size = args.chunk_size or defaults.chunk.size
    args.chunk_overlap = defaults.chunk.overlap if args.chunk_overlap is None else args.chunk_overlap
    args.batch_size = args.batch_size or defaults.embed_batch_size
    args.corpus = args.corpus.resolve()
    docs = len(load_corpus(args.corpus, args.limit))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    runs: list[dict] = []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for round_no in range(1, args.rounds + 1):
            order = CONTENDERS if round_no % 2 else CONTENDERS[::-1]
            for contender in (c for c in order if c in args.contenders):
                runs.append(run_child(contender, args, Path(tmp), round_no))
                # Keep what is done so far: a long run on a shared machine can be cut short.
                partial = dict(_result(args, argv, docs, runs), partial=True)
                (args.out / "ingest_scifact.json").write_text(json.dumps(partial, indent=2) + "\n")

    result = _result(args, argv, docs, runs)
    table = markdown(result)
    (args.out / "ingest_scifact.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "ingest_scifact.md").write_text(table)
    print(table)


def _code_version() -> str:
    """HEAD of the repo, marked dirty when the measured packages have uncommitted changes."""
    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "assistant", "ingest", "vectorstore")
    return head + ("+dirty" if dirty else "")


def _result(args: argparse.Namespace, argv: list[str] | None, docs: int, runs: list[dict]) -> dict:
    shown = ["python", "bench/ingest_scifact.py"] + (argv if argv is not None else sys.argv[1:])
    return {
        "benchmark": "ingest_scifact", "command": shlex.join(shown), "corpus": str(args.corpus), "docs": docs,
        "limit": args.limit, "chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap,
        "batch_size": args.batch_size, "nice": args.nice, "rounds": args.rounds,
        "env": {"python": platform.python_version(), "cpus": os.cpu_count(), "torch": runs[0]["torch_version"],
                "torch_threads": runs[0]["torch_threads"], "machine": platform.machine(),
                "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "code": _code_version()},
        "summary": summarise(runs), "runs": runs,
    }


if __name__ == "__main__":
    main()
