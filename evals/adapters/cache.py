"""A benchmark's own store, built once in a cache dir and reused while nothing that shapes it changes."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from evals.adapters.base import Benchmark

# Bump when the way corpora are turned into texts changes, so old cached stores are not reused.
ADAPTER_VERSION = 1
READY = "eval-ready.json"


def cache_root() -> Path:
    """$ASSISTANT_EVAL_CACHE, else the per-user cache dir (e.g. ~/.cache/docs-assistant/evals)."""
    if os.environ.get("ASSISTANT_EVAL_CACHE"):
        return Path(os.environ["ASSISTANT_EVAL_CACHE"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("docs-assistant", appauthor=False)) / "evals"


def index_key(bench: Benchmark, settings) -> str:
    """Hash of what shapes the index: the data files' bytes, chunking, the embedding model and its precision."""
    digest = hashlib.sha256()
    for file in bench.files:
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    shape = {"adapter": ADAPTER_VERSION, "kind": bench.kind, "chunk": settings.chunk.model_dump(),
             "model_dir": str(settings.model_dir or "packaged")}
    if settings.model.precision != "fp32":  # fp32 stores were cached before precision was a setting: same keys
        shape["precision"] = settings.model.precision
    digest.update(json.dumps(shape, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def benchmark_home(bench: Benchmark, settings, root: Path | None = None) -> Path:
    """<cache root>/<benchmark name>-<index key>: the home of the benchmark's store."""
    return Path(root or cache_root()) / f"{bench.name}-{index_key(bench, settings)}"


def is_ready(home: Path, bench: Benchmark) -> bool:
    """True when an earlier run finished indexing this corpus here."""
    try:
        return json.loads((home / READY).read_text()).get("documents") == bench.documents
    except (OSError, ValueError):
        return False


def build_store(assistant, bench: Benchmark, home: Path, progress=None):
    """Index the corpus through Assistant.ingest_texts (unchanged texts are skipped); None if already built."""
    home = Path(home)
    if is_ready(home, bench) and len(assistant.sources()) == bench.documents:
        return None
    report = assistant.ingest_texts(bench.corpus(), progress=progress)
    if not report.failed:
        (home / READY).write_text(json.dumps({"documents": bench.documents, "name": bench.name}))
    return report
