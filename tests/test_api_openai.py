"""The OpenAI-compatible routes, driven by the real `openai` client against a real uvicorn server."""
from __future__ import annotations

import httpx
import openai
import pytest

from test_http import serving

QUESTION = "What did Peskov call the allegations?"
CITATION_KEYS = {"n", "source", "title", "text", "sentence", "start", "end", "page", "page_kind", "ocr"}


@pytest.fixture(scope="module")
def api(sample_assistant):
    with serving(sample_assistant) as url:
        yield url


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0, timeout=120)


def ask(question: str) -> list[dict]:
    return [{"role": "user", "content": question}]


def test_models_are_the_available_answerers(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["extractive", "top-passage"]  # no LLM is configured
    assert models.data[0].object == "model" and models.data[0].model_extra["name"] == "Extractive (offline, no LLM)"


def test_a_chat_completion_carries_the_answer_and_its_citations(client, sample_assistant):
    reply = client.chat.completions.create(model="extractive", messages=ask(QUESTION))
    assert reply.object == "chat.completion" and reply.model == "extractive" and reply.id.startswith("chatcmpl-")
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "absolute nonsense" in choice.message.content and "[1]" in choice.message.content
    citations = choice.message.model_extra["citations"]
    assert citations and set(citations[0]) == CITATION_KEYS and citations[0]["n"] == 1
    first = citations[0]
    assert first["sentence"] in first["text"]
    assert sample_assistant.document(first["source"]).text[first["start"]:first["end"]] == first["text"]
    assert choice.message.model_extra["abstained"] is False


def test_the_model_picks_the_answerer(client):
    extractive = client.chat.completions.create(model="extractive", messages=ask(QUESTION))
    baseline = client.chat.completions.create(model="top-passage", messages=ask(QUESTION))
    assert baseline.model == "top-passage" and baseline.choices[0].message.content
    assert baseline.choices[0].message.content != extractive.choices[0].message.content


def test_earlier_turns_are_the_history():
    from assistant.api.routes.openai import conversation
    from assistant.api.schemas import ChatCompletionRequest

    body = ChatCompletionRequest(model="extractive", messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Who is Sergey Markov?"},
        {"role": "assistant", "content": "Sergey Markov is an adviser. [1]"},
        {"role": "user", "content": [{"type": "text", "text": "What did he say"}, {"type": "text", "text": "about"}]},
        {"role": "user", "content": "WikiLeaks?"}])
    assert conversation(body) == ("WikiLeaks?", [("Who is Sergey Markov?", "Sergey Markov is an adviser. [1]")])


def test_a_follow_up_uses_the_conversation(client, sample_assistant):
    first, question, earlier = "Who is Julian Assange?", "What did he promise?", "An activist."
    reply = client.chat.completions.create(model="extractive", messages=[
        {"role": "user", "content": first}, {"role": "assistant", "content": earlier},
        {"role": "user", "content": question}])
    # The same answer as the assistant's with that history, which is not its answer to the question alone.
    with_history = sample_assistant.ask(question, history=[(first, earlier)])
    assert reply.choices[0].message.content == with_history.text != sample_assistant.ask(question).text


def test_streaming_sends_chunks_then_the_citations_then_done(client, api):
    chunks = list(client.chat.completions.create(model="extractive", messages=ask(QUESTION), stream=True))
    assert all(c.object == "chat.completion.chunk" and c.model == "extractive" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and [c.choices[0].finish_reason for c in chunks[:-1]] == \
        [None] * (len(chunks) - 1)
    assert "absolute nonsense" in text and text == last.model_extra["content"]
    assert set(last.model_extra["citations"][0]) == CITATION_KEYS
    plain = client.chat.completions.create(model="extractive", messages=ask(QUESTION))
    assert text == plain.choices[0].message.content

    with httpx.stream("POST", f"{api}/v1/chat/completions", timeout=120,
                      json={"model": "extractive", "messages": ask(QUESTION), "stream": True}) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in raw.iter_lines() if line]
    assert lines[-1] == "data: [DONE]" and all(line.startswith("data: ") for line in lines)


def _error(reply: httpx.Response) -> dict:
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def test_an_unknown_model_is_404_in_openai_shape(client, api):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=ask(QUESTION))
    assert err.value.status_code == 404
    assert err.value.body == {"message": "The model 'gpt-4o' does not exist: choose one of extractive, top-passage "
                                         "(GET /v1/models)", "type": "not_found_error", "param": "model",
                              "code": "model_not_found"}
    with pytest.raises(openai.NotFoundError, match="no LLM is configured"):  # a kind these settings cannot run
        client.chat.completions.create(model="llm", messages=ask(QUESTION), stream=True)
    raw = httpx.post(f"{api}/v1/chat/completions", json={"model": "nope", "messages": ask(QUESTION)}, timeout=60)
    assert raw.status_code == 404 and _error(raw)["code"] == "model_not_found"


