"""ChatModel: any OpenAI-compatible chat endpoint (or a local GGUF file) behind one small API.

llama-index's `OpenAILike` does the talking; every failure becomes one clear line (an
assistant.errors class), never a traceback and never the API key. llama-index and the openai
client are imported when a ChatModel is built, so `import assistant.llm` stays light.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import (BackendUnavailable, ConfigError, ContextOverflow, LLMAuthError, LLMBadReply,
                              LLMModelNotFound, LLMTimeout, LLMUnreachable)
from assistant.llm.gguf import EXTRAS_HINT, LocalServer

if TYPE_CHECKING:
    from assistant.settings import LLMSettings

# Sent when no key is set: the openai client needs one, and without an explicit value llama-index
# would send $OPENAI_API_KEY to whatever server base_url names.
NO_KEY = "no-key"
OVERFLOW_CODES = {"exceed_context_size_error", "context_length_exceeded", "string_above_max_length"}
OVERFLOW_TEXT = re.compile(r"context (length|size|window)|maximum context|too many tokens|prompt is too long"
                           r"|input is too long|longer than the model", re.I)
MODEL_TEXT = re.compile(r"\bmodel\b.*(not found|does not exist|not exist|unknown|no such|not available)"
                        r"|(unknown|no such|invalid) model", re.I)


def display_url(url: str) -> str:
    """The URL without user:password@, query or trailing slash: safe to print."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ChatModel:
    """Chat with one model: `stream(messages)` yields text deltas, `complete(messages)` returns the reply.

    messages are OpenAI-style dicts: [{"role": "system"|"user"|"assistant", "content": str}, ...].
    Failures raise BackendUnavailable subclasses (ContextOverflow when the prompt is too long).
    """

    def __init__(self, settings: LLMSettings, *, base_url: str | None = None, model: str | None = None,
                 api_key: str | None = None, server: LocalServer | None = None, stop: tuple[str, ...] = ()):
        try:
            import httpx
            from llama_index.llms.openai_like import OpenAILike
        except ImportError:
            raise BackendUnavailable(EXTRAS_HINT) from None
        base_url = base_url or settings.base_url
        if not base_url:
            raise BackendUnavailable("No LLM endpoint: set [llm] base_url")
        if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).hostname:
            shown = "" if "@" in base_url else f", not {base_url!r}"  # user:password@ stays unprinted
            raise ConfigError(f"[llm] base_url must be an http(s) URL such as http://127.0.0.1:11434/v1{shown}")
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.url = display_url(self.base_url)
        self.model = settings.model if model is None else model
        if api_key is None and settings.api_key is not None:
            api_key = settings.api_key.get_secret_value() or None
        self._key = api_key
        self._server = server
        self._display_name = server.path.name if server else None
        self._lock = threading.Lock()
        # Our own httpx client, so close() really closes the connections.
        self._http = httpx.Client()
        self._llm = OpenAILike(model=self.model, api_base=self.base_url, api_key=api_key or NO_KEY,
                               is_chat_model=True, is_function_calling_model=False,
                               context_window=settings.context_tokens, max_tokens=settings.max_tokens,
                               temperature=settings.temperature, timeout=settings.timeout, max_retries=0,
                               http_client=self._http,
                               additional_kwargs={"stop": list(stop)} if stop else {})

    # -- what the answerer reads ------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model's name for display: [llm] model, the GGUF file's name, or what the endpoint serves."""
        if self._display_name is None:
            served = self._served_models() if not self.model else []
            self._display_name = self.model or (served[0] if len(served) == 1 else urlsplit(self.url).netloc)
        return self._display_name

    @property
    def context_tokens(self) -> int:
        """The context window, in tokens, that the prompt and the reply share."""
        return self._server.context_tokens if self._server else self.settings.context_tokens

    @property
    def max_tokens(self) -> int:
        return self.settings.max_tokens

    # -- chatting -----------------------------------------------------------------------------

    def stream(self, messages: list[dict], *, max_tokens: int | None = None) -> Iterator[str]:
        """Yield the reply's text as the model writes it (empty deltas are skipped)."""
        chat = self._messages(messages)
        kwargs = {"max_tokens": max_tokens} if max_tokens else {}
        chunks = None
        try:
            chunks = self._llm.stream_chat(chat, **kwargs)
            for chunk in chunks:
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:  # noqa: BLE001 - every transport/protocol failure becomes one line
            raise self._translate(exc) from None
        finally:
            if chunks is not None:
                chunks.close()  # a reader that stops early closes the HTTP stream now: the server stops writing

    def complete(self, messages: list[dict], *, max_tokens: int | None = None) -> str:
        """The whole reply at once."""
        chat = self._messages(messages)
        kwargs = {"max_tokens": max_tokens} if max_tokens else {}
        try:
            reply = self._llm.chat(chat, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc) from None
        return reply.message.content or ""

    def close(self) -> None:
        """Close the connections and stop the local GGUF server, if this model started one."""
        with self._lock:
            http, self._http = self._http, None
            server, self._server = self._server, None
        if http is not None:
            http.close()
        if server is not None:
            server.close()

    def __enter__(self) -> ChatModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        return f"ChatModel(url={self.url!r}, model={self.model!r})"

    # -- internals --------------------------------------------------------------------------------

    def _messages(self, messages: list[dict]):
        from llama_index.core.llms import ChatMessage

        if self._http is None:
            raise BackendUnavailable("This LLM connection is closed")
        return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]

    def _served_models(self) -> list[str]:
        """The model ids the endpoint's /models lists ([] when it lists none or cannot say)."""
        try:
            client = self._llm._get_client().with_options(timeout=min(5.0, self.settings.timeout))
            return sorted(m.id for m in client.models.list())
        except Exception:  # noqa: BLE001 - only a hint for a message
            return []

    def _scrub(self, text: str) -> str:
        text = one_line(text)
        if self._key and len(self._key) >= 4:
            text = text.replace(self._key, "***")
        return text

    def _translate(self, exc: Exception) -> BackendUnavailable:
        """One clear line for a failure of the openai client (or of httpx under it, mid-stream)."""
        import httpx
        import openai

        url, timeout = self.url, self.settings.timeout
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            return LLMTimeout(f"The LLM at {url} did not answer within {timeout:g} s: raise [llm] timeout, "
                              "or use a smaller model or fewer passages")
        if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
            return LLMUnreachable(f"Cannot reach the LLM at {url}: is the server running? "
                                  "Check [llm] base_url")
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc)
        if isinstance(exc, openai.APIError):  # an error event inside a stream
            body = exc.body if isinstance(exc.body, dict) else {}
            return self._error_reply(None, body, str(exc.message))
        return LLMBadReply(f"The LLM at {url} sent a reply that is not the OpenAI chat protocol: "
                           f"{self._scrub(f'{type(exc).__name__}: {exc}')}")

    def _status_error(self, exc) -> BackendUnavailable:
        body = exc.body if isinstance(exc.body, dict) else {}
        message = body.get("message") if isinstance(body.get("message"), str) else None
        if message is None:
            message = exc.body if isinstance(exc.body, str) else exc.response.reason_phrase
        return self._error_reply(exc.status_code, body, message)

    def _error_reply(self, status: int | None, body: dict, message: str) -> BackendUnavailable:
        url = self.url
        code = str(body.get("code") or "")
        kind = str(body.get("type") or "")
        if status in (401, 403) or kind == "authentication_error" or code == "invalid_api_key":
            if self._key:
                return LLMAuthError(f"The LLM at {url} refused the API key (HTTP {status}): set "
                                    "ASSISTANT_LLM__API_KEY to a valid key")
            return LLMAuthError(f"The LLM at {url} needs an API key (HTTP {status}): set ASSISTANT_LLM__API_KEY")
        if code in OVERFLOW_CODES or kind in OVERFLOW_CODES or (status in (400, 413, 422, None)
                                                                 and OVERFLOW_TEXT.search(message or "")):
            prompt, ctx = body.get("n_prompt_tokens"), body.get("n_ctx")
            prompt, ctx = (prompt, ctx) if isinstance(prompt, int) and isinstance(ctx, int) else (None, None)
            sizes = f" ({prompt} tokens)" if prompt else ""
            limit = f" ({ctx} tokens)" if ctx else ""
            return ContextOverflow(f"The prompt{sizes} does not fit the LLM's context window{limit}: use fewer "
                                   "passages, or a model with a larger context ([llm] context_tokens)", prompt, ctx)
        if code == "model_not_found" or (status in (400, 404) and MODEL_TEXT.search(message or "")):
            served = self._served_models()
            wanted = f"'{self.model}'" if self.model else "named (no [llm] model is set)"
            if served:
                listed = ", ".join(served[:10]) + (f" and {len(served) - 10} more" if len(served) > 10 else "")
                return LLMModelNotFound(f"The LLM at {url} has no model {wanted}; it serves: {listed}. "
                                        "Set [llm] model to one of them")
            return LLMModelNotFound(f"The LLM at {url} has no model {wanted}: check [llm] model")
        if status == 404:
            return LLMBadReply(f"The LLM at {url} has no chat completions endpoint (HTTP 404): check [llm] "
                               "base_url (it usually ends in /v1)")
        where = f"HTTP {status}" if status else "error"
        return LLMBadReply(f"The LLM at {url} failed ({where}): {self._scrub(message or 'no message')}")


def make_chat_model(settings: LLMSettings) -> ChatModel:
    """The configured chat model: [llm] base_url wins; else [llm] gguf, served in-process by llama.cpp."""
    if settings.base_url:
        return ChatModel(settings)
    if settings.gguf:
        server = LocalServer(settings.gguf, context_tokens=settings.context_tokens, threads=settings.threads)
        try:
            return ChatModel(settings, base_url=server.base_url, model=server.model, api_key=server.api_key,
                             server=server, stop=server.stop)
        except BaseException:
            server.close()
            raise
    raise BackendUnavailable("No LLM is configured: set [llm] base_url (an OpenAI-compatible endpoint) "
                             "or [llm] gguf (a local model file)")
