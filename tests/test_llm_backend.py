"""The LLM backend layer (assistant.llm) against a real llama.cpp server with a tiny model.

Two things llama.cpp cannot show, an unknown model name (it serves its one model whatever the
name) and a stalled reply, are played by a small fake server that sends what OpenAI and Ollama send.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from llm_support import OLLAMA_MODEL_NOT_FOUND, OPENAI_MODEL_NOT_FOUND, FakeOpenAI, tiny_model
from support import free_port

from assistant.errors import (BackendUnavailable, ContextOverflow, LLMAuthError, LLMBadReply, LLMModelNotFound,
                              LLMTimeout, LLMUnreachable)
from assistant.llm import ChatModel, make_chat_model
from assistant.settings import LLMSettings

HELLO = [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "Name three colours."}]


def error_of(call) -> BackendUnavailable:
    with pytest.raises(BackendUnavailable) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return info.value


# -- a real llama.cpp server ---------------------------------------------------------------------


def test_stream_yields_deltas_that_join_to_the_complete_reply(llm_server):
    with ChatModel(llm_server.settings(max_tokens=16)) as chat:
        deltas = list(chat.stream(HELLO))
        early = chat.stream(HELLO)
        assert next(early) and next(early)
        early.close()  # a reader that stops early frees the server for the next request
        reply = chat.complete(HELLO)
        assert chat.name == llm_server.model == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert chat.context_tokens == 512
    assert len(deltas) >= 3 and all(deltas)
    assert "".join(deltas) == reply  # temperature 0: the same reply both ways
    assert reply.strip()


def test_a_wrong_or_missing_api_key_is_one_line_naming_the_env_var(llm_server):
    wrong = error_of(lambda: ChatModel(llm_server.settings(api_key="not-the-key")).complete(HELLO))
    assert isinstance(wrong, LLMAuthError)
    assert str(wrong) == (f"The LLM at {llm_server.base_url} refused the API key (HTTP 401): "
                          "set ASSISTANT_LLM__API_KEY to a valid key")
    missing = error_of(lambda: list(ChatModel(llm_server.settings(api_key=None)).stream(HELLO)))
    assert str(missing) == (f"The LLM at {llm_server.base_url} needs an API key (HTTP 401): "
                            "set ASSISTANT_LLM__API_KEY")
    assert llm_server.api_key not in str(wrong) + str(missing) + repr(ChatModel(llm_server.settings()))


def test_a_prompt_longer_than_the_context_is_a_context_overflow(llm_server):
    long = [{"role": "user", "content": "word " * 600}]
    chat = ChatModel(llm_server.settings())
    for call in (lambda: chat.complete(long), lambda: list(chat.stream(long))):
        error = error_of(call)
        assert isinstance(error, ContextOverflow)
        assert (error.prompt_tokens, error.context_tokens) == (631, 512)
        assert str(error) == ("The prompt (631 tokens) does not fit the LLM's context window (512 tokens): use "
                              "fewer passages, or a model with a larger context ([llm] context_tokens)")
    chat.close()


def test_the_gguf_backend_serves_a_file_on_loopback_and_stops_on_close():
    import httpx

    settings = LLMSettings(gguf=tiny_model(), context_tokens=512, max_tokens=16, threads=1)
    chat = make_chat_model(settings)
    try:
        assert chat.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert chat.base_url.startswith("http://127.0.0.1:") and chat.base_url.endswith("/v1")
        assert chat.complete(HELLO).strip()
        # The chat format's markers stop a model that would write them as text (a base model under ChatML).
        assert chat._server.stop == ("<|im_end|>", "<|im_start|>")
        # The in-process server wants the random key the ChatModel holds: no one else can use it.
        assert httpx.get(f"{chat.base_url}/models").status_code == 401
    finally:
        chat.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{chat.base_url}/models")
    assert str(error_of(lambda: chat.complete(HELLO))) == "This LLM connection is closed"


# -- bad settings -------------------------------------------------------------------------------------


def test_a_missing_gguf_file_is_one_line(tmp_path):
    missing = tmp_path / "nope.gguf"
    error = error_of(lambda: make_chat_model(LLMSettings(gguf=missing)))
    assert str(error) == f"GGUF model file not found: {missing} (set [llm] gguf to a .gguf file)"


def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip, not a model")
    error = error_of(lambda: make_chat_model(LLMSettings(gguf=fake)))
    assert str(error) == (f"Not a GGUF model file: {fake} (it does not start with 'GGUF'; "
                          "llama.cpp needs a .gguf file)")


def test_without_the_extras_the_message_says_what_to_install(monkeypatch, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(60))
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import xllamacpp now raises ImportError
    hint = "The LLM answerer needs its extras: pip install -e '.[llm]' in the repository"
    assert str(error_of(lambda: make_chat_model(LLMSettings(gguf=gguf)))) == hint
    monkeypatch.setitem(sys.modules, "llama_index.llms.openai_like", None)
    assert str(error_of(lambda: make_chat_model(LLMSettings(base_url="http://127.0.0.1:9/v1")))) == hint


def test_no_llm_configured():
    assert str(error_of(lambda: make_chat_model(LLMSettings()))) == (
        "No LLM is configured: set [llm] base_url (an OpenAI-compatible endpoint) or [llm] gguf (a local model file)")


def test_an_unreachable_endpoint_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    chat = ChatModel(LLMSettings(base_url=url, model="m", timeout=10))
    for call in (lambda: chat.complete(HELLO), lambda: list(chat.stream(HELLO))):
        error = error_of(call)
        assert isinstance(error, LLMUnreachable)
        assert str(error) == f"Cannot reach the LLM at {url}: is the server running? Check [llm] base_url"


def test_a_base_url_that_is_not_http_is_a_config_error():
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        ChatModel(LLMSettings(base_url="127.0.0.1:11434/v1"))
    assert str(info.value) == ("[llm] base_url must be an http(s) URL such as http://127.0.0.1:11434/v1, "
                               "not '127.0.0.1:11434/v1'")


def test_the_url_is_printed_without_credentials():
    port = free_port()
    chat = ChatModel(LLMSettings(base_url=f"http://user:hunter2@127.0.0.1:{port}/v1/", model="m"))
    assert str(error_of(lambda: chat.complete(HELLO))) == (
        f"Cannot reach the LLM at http://127.0.0.1:{port}/v1: is the server running? Check [llm] base_url")


# -- what llama.cpp cannot play: a fake server with the real protocol ---------------------------------


@pytest.mark.parametrize("body", [OPENAI_MODEL_NOT_FOUND, OLLAMA_MODEL_NOT_FOUND], ids=["openai", "ollama"])
def test_an_unknown_model_names_it_and_what_the_endpoint_serves(body):
    with FakeOpenAI("error", models=["qwen2.5:0.5b", "llama3.2"], error_body=body) as fake:
        chat = ChatModel(LLMSettings(base_url=fake.base_url, model="nope"))
        for call in (lambda: chat.complete(HELLO), lambda: list(chat.stream(HELLO))):
            error = error_of(call)
            assert isinstance(error, LLMModelNotFound)
            assert str(error) == (f"The LLM at {fake.base_url} has no model 'nope'; it serves: llama3.2, "
                                  "qwen2.5:0.5b. Set [llm] model to one of them")


OPENAI_OVERFLOW = {"error": {"message": "This model's maximum context length is 128000 tokens. However, your "
                                         "messages resulted in 130000 tokens.", "type": "invalid_request_error",
                              "param": "messages", "code": "context_length_exceeded"}}
VLLM_OVERFLOW = {"object": "error", "message": "This model's maximum context length is 2048 tokens. However, you "
                 "requested 3000 tokens (2900 in the messages, 100 in the completion).", "type": "BadRequestError",
                 "param": None, "code": 400}


@pytest.mark.parametrize("body", [OPENAI_OVERFLOW, VLLM_OVERFLOW], ids=["openai", "vllm"])
def test_other_servers_context_overflow_is_a_context_overflow_too(body):
    with FakeOpenAI("error", error_body=body, status=400) as fake:
        error = error_of(lambda: ChatModel(LLMSettings(base_url=fake.base_url, model="m")).complete(HELLO))
        assert isinstance(error, ContextOverflow) and error.prompt_tokens is None
        assert str(error) == ("The prompt does not fit the LLM's context window: use fewer passages, or a model "
                              "with a larger context ([llm] context_tokens)")


def test_a_404_that_is_not_about_the_model_points_at_base_url():
    body = {"error": {"message": "404 page not found", "type": "invalid_request_error"}}
    with FakeOpenAI("error", models=[], error_body=body) as fake:
        error = error_of(lambda: ChatModel(LLMSettings(base_url=fake.base_url, model="m")).complete(HELLO))
        assert isinstance(error, LLMBadReply)
        assert str(error) == (f"The LLM at {fake.base_url} has no chat completions endpoint (HTTP 404): check "
                              "[llm] base_url (it usually ends in /v1)")


def test_a_server_error_is_a_bad_reply_on_one_line_without_the_key():
    body = {"error": {"message": "worker crashed\n  at load(key=sk-secret-123)", "type": "server_error"}}
    with FakeOpenAI("error", error_body=body, status=500) as fake:
        chat = ChatModel(LLMSettings(base_url=fake.base_url, model="m", api_key="sk-secret-123"))
        error = error_of(lambda: list(chat.stream(HELLO)))
        assert isinstance(error, LLMBadReply)
        assert str(error) == f"The LLM at {fake.base_url} failed (HTTP 500): worker crashed at load(key=***)"


def test_without_a_model_name_the_display_name_is_what_the_endpoint_serves():
    with FakeOpenAI("error", models=["llama3.2"], error_body={}) as fake:
        assert ChatModel(LLMSettings(base_url=fake.base_url)).name == "llama3.2"
        assert ChatModel(LLMSettings(base_url=fake.base_url, model="qwen")).name == "qwen"


def test_a_stalled_endpoint_times_out_naming_the_setting():
    with FakeOpenAI("stall") as fake:
        chat = ChatModel(LLMSettings(base_url=fake.base_url, model="m", timeout=0.5))
        for call in (lambda: chat.complete(HELLO), lambda: list(chat.stream(HELLO))):
            error = error_of(call)
            assert isinstance(error, LLMTimeout)
            assert str(error) == (f"The LLM at {fake.base_url} did not answer within 0.5 s: raise [llm] timeout, "
                                  "or use a smaller model or fewer passages")


# -- the package's shape ------------------------------------------------------------------------------


def test_http_statuses():
    from assistant.api import status_for

    assert status_for(LLMBadReply("x")) == 502
    assert status_for(LLMTimeout("x")) == status_for(LLMUnreachable("x")) == 503
    assert status_for(ContextOverflow("x")) == 503


def test_importing_assistant_llm_loads_no_llm_library():
    code = ("import sys, assistant.llm; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('xllamacpp', 'openai') or m.startswith('llama_index.llms')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_stop_strings_are_sent_with_every_request():
    with FakeOpenAI("reply", replies=["Hello."]) as fake:
        chat = ChatModel(LLMSettings(base_url=fake.base_url, max_tokens=16), stop=("<|im_end|>",))
        assert chat.complete(HELLO) == "Hello." and "".join(chat.stream(HELLO)) == "Hello."
        chat.close()
    assert [r.get("stop") for r in fake.requests] == [["<|im_end|>"]] * 2