@pytest.mark.parametrize("extra, messages, param, message", [
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, None, "tools",
     "Tools and functions are not supported: this model answers from your documents only"),
    ({"n": 2}, None, "n", "Only n = 1 is supported"),
    ({}, [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                       {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}],
     "messages.0.content", "Only text content is supported: messages[0] has a 'image_url' part"),
    ({}, [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Nonsense."}], "messages",
     "The last message must be the user's question"),
    ({}, [{"role": "tool", "content": "42", "tool_call_id": "x"}, {"role": "user", "content": QUESTION}],
     "messages.0.role", "messages[0] has role 'tool': only system, developer, user and assistant messages are "
                        "supported"),
])
def test_what_cannot_be_honoured_is_400(client, extra, messages, param, message):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="extractive", messages=messages or ask(QUESTION), **extra)
    assert err.value.status_code == 400
    assert (err.value.body["message"], err.value.body["param"], err.value.body["type"]) == \
        (message, param, "invalid_request_error")


def test_the_functions_field_is_refused_too(api):
    reply = httpx.post(f"{api}/v1/chat/completions", timeout=60, json={
        "model": "extractive", "messages": ask(QUESTION), "functions": [{"name": "f", "parameters": {}}]})
    assert reply.status_code == 400 and _error(reply)["param"] == "functions"


@pytest.mark.parametrize("body, param", [
    ({"model": "extractive"}, "messages"),
    ({"model": "extractive", "messages": []}, "messages"),
    ({"messages": [{"role": "user", "content": QUESTION}]}, "model"),
    ({"model": "extractive", "messages": [{"role": "user", "content": 42}]}, "messages.0.content.str"),
])
def test_a_malformed_request_is_400_in_openai_shape(api, body, param):
    reply = httpx.post(f"{api}/v1/chat/completions", json=body, timeout=60)
    error = _error(reply)
    assert reply.status_code == 400 and error["type"] == "invalid_request_error"
    assert error["param"] == param and error["message"].startswith("Invalid request: ")
    broken = httpx.post(f"{api}/v1/chat/completions", content=b'{"model": ', timeout=60,
                        headers={"content-type": "application/json"})
    assert broken.status_code == 400 and _error(broken)["message"] == \
        "Invalid request: the body is not valid JSON (at position 10)"


def test_an_empty_question_or_index_is_an_error_before_any_event(client, make_assistant):
    for stream in (False, True):
        with pytest.raises(openai.UnprocessableEntityError, match="The question is empty"):
            client.chat.completions.create(model="extractive", messages=ask("   "), stream=stream)
    with serving(make_assistant()) as empty:
        empty_client = openai.OpenAI(base_url=f"{empty}/v1", api_key="unused", max_retries=0)
        for stream in (False, True):
            with pytest.raises(openai.ConflictError) as err:
                empty_client.chat.completions.create(model="extractive", messages=ask(QUESTION), stream=stream)
            assert err.value.body["message"] == "Nothing is indexed yet: run `assistant ingest PATH`"


def test_unknown_v1_routes_answer_in_openai_shape(api):
    reply = httpx.get(f"{api}/v1/embeddings", timeout=60)
    assert reply.status_code == 404 and _error(reply)["message"] == "Not Found"


# ---- the LLM answerer: a withdrawn sentence never reaches a client that can only append ----------------

@pytest.mark.parametrize("order", ["supported first", "unsupported first"])
def test_a_withdrawn_sentence_is_never_streamed(sample_assistant, sample_home, embedder, order):
    from llm_support import FakeOpenAI
    from test_llm_answer import llm_assistant, passage_number

    n = passage_number(sample_assistant, "absolute nonsense")
    good = f"Dmitry Peskov called the allegations absolute nonsense [{n}]."
    bad = f"Boris Johnson agreed with him in London [{n}]."
    reply = f"{good} {bad}" if order == "supported first" else f"{bad} {good}"
    with FakeOpenAI("reply", replies=[reply], piece=3) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url)
        with serving(assistant) as api:
            client = openai.OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0, timeout=120)
            assert "llm" in [m.id for m in client.models.list().data]
            chunks = list(client.chat.completions.create(model="llm", messages=ask(QUESTION), stream=True,
                                                         extra_body={"top_k": 3}))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    text = "".join(deltas)
    assert "Boris" not in text and "absolute nonsense" in text
    assert text == chunks[-1].model_extra["content"]
    assert [c["n"] for c in chunks[-1].model_extra["citations"]] == [1]


def test_append_only_streams_final_pieces_and_holds_back_drafts():
    from assistant.answerers import Revision
    from assistant.api.streaming import AppendOnly

    plain = AppendOnly(revises=False)
    assert [plain.add("One. [1]"), plain.add(" Two. [2]"), plain.finish("One. [1] Two. [2]")] == \
        ["One. [1]", " Two. [2]", ""]
    llm = AppendOnly(revises=True)
    assert llm.add("Boris agreed [1]. Pes") == ""  # a draft: never sent
    assert llm.add(Revision("Pes")) == ""  # the first sentence withdrawn; the next still being written
    assert llm.add("kov said so [1]. Then") == ""
    assert llm.add(Revision("Peskov said so. [1] Then")) == "Peskov said so. [1]"
    assert llm.add(Revision("Peskov said so. [1] Then it")) == ""
    assert llm.finish("Peskov said so. [1] Then it ended. [1]") == " Then it ended. [1]"
    assert llm.finish("Something else entirely.") == ""  # cannot be appended: the last chunk's content has it
