"""A local GGUF file served by llama.cpp's OpenAI-compatible server, in this process (xllamacpp).

xllamacpp is imported only when a server starts, so `import assistant.llm` stays light.
"""
from __future__ import annotations

import atexit
import os
import secrets
import threading
from pathlib import Path

from assistant.errors import BackendUnavailable

GGUF_MAGIC = b"GGUF"
# llama.cpp formats a chat as ChatML when the GGUF carries no chat template. A base model does not
# know ChatML's markers as tokens, so it writes them as text and runs on to max_tokens; they stop it.
CHATML_MARKERS = ("<|im_end|>", "<|im_start|>")
EXTRAS_HINT = "The LLM answerer needs its extras: pip install -e '.[llm]' in the repository"


def check_gguf(path: str | Path) -> Path:
    """The path, once it is a readable file that starts with the GGUF magic; else BackendUnavailable."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BackendUnavailable(f"GGUF model file not found: {path} (set [llm] gguf to a .gguf file)")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise BackendUnavailable(f"Cannot read the GGUF model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise BackendUnavailable(f"Not a GGUF model file: {path} (it does not start with 'GGUF'; "
                                 "llama.cpp needs a .gguf file)")
    return path


def import_xllamacpp():
    try:
        import xllamacpp
    except ImportError:
        raise BackendUnavailable(EXTRAS_HINT) from None
    return xllamacpp


class LocalServer:
    """llama.cpp's OpenAI-compatible HTTP server for one GGUF file, on 127.0.0.1 and a free port.

    It runs on xllamacpp's threads inside this process; `close()` (or process exit) stops it.
    By default it requires a random API key, so other local users and web pages cannot use it.
    """

    def __init__(self, path: str | Path, context_tokens: int = 4096, threads: int | None = None,
                 api_key: str | None = "random"):
        self.path = check_gguf(path)
        xlc = import_xllamacpp()
        self.api_key = secrets.token_urlsafe(24) if api_key == "random" else api_key
        params = xlc.CommonParams()
        params.model.path = str(self.path)
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # llama.cpp binds a free port; listening_address tells which
        params.n_ctx = context_tokens
        params.n_parallel = 1  # one slot: the whole context is the answer's
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads or os.cpu_count() or 1
        params.verbosity = -1  # llama.cpp's own log would flood the terminal
        if self.api_key:
            params.api_keys = [self.api_key]
        self.context_tokens = context_tokens
        self._lock = threading.Lock()
        try:
            self._server = xlc.Server(params)  # returns once the model is loaded and the port listens
        except RuntimeError:
            # llama.cpp logs the reason (silenced above) and xllamacpp raises a generic RuntimeError.
            raise BackendUnavailable(f"llama.cpp could not load {self.path}: is it a complete GGUF model file "
                                     "this llama.cpp supports?") from None
        self.base_url = self._server.listening_address.rstrip("/") + "/v1"
        atexit.register(self.close)
        self.stop = self._stop_strings()

    def _stop_strings(self) -> tuple[str, ...]:
        """The chat format's markers a model might write as text (see CHATML_MARKERS); () if unknown."""
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            props = httpx.get(self.base_url.removesuffix("/v1") + "/props", headers=headers, timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return ()
        template = props.get("chat_template") if isinstance(props, dict) else None
        return tuple(m for m in CHATML_MARKERS if isinstance(template, str) and m in template)

    @property
    def model(self) -> str:
        """The name to send as `model` (llama.cpp serves its one model whatever the name)."""
        return self.path.name

    @property
    def running(self) -> bool:
        return self._server is not None

    def close(self) -> None:
        """Stop the server (it waits for a running request to end); safe to call twice."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            del server  # xllamacpp stops the HTTP server and frees the model in Server's destructor
            atexit.unregister(self.close)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
