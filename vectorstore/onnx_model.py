"""MiniLM on onnxruntime: the model exported once to ONNX, its int8 variant, and the session that runs them.

The export is made from the packaged, checksum-verified weights (vectorstore/minilm.py) with torch, once,
and checked against torch; answering a question never imports torch. It is run with the `tokenizers`
WordPiece tokenizer, mean pooling and L2 normalisation as sentence-transformers does.

The export lives in a cache directory (`$ASSISTANT_MODEL_CACHE`, default the per-user cache dir)
beside a JSON record of its own sha256: a file that no longer matches it is exported again.

Two precisions: `fp32` (the export) and `int8` (the export with its weights quantized to int8 by
onnxruntime's dynamic quantization, per channel: ~1.7x faster on a CPU, cosine >= 0.99 to fp32). The
int8 file sits beside the export with its own sha256 record and is checked, rebuilt and locked the same way.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vectorstore.errors import ModelError
from vectorstore.minilm import (DIMENSION, MAX_TOKENS, MODEL_SHA256, default_threads, file_sha256, verify_weights,
                                wordpiece_tokenizer)

# Texts per onnxruntime call at most: texts sorted by token length, small batches pad little and keep
# the activations small. Encoding 300 SciFact abstracts (256 tokens at most) in a fresh process, peak RSS
# above the loaded model and time: batch 16 +340 MB, 12.7 s; 8 +150 MB; 4 +80 MB, 11.9 s; 2 +50 MB,
# 11.5 s; 1 +20 MB, 12.5 s (medians of 2-5 runs, alternating, idle machine; a throwaway script). The
# whole SciFact ingest bench ran 1.44x the baseline at 4 and 1.35x at 2: the same, within its noise.
ONNX_BATCH = 4
ONNX_FORMAT = 1  # bump when the exported graph changes: older exports are then rebuilt
ONNX_OPSET = 17
# Exported sentences must match the torch model at least this well, or the export is refused.
EXPORT_MIN_COSINE = 0.9999
INT8_FORMAT = 1  # bump when the quantization changes: older int8 files are then rebuilt
# The int8 model must match the fp32 export at least this well on the test sentences, or it is refused
# (measured: min 0.992, median 0.995 on 150 SciFact abstracts).
INT8_MIN_COSINE = 0.98
# The int8 model quantizes its activations with one scale per tensor, taken from the whole batch: a text
# batched with others (and their padding) comes out otherwise than alone (cosine down to 0.989 measured).
# One text per call makes each vector a function of its text alone, the same in an ingest and a query;
# and it measured faster than batches of 16 (no padding).
INT8_BATCH = 1

log = logging.getLogger(__name__)


def model_cache_dir() -> Path:
    """Where exported models live: $ASSISTANT_MODEL_CACHE, else the per-user cache dir."""
    given = os.environ.get("ASSISTANT_MODEL_CACHE")
    if given:
        return Path(given).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("docs-assistant", appauthor=False)) / "models"


def _stat_key(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino]


# ---- the ONNX export ---------------------------------------------------------------------------

# What a made model is checked on: short, plain, and one long enough to be cut at 256 tokens.
_CHECK_SENTENCES = ("Who denied involvement?", "The Kremlin called the allegations absurd.",
                    "Mitochondria are the powerhouse of the cell; ATP synthesis needs a proton gradient. " * 20)


class _CachedModel:
    """One ONNX file in the model cache beside a JSON record of its sha256 and origin.

    Made once (by `build`, under a file lock: two processes never make it at once), checked on
    every load, made again when it is missing, damaged or no longer matches its record.
    """

    stem = "model"  # the file is <stem>.onnx, its record <stem>.json
    format = ONNX_FORMAT  # recorded; a file made by another format is made again
    label = ""  # how the warnings name it
    batch = ONNX_BATCH  # texts per onnxruntime call at most

    def __init__(self, model_dir: Path, cache_dir: Path | None = None):
        self.model_dir = Path(model_dir)
        self.cache_dir = cache_dir
        self.directory = Path(cache_dir or model_cache_dir()) / f"minilm-{MODEL_SHA256[:16]}-onnx{ONNX_FORMAT}"
        self.path = self.directory / f"{self.stem}.onnx"
        self.record = self.directory / f"{self.stem}.json"

    def ensure(self) -> Path:
        """The verified file, made (again) if it is missing or does not match its recorded sha256."""
        problem = self.check()
        if problem is None:
            return self.path
        if problem != "missing":
            log.warning("Re-exporting the ONNX model%s: %s", self.label, problem)
        self.directory.mkdir(parents=True, exist_ok=True)
        import fcntl

        # One lock per file: making the int8 model takes the export's lock inside its own.
        lock_name = ".lock" if self.stem == "model" else f".{self.stem}.lock"
        with (self.directory / lock_name).open("w") as lock:  # two processes never make it at once
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.check() is not None:  # the other process may have just made it
                self.build()
            problem = self.check()
            if problem is not None:
                raise ModelError(f"Cannot export the embedding model to {self.path}: {problem}")
        return self.path

    def check(self) -> str | None:
        """None if the file is there and intact, else why not."""
        if not self.path.is_file() or not self.record.is_file():
            return "missing"
        try:
            record = json.loads(self.record.read_text())
            expected, source = record["sha256"], record["source"]
        except (OSError, ValueError, KeyError, TypeError):
            return f"{self.record} is damaged"
        if record.get("format") != self.format or record.get("source_sha256") != MODEL_SHA256:
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
        raise NotImplementedError

    def _publish(self, tmp: Path, **facts) -> None:
        """Move a made and checked file into place, then write its record (sha256, origin, facts)."""
        digest = file_sha256(tmp)
        os.replace(tmp, self.path)
        record = {"format": self.format, "sha256": digest, "source_sha256": MODEL_SHA256,
                  "source": _stat_key(self.model_dir / "model.safetensors"), **facts}
        tmp_record = self.record.with_name(f".{self.stem}-{os.getpid()}.json")
        tmp_record.write_text(json.dumps(record, indent=1))
        os.replace(tmp_record, self.record)

    def _tmp(self) -> Path:
        return self.directory / f".{self.stem}-{os.getpid()}-{threading.get_ident()}.onnx"


class OnnxExport(_CachedModel):
    """The fp32 ONNX export of the model: `model.onnx` + `model.json` (its sha256 and origin)."""

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
        tmp = self._tmp()
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
            self._publish(tmp, opset=ONNX_OPSET, torch=torch.__version__)
        finally:
            tmp.unlink(missing_ok=True)

    def _torch_reference(self, pooled) -> tuple[list[str], np.ndarray]:
        """A few sentences (one long enough to be cut at 256 tokens) and their torch embeddings."""
        import torch

        sentences = list(_CHECK_SENTENCES)
        tok = wordpiece_tokenizer(self.model_dir, MAX_TOKENS)
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


class OnnxInt8(_CachedModel):
    """The export with int8 weights (onnxruntime dynamic quantization, per channel): `model-int8.onnx`.

    Made from the verified fp32 export (made first if need be) and checked against it on test
    sentences; its record names the export it was made from.
    """

    stem = "model-int8"
    format = INT8_FORMAT
    label = " (int8)"
    batch = INT8_BATCH

    def build(self) -> None:
        """Quantize the verified fp32 export, check it against fp32, record its sha256."""
        source = OnnxExport(self.model_dir, self.cache_dir)
        fp32 = source.ensure()
        fp32_sha256 = json.loads(source.record.read_text())["sha256"]
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = self._tmp()
        try:
            with _quiet_root_logging():  # it warns (on the root logger) that the model was not pre-processed
                quantize_dynamic(fp32, tmp, weight_type=QuantType.QInt8, per_channel=True)
            sentences = list(_CHECK_SENTENCES)
            want = OnnxMiniLM(fp32, self.model_dir).encode(sentences)
            got = OnnxMiniLM(tmp, self.model_dir, batch=self.batch).encode(sentences)
            cosine = float((got * want).sum(axis=1).min())
            log.debug("int8 vs fp32 lowest cosine: %.5f", cosine)
            if cosine < INT8_MIN_COSINE:
                raise ModelError(f"The int8 model does not match the fp32 export (cosine {cosine:.5f})")
            self._publish(tmp, fp32_sha256=fp32_sha256, quantization="dynamic QInt8 per channel",
                          onnxruntime=onnxruntime.__version__)
        finally:
            tmp.unlink(missing_ok=True)


class _quiet_root_logging:
    """Drop what a library logs on the root logger meanwhile, and keep it from configuring logging.

    `logging.warning(...)` on a root logger without handlers would call basicConfig for the whole process.
    """

    def __enter__(self):
        self.handler = logging.NullHandler()
        self.filter = lambda record: record.name != "root"
        logging.root.addHandler(self.handler)
        logging.root.addFilter(self.filter)

    def __exit__(self, *exc):
        logging.root.removeFilter(self.filter)
        logging.root.removeHandler(self.handler)


EXPORTS = {"fp32": OnnxExport, "int8": OnnxInt8}  # precision -> its model file
PRECISIONS = tuple(EXPORTS)


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

    def __init__(self, path: Path, model_dir: Path, threads: int | None = None, max_tokens: int = MAX_TOKENS,
                 batch: int = ONNX_BATCH):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads sleep instead of spinning: on a shared 2-core machine spinning threads
        # take turns away from the one doing the work (measured: spinning 2 threads was the slowest).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = Path(path)
        self.tokenizer = wordpiece_tokenizer(model_dir, max_tokens)
        self.max_seq_length = max_tokens
        self.batch = batch

    def encode(self, sentences: Sequence[str], batch_size: int = 64, normalize_embeddings: bool = True,
               convert_to_numpy: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        """Embeddings of sentences (rows in the given order), batched by token length to pad little."""
        if isinstance(sentences, str):
            return self.encode([sentences], batch_size, normalize_embeddings)[0]
        out = np.empty((len(sentences), DIMENSION), dtype=np.float32)
        if not len(sentences):
            return out
        # sentence-transformers strips each text before tokenizing
        ids = [e.ids for e in self.tokenizer.encode_batch([str(s).strip() for s in sentences])]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batch_size = max(1, min(batch_size, self.batch))
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
