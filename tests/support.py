"""Helpers the tests share: free ports, a real Chroma server, real `assistant serve` processes, a tampered model."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

# ask --json: the keys of docs/design.md, "The JSON answer".
ANSWER_KEYS = {"question", "answer", "short", "short_start", "short_end", "abstained", "confidence", "citations", "timings_ms", "query", "notes",
               "details", "unsupported", "answered_by", "hits"}
CITATION_KEYS = {"n", "source", "title", "text", "sentence", "start", "end", "score", "chunk_id", "page", "page_kind",
                 "ocr"}
HIT_KEYS = {"id", "doc_id", "source", "title", "chunk_index", "start", "end", "text", "page", "page_breaks", "page_kind",
            "ocr", "score", "dense_rank",
            "bm25_rank", "dense_score", "bm25_score"}

VENV_BIN = Path(sys.executable).parent


def skip_or_fail(reason: str):
    """Skip on a developer's machine that lacks an optional part; fail in CI (CI=true), where `make install`
    provides it."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"cannot run: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    """Return once something accepts connections on 127.0.0.1:port (or the timeout passes)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 with its data in `path`."""

    def __init__(self, path: Path):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([str(VENV_BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1",
                                      "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def clean_env(**extra: str) -> dict:
    """This process's environment without any ASSISTANT_* setting, offline, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


class ApiServer:
    """A real `assistant --home HOME serve --port PORT ARGS...` process; `.url`, `.stop() -> its output`.

    Returns once /health says 200 (the model is loaded and the store answers), or the process ended,
    or `timeout` passed (check `.proc.poll()`)."""

    def __init__(self, home: Path, *args: str, env: dict, timeout: float = 300):
        import httpx

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([str(VENV_BIN / "assistant"), "--home", str(home), "serve", "--port", str(port),
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.communicate(timeout=60)[0]


class ChatServer:
    """A real `assistant --home HOME chat --port PORT` process; `.url`, `.restart()` (same port, so the browser's
    storage for the page stays), `.stop() -> its output`. Returns once the page answers."""

    def __init__(self, home: Path, *args: str, env: dict, timeout: float = 300):
        self.home, self.args, self.env, self.timeout = home, args, env, timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._start()

    def _start(self) -> None:
        import httpx

        self.proc = subprocess.Popen([str(VENV_BIN / "assistant"), "--home", str(self.home), "chat", "--port",
                                      str(self.port), *self.args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=self.env)
        deadline = time.time() + self.timeout
        while time.time() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"`assistant chat` did not start: {self.stop()}")

    def restart(self) -> None:
        self.stop()
        self._start()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.communicate(timeout=60)[0]


def tampered_model(dest: Path) -> tuple[Path, Path, str]:
    """A copy of the packaged MiniLM with the last byte of its weights flipped: (dir, weights, sha256).

    The last byte is tensor data, so the file still loads: only the checksum tells it is not the model.
    """
    from vectorstore.minilm import packaged_model_dir

    shutil.copytree(packaged_model_dir(), dest)
    weights = dest / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(data)
    return dest, weights, hashlib.sha256(data).hexdigest()
