"""The application service every front end adapts (assistant/service.py): one per process, input checked once,
errors shown through one table (assistant.errors.failure)."""
from __future__ import annotations

import pytest

from assistant.errors import Forbidden, InvalidInput, InvalidText, failure
from assistant.service import HISTORY_SHAPE, Service
from assistant.settings import TOP_K_MAX
from vectorstore.errors import unreachable

QUESTION = "Who denied involvement?"


def test_the_api_and_the_ui_share_the_one_service(sample_assistant):
    from assistant.api import create_app
    from ui.handlers import Handlers

    service = Service(sample_assistant)
    app, handlers = create_app(service), Handlers(service)
    assert app.state.service is service and handlers.service is service and handlers.bases is service.bases
    assert Service.of(service) is service and Service.of(sample_assistant) is not service  # an Assistant gets its own


@pytest.mark.parametrize("asked, error, message", [
    ({"top_k": 0}, InvalidInput, f"top_k must be between 1 and {TOP_K_MAX}, not 0"),
    ({"top_k": TOP_K_MAX + 1}, InvalidInput, f"top_k must be between 1 and {TOP_K_MAX}, not {TOP_K_MAX + 1}"),
    ({"history": [["only a question"]]}, InvalidInput, HISTORY_SHAPE),
    ({"history": [["a", 3]]}, InvalidInput, HISTORY_SHAPE),
    ({"history": [["a", "b\udc80"]]}, InvalidText, "The history is not valid UTF-8 text (U+DC80 at character 2)"),
    ({"sources": ["x\ud800.txt"]}, InvalidText, "The source filter is not valid UTF-8 text (U+D800 at character 2)"),
    ({"question": "why\udcff"}, InvalidText, "The question is not valid UTF-8 text (U+DCFF at character 4)"),
])
def test_bad_input_is_one_line_from_the_service_and_changes_nothing(sample_assistant, asked, error, message):
    service = Service(sample_assistant)
    before = [r.source for r in service.sources()]
    with pytest.raises(error) as caught:
        service.ask(**{"question": QUESTION, **asked})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert failure(caught.value).status == 422
    assert [r.source for r in service.sources()] == before


def test_the_service_checks_who_asks_before_it_opens_a_base(sample_assistant):
    from assistant.access import Principal

    nobody = Principal("eve", frozenset(), frozenset())
    with pytest.raises(Forbidden, match="eve may not read the knowledge base 'default'"):
        Service(sample_assistant).ask(QUESTION, who=nobody)


def test_failure_is_the_one_status_and_line_of_every_front_end():
    lost = failure(unreachable("http://127.0.0.1:1"))
    assert lost == (503, "Cannot reach the Chroma server at http://127.0.0.1:1: is `chroma run` running?")
    assert failure(InvalidText("a\udcff path")).message == "a\\xff path"  # printable, one line
    assert failure(Forbidden("no")).status == 403 and failure(ValueError("a bug")) is None


def test_another_answerer_shares_the_document_cache(sample_assistant):
    other = sample_assistant.with_answerer("top-passage")
    assert other.settings.answer.kind == "top-passage" and other.answerer is not sample_assistant.answerer
    assert other._documents is sample_assistant._documents and other.store is sample_assistant.store
    assert other.ask(QUESTION).citations[0].source == sample_assistant.ask(QUESTION, top_k=6).hits[0].chunk.source
