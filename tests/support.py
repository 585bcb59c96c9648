"""Helpers the tests share: free ports, a real Chroma server, a tampered copy of the model."""
from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


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


def tampered_model(dest: Path) -> tuple[Path, Path, str]:
    """A copy of the packaged MiniLM with the last byte of its weights flipped: (dir, weights, sha256).

    The last byte is tensor data, so the file still loads: only the checksum tells it is not the model.
    """
    from vectorstore.embedder import packaged_model_dir

    shutil.copytree(packaged_model_dir(), dest)
    weights = dest / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(data)
    return dest, weights, hashlib.sha256(data).hexdigest()
