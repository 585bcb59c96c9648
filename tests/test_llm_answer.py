"""The LLM answerer: a real llama.cpp server with the tiny model for the plumbing and streaming;
a fake server speaking the OpenAI protocol where a test must choose the model's reply."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from assistant.answer import MARK, NOT_FOUND, Answer
from assistant.answerers import Revision
from llm_support import FakeOpenAI

QUESTION = "What did Peskov call the allegations?"
BIN = Path(sys.executable).parent / "assistant"


def llm_assistant(sample_home, embedder, **llm):
    from assistant import Assistant

    return Assistant.open(home=sample_home, embedder=embedder, answer={"kind": "llm"},
                          llm={"max_tokens": 48, "context_tokens": 2048, **llm})


def assert_citation_invariants(assistant, answer: Answer) -> None:
    marks = {int(n) for n in MARK.findall(answer.text)}
    assert marks == {c.n for c in answer.citations}, answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.sentence in c.text
        assert assistant.document(c.source).text[c.start:c.end] == c.text


def passage_number(assistant, words: str) -> int:
    """Which numbered passage the model sees `words` in, for QUESTION at top_k 3."""
    hits = assistant.ask(QUESTION, top_k=3).hits
    return next(i for i, h in enumerate(hits, 1) if words in h.chunk.text)


# ---- the real llama.cpp server ---------------------------------------------------------------------
def test_real_model_streams_tokens_and_the_answer_keeps_the_invariants(llm_server, sample_home, embedder):
    assistant = llm_assistant(sample_home, embedder, **llm_server.settings(max_tokens=48).model_dump())
    items = list(assistant.stream(QUESTION, top_k=2))
    answer = items[-1]
    assert isinstance(answer, Answer)
    deltas = [p for p in items[:-1] if isinstance(p, str)]
    assert len(deltas) >= 3, "the model's tokens arrive one by one, not as one finished text"
    assert_citation_invariants(assistant, answer)
    # Whatever the tiny model wrote, what is shown is verified, or the notes say what stood in.
    assert answer.citations or answer.abstained
    if answer.unsupported:
        assert any(n.startswith("Removed a sentence its passages do not support") for n in answer.notes)
    assert all(s not in answer.text for s in answer.unsupported)


def test_cli_answers_with_the_llm_through_the_real_server(llm_server, sample_home, tmp_path):
    config = tmp_path / "llm.toml"
    config.write_text(f'[llm]\nbase_url = "{llm_server.base_url}"\nmodel = "{llm_server.model}"\n'
                      f"context_tokens = {llm_server.context_tokens}\nmax_tokens = 24\n", encoding="utf-8")
    env = {**os.environ, "ASSISTANT_LLM__API_KEY": llm_server.api_key}
    done = subprocess.run([str(BIN), "--home", str(sample_home), "--config", str(config), "ask", "--answerer", "llm",
                           "--top-k", "1", "--json", QUESTION], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["citations"] or data["abstained"]
    assert llm_server.api_key not in done.stdout + done.stderr, "the key is never printed"


# ---- chosen replies, through the OpenAI protocol ---------------------------------------------------
def test_an_unsupported_sentence_is_removed_and_the_notes_say_why(sample_assistant, sample_home, embedder):
    n = passage_number(sample_assistant, "absolute nonsense")
    reply = (f"Dmitry Peskov called the allegations absolute nonsense [{n}]. "
             f"Boris Johnson agreed with him in London [{n}].")
    with FakeOpenAI("reply", replies=[reply]) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url)
        items = list(assistant.stream(QUESTION, top_k=3))
    answer = items[-1]
    assert answer.text.startswith("Dmitry Peskov called the allegations absolute nonsense. [1]")
    assert answer.answered_by == "llm"
    assert "Boris" not in answer.text and answer.unsupported == ("Boris Johnson agreed with him in London.",)
    assert answer.notes[-1].startswith("Removed a sentence its passages do not support: “Boris Johnson agreed with "
                                       "him in London.” (")
    assert "absolute nonsense" in answer.citations[0].sentence
    assert_citation_invariants(assistant, answer)
    # The first sentence was verified while the second was still streaming: the shown text was revised.
    revisions = [p.text for p in items if isinstance(p, Revision)]
    assert revisions[0].startswith("Dmitry Peskov called the allegations absolute nonsense. [1] B")
    assert revisions[-1] == answer.text


def test_unsupported_sentences_can_be_shown_marked(sample_assistant, sample_home, embedder):
    n = passage_number(sample_assistant, "absolute nonsense")
    reply = f"Dmitry Peskov called the allegations absolute nonsense [{n}]. The moon is made of cheese [{n}]."
    with FakeOpenAI("reply", replies=[reply]) as fake:
        answer = llm_assistant(sample_home, embedder, base_url=fake.base_url, unsupported="mark").ask(QUESTION, top_k=3)
    assert answer.text.endswith("[1] The moon is made of cheese. (not supported by the passages)")
    assert answer.notes[-1].startswith("Marked a sentence its passages do not support: “The moon is made of cheese.”")


def test_a_model_stuck_repeating_itself_is_cut_off_and_noted_once(sample_assistant, sample_home, embedder):
    n = passage_number(sample_assistant, "absolute nonsense")
    said = f"Dmitry Peskov called the allegations absolute nonsense [{n}]. "
    loop = "<|im_end|>user\n" * 5
    reply = said + said + loop + "Sergey Lavrov resigned in protest."
    with FakeOpenAI("reply", replies=[reply]) as fake:
        answer = llm_assistant(sample_home, embedder, base_url=fake.base_url).ask(QUESTION, top_k=3)
    assert answer.text == "Dmitry Peskov called the allegations absolute nonsense. [1]"  # said twice, shown once
    assert "Lavrov" not in " ".join(answer.unsupported), "nothing after the loop is read"
    removed = [note for note in answer.notes if note.startswith("Removed")]
    assert len(removed) == 1 and removed[0].startswith(
        "Removed a sentence its passages do not support (3 times): “<|im_end|>user”"), answer.notes
    assert "The model wrote the same sentence 3 times; its reply was cut there." in answer.notes


def test_a_refusal_is_the_usual_not_found(sample_home, embedder):
    with FakeOpenAI("reply", replies=["NOT FOUND"]) as fake:
        answer = llm_assistant(sample_home, embedder, base_url=fake.base_url).ask("What colour is Lavrov's car?", top_k=3)
    assert answer.abstained and answer.text == NOT_FOUND and answer.hits
    assert answer.notes == ("Not answered: the model said the passages do not answer the question.",)


def test_an_empty_reply_falls_back_to_the_extractive_answer(sample_assistant, sample_home, embedder):
    with FakeOpenAI("reply", replies=[""]) as fake:
        answer = llm_assistant(sample_home, embedder, base_url=fake.base_url).ask(QUESTION, top_k=3)
    extractive = sample_assistant.ask(QUESTION, top_k=3)
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert (answer.answered_by, extractive.answered_by) == ("extractive", "extractive")
    assert answer.notes[0] == "The LLM's answer was not used (it wrote nothing); this is the extractive answer."


def test_eval_counts_the_extractive_stand_ins_and_the_removed_sentences(sample_assistant, sample_home, embedder):
    from evals.aggregate import aggregate
    from evals.cases import Case
    from evals.runner import System, run_cases

    n = passage_number(sample_assistant, "absolute nonsense")
    replies = [f"Dmitry Peskov called the allegations absolute nonsense [{n}]. Boris Johnson agreed [{n}].", ""]
    cases = [Case(id=f"q{i}", question=QUESTION, answers=("absolute nonsense",)) for i in (1, 2)]
    with FakeOpenAI("reply", replies=replies) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url)
        run = run_cases(cases, [System("llm", assistant, settings={"answer": {"kind": "llm"}}, top_k=3)])
    records = run.records["llm"]
    assert [r["stood_in"] for r in records] == [False, True]  # the empty reply: the extractive answer stood in
    m = aggregate(records)
    assert m["stand_in"] == 0.5 and m["answer_accuracy"] == 1.0
    # 1 of the model's 2 sentences was removed; the stand-in's quotes count as shown and supported.
    assert records[0]["claims_removed"] == 1 and m["faithfulness"] == 1.0 > m["faithfulness_before_verification"]


def test_a_follow_up_is_condensed_by_the_model(sample_home, embedder):
    standalone = "What did Dmitry Peskov call the allegations?"
    with FakeOpenAI("reply", replies=[standalone, "NOT FOUND"]) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url)
        answer = assistant.ask("What did he call them?", history=[("Who is Dmitry Peskov?", "Putin's spokesman. [1]")])
        condense = fake.requests[0]
    assert answer.query == standalone
    assert not condense.get("stream") and "Who is Dmitry Peskov?" in condense["messages"][-1]["content"]


def test_passages_are_fitted_to_the_context(sample_home, embedder):
    with FakeOpenAI("reply", replies=["NOT FOUND"]) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url, context_tokens=1024, max_tokens=100)
        assistant.ask(QUESTION, top_k=8)
        prompt = fake.requests[0]["messages"][-1]["content"]
    assert "[1] " in prompt and "[8] " not in prompt
    assert len(prompt) < (1024 - 100) * 3, "the prompt leaves the answer its room"


# ---- errors ----------------------------------------------------------------------------------------
def test_an_unreachable_llm_is_one_line_in_the_cli_and_a_503_over_http(sample_home, embedder):
    from fastapi.testclient import TestClient

    from assistant import Assistant
    from assistant.api import create_app

    url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
    env = {**os.environ, "ASSISTANT_LLM__BASE_URL": url}
    done = subprocess.run([str(BIN), "--home", str(sample_home), "ask", "--answerer", "llm", QUESTION],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"Error: Cannot reach the LLM at {url}: is the server running? "
                                                "Check [llm] base_url"]
    assistant = Assistant.open(home=sample_home, embedder=embedder, answer={"kind": "llm"}, llm={"base_url": url})
    reply = TestClient(create_app(assistant)).post("/ask", json={"question": QUESTION})
    assert reply.status_code == 503 and reply.json()["error"].startswith("Cannot reach the LLM at")


def test_an_unknown_or_unconfigured_answerer_is_one_line(sample_home):
    done = subprocess.run([str(BIN), "--home", str(sample_home), "ask", "--answerer", "oracle", QUESTION],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: Unknown answerer 'oracle': choose one of extractive, llm, top-passage"
    done = subprocess.run([str(BIN), "--home", str(sample_home), "ask", "--answerer", "llm", QUESTION],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_LLM")})
    assert done.returncode == 1
    assert done.stderr.strip().startswith("Error: No LLM is configured: set [llm] base_url")


def test_the_ui_lists_the_llm_only_when_one_is_configured(sample_assistant, sample_home, embedder):
    from ui.chat import answerer_choices

    assert [kind for _, kind in answerer_choices(sample_assistant.settings)] == ["extractive", "top-passage"]
    assistant = llm_assistant(sample_home, embedder, base_url="http://127.0.0.1:9/v1")
    assert ("LLM with verified citations", "llm") in answerer_choices(assistant.settings)


# ---- the chat UI -------------------------------------------------------------------------------------
def test_the_chat_withdraws_an_unsupported_sentence_while_it_streams(sample_assistant, sample_home, embedder, own_history):
    from ui.handlers import Handlers

    n = passage_number(sample_assistant, "absolute nonsense")
    reply = (f"Dmitry Peskov called the allegations absolute nonsense [{n}]. "
             f"Boris Johnson agreed with him in London [{n}].")
    with FakeOpenAI("reply", replies=[reply]) as fake:
        assistant = llm_assistant(sample_home, embedder, base_url=fake.base_url)
        updates = list(Handlers(assistant).respond(QUESTION, [], [], [], 3, None, "llm"))
    shown = [u[0][-1]["content"] for u in updates if isinstance(u[0], list)]
    assert any("Boris Johnson" in html for html in shown), "the sentence streamed in"
    assert "Boris Johnson" not in shown[-2], "...and was withdrawn before the final answer"
    assert "Boris Johnson" not in shown[-1].split('<p class="note">')[0]
    answer = updates[-1][2][-1]
    assert answer.unsupported == ("Boris Johnson agreed with him in London.",)
    assert "Removed a sentence its passages do not support" in shown[-1]


def test_the_chat_answers_with_the_real_model(llm_server, sample_home, embedder, own_history):
    from ui.handlers import Handlers

    assistant = llm_assistant(sample_home, embedder, **llm_server.settings(max_tokens=24).model_dump())
    updates = list(Handlers(assistant).respond(QUESTION, [], [], [], 1, None, "llm"))
    answer = updates[-1][2][-1]
    assert isinstance(answer, Answer) and (answer.citations or answer.abstained)
    assert_citation_invariants(assistant, answer)
    assert len([u for u in updates if isinstance(u[0], list)]) >= 3, "the message grew as tokens arrived"
