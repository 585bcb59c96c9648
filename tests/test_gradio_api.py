"""The chat app's /ask and /sources endpoints, called with gradio_client against the real app on 127.0.0.1."""
from __future__ import annotations

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.core import EMPTY_QUESTION
from assistant.service import HISTORY_SHAPE
from support import free_port

QUESTION = "Who denied involvement?"


@pytest.fixture(scope="module")
def client(sample_assistant):
    """A gradio_client Client of the real chat app over the sample corpus, on a free port."""
    from ui import build_app

    app = build_app(sample_assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.close()


def _without_timings(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def test_only_ask_and_sources_are_public(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == {"/ask", "/sources"} and not api["unnamed_endpoints"]


def test_ask_returns_the_answer_json_with_citations(client, sample_assistant):
    answer = client.predict(QUESTION, api_name="/ask")
    assert _without_timings(answer) == _without_timings(sample_assistant.ask(QUESTION).to_dict())
    assert "[1]" in answer["answer"] and not answer["abstained"]
    assert answer["short"] and answer["short"] in answer["citations"][0]["sentence"]
    for c in answer["citations"]:
        assert sample_assistant.document(c["source"]).text[c["start"]:c["end"]] == c["text"]


def test_ask_understands_a_follow_up_from_history(client, sample_assistant):
    first = client.predict("Who is Sergey Markov?", api_name="/ask")
    follow = client.predict(question="What did he say about WikiLeaks?",
                            history=[["Who is Sergey Markov?", first["answer"]]], api_name="/ask")
    assert "Markov" in follow["query"]
    native = sample_assistant.ask("What did he say about WikiLeaks?", history=[("Who is Sergey Markov?", first["answer"])])
    assert follow["answer"] == native.text and follow["query"] == native.query


def test_sources_lists_what_is_indexed(client, sample_assistant):
    listed = client.predict(api_name="/sources")
    assert listed == [r.to_dict() for r in sample_assistant.sources()]
    assert len(listed) == 5 and all(r["chunks"] > 0 and r["title"] for r in listed)


@pytest.mark.parametrize("kwargs, message", [
    ({"question": ""}, EMPTY_QUESTION),
    ({"question": "   "}, EMPTY_QUESTION),
    ({"question": QUESTION, "history": [["only a question"]]}, HISTORY_SHAPE),
])
def test_bad_input_is_an_app_error_with_one_line(client, kwargs, message):
    with pytest.raises(AppError) as err:
        client.predict(**kwargs, api_name="/ask")
    assert str(err.value) == message
