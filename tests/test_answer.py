"""Cited answers on the sample corpus: invariants, the issue's example questions, bad inputs."""
from __future__ import annotations

import re

import pytest

from assistant import EmptyIndex, EmptyQuestion, UnknownSource
from assistant.answer import NOT_FOUND


def check_citations(assistant, answer):
    """The four citation invariants from the issue."""
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(set(marks)) == [c.n for c in answer.citations], "every [n] has a citation and vice versa"
    assert list(dict.fromkeys(marks)) == list(range(1, len(answer.citations) + 1)), "1..N by first appearance"
    for c in answer.citations:
        assert c.sentence in c.text, "the cited sentence is verbatim in its passage"
        assert assistant.document(c.source).text[c.start:c.end] == c.text, "offsets reproduce the passage"


QUESTIONS = ["Who denied involvement?", "What did Peskov call the allegations?", "Who is Sergey Markov?",
             "When did the White House announce a response?", "What did Lavrov say about the accusations?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_citation_invariants(sample_assistant, question):
    answer = sample_assistant.ask(question)
    assert not answer.abstained and answer.citations
    check_citations(sample_assistant, answer)


def test_who_denied_involvement_is_answered_with_a_name_from_the_cited_sentence(sample_assistant):
    answer = sample_assistant.ask("Who denied involvement?")
    assert answer.short and any(name in answer.short for name in ("Lavrov", "Peskov", "Putin")), answer.short
    assert answer.short in answer.citations[0].sentence


def test_the_short_answer_is_the_readers_span_at_its_offsets(sample_assistant):
    for question in QUESTIONS:
        answer = sample_assistant.ask(question)
        first = answer.citations[0]
        text = sample_assistant.document(first.source).text
        assert text[answer.short_start:answer.short_end] == answer.short, question
        at = first.start + first.text.index(first.sentence)
        assert at <= answer.short_start < answer.short_end <= at + len(first.sentence), question
        data = answer.to_dict()
        assert (data["short"], data["short_start"], data["short_end"]) == (answer.short, answer.short_start,
                                                                           answer.short_end)


def test_a_phrase_that_only_repeats_the_question_is_not_the_answer(sample_assistant):
    from assistant.text.terms import terms

    for question in QUESTIONS:
        answer = sample_assistant.ask(question)
        assert not set(terms(answer.short)) <= set(terms(question)), (question, answer.short)


def test_named_subject_finds_its_sentence(sample_assistant):
    answer = sample_assistant.ask("What did Peskov call the allegations?")
    assert "absolute nonsense" in answer.citations[0].sentence
    assert answer.citations[0].source.endswith("003_e2e9fd2b9c1e80fc.txt")


def test_follow_up_is_rewritten_from_history(sample_assistant):
    first = sample_assistant.ask("Who is Sergey Markov?")
    follow = sample_assistant.ask("What did he say about WikiLeaks?", history=[("Who is Sergey Markov?", first.text)])
    assert follow.question == "What did he say about WikiLeaks?"
    assert "Markov" in follow.query and follow.query != follow.question
    # What is searched for brings Markov's article first (the reader's pick from it is measured in the news set).
    assert follow.hits[0].chunk.source.endswith("004_7bdcd2d0aef0b556.txt")
    check_citations(sample_assistant, follow)


def test_standalone_question_is_not_rewritten(sample_assistant):
    answer = sample_assistant.ask("What did Peskov call the allegations?", history=[("Who is Sergey Markov?", "...")])
    assert answer.query == "What did Peskov call the allegations?"


def test_hits_explain_the_ranking(sample_assistant):
    answer = sample_assistant.ask("What did Peskov call the allegations?")
    assert answer.hits and all(h.dense_rank or h.bm25_rank for h in answer.hits)
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}


@pytest.mark.parametrize("question", ["Who won the 2016 Super Bowl?", "What is the boiling point of mercury?",
                                      "qwxz vbnm plokij"])
def test_unanswerable_questions_abstain_but_show_closest_passages(sample_assistant, question):
    answer = sample_assistant.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()
    assert answer.hits, "the closest passages are still there for the user to judge"


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question(sample_assistant, question):
    with pytest.raises(EmptyQuestion, match=r"^The question is empty: type a question about your documents\.$"):
        sample_assistant.ask(question)


def test_very_long_question_is_truncated_with_a_note(sample_assistant):
    answer = sample_assistant.ask("What did Peskov call the allegations? " + "blah " * 4000)
    assert answer.notes[0] == "The question is 20,037 characters long; only the first 1,000 were used to search."
    assert len(answer.query) <= 1000


def test_question_in_another_script_does_not_crash(sample_assistant):
    answer = sample_assistant.ask("Кто отрицал свою причастность?")
    assert answer.abstained or answer.citations


def test_asking_an_empty_store(make_assistant):
    with pytest.raises(EmptyIndex, match=r"^Nothing is indexed yet: run `assistant ingest PATH`$"):
        make_assistant().ask("Who denied involvement?")


def test_source_filter(sample_assistant):
    answer = sample_assistant.ask("Who denied involvement?", sources=["003_e2e9fd2b9c1e80fc.txt"])
    assert {h.chunk.source.rsplit("/", 1)[-1] for h in answer.hits} == {"003_e2e9fd2b9c1e80fc.txt"}


def test_unknown_source_filter_lists_close_matches(sample_assistant):
    with pytest.raises(UnknownSource) as err:
        sample_assistant.ask("Who denied involvement?", sources=["003_e2e9fd2b9c1e80fc.tx"])
    assert str(err.value) == ("No indexed source matches '003_e2e9fd2b9c1e80fc.tx'. "
                              "Close matches: 003_e2e9fd2b9c1e80fc.txt.")


def test_stream_yields_text_then_the_answer(sample_assistant):
    parts = list(sample_assistant.stream("Who denied involvement?"))
    answer = parts[-1]
    assert all(isinstance(p, str) for p in parts[:-1]) and len(parts) >= 2
    assert "".join(parts[:-1]) == answer.text


@pytest.mark.parametrize("question", [
    "How much money did Russia spend to bankroll efforts to influence the election?",  # the articles never say
    "How many electoral votes did Donald Trump win?",
])
def test_near_miss_questions_abstain_and_say_so_plainly(sample_assistant, question):
    answer = sample_assistant.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND and answer.short is None
    assert answer.notes[-1] == ("Not answered: the documents do not seem to say this; the closest passages are "
                                "listed, in case the answer is there in other words."), answer.notes
    # What a user reads names no setting and no internal term; the numbers are in the details.
    for word in ("min_confidence", "BM25", "dense", "margin", "%"):
        assert word not in " ".join(answer.notes)
    assert "answer.min_confidence" in answer.details[-1] and "reader margin" in answer.details[-1]
    assert answer.hits, "the closest passages are still there for the user to judge"


def test_sentences_know_their_lead_in():
    from assistant.text.sentences import sentence_spans

    text = "Lavrov spoke to CNN. \"We have seen no proof.\"\nA new paragraph starts here."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b, _ in spans] == ["Lavrov spoke to CNN.", "\"We have seen no proof.\"",
                                                "A new paragraph starts here."]
    assert [text[before:a] for a, _, before in spans] == ["", "Lavrov spoke to CNN. ", ""]


@pytest.mark.parametrize("question", QUESTIONS)
def test_cited_sentences_are_whole(sample_assistant, question):
    """A cited sentence starts where a sentence starts and ends at its end: never a fragment cut mid-word."""
    for c in sample_assistant.ask(question).citations:
        text = sample_assistant.document(c.source).text
        at = c.start + c.text.index(c.sentence)
        before, after = text[at - 1:at], text[at + len(c.sentence):at + len(c.sentence) + 1]
        assert before in ("", " ", "\n"), (before, c.sentence)
        assert after in ("", " ", "\n"), (after, c.sentence)
        assert c.sentence[0].isupper() or c.sentence[0] in "\"“'‘", c.sentence
        assert c.sentence.rstrip("\"”'’)").endswith((".", "!", "?")) or after in ("", "\n"), c.sentence


@pytest.mark.parametrize("sentence, leans", [
    ("It appoints the Commissioners in a college.", True),
    ("This was the largest protest in a decade.", True),
    ("Their offices reopened on Monday.", True),
    ("\"We have seen no proof at all.\"", True),  # a quote naming nobody: its speaker is named nearby
    ("\"We have seen no proof,\" said Maria Keller.", False),
    ("Italy is bordered by France.", False),
    ("Thesis defences are public.", False),  # "This" only as a whole word
])
def test_which_sentences_lean_on_the_one_before(sentence, leans):
    from assistant.text.sentences import leans_on_previous

    assert leans_on_previous(sentence) is leans


def test_a_sentence_that_leans_is_quoted_with_the_one_before_in_one_citation():
    from assistant.answerers.extractive.compose import Found, choose, compose
    from vectorstore.records import Chunk, Hit

    text = ("The European Council meets in Brussels. It appoints the Commissioners every five years.\n"
            "The Parliament votes on the budget.")
    start = text.index("It appoints")  # the passage starts after the sentence the answer needs
    hit = Hit(Chunk("c1", "d1", "eu.txt", "EU", 0, start, len(text), text[start:]), 1.0)
    at = text.index("the Commissioners")
    span = Found(hit, 0, at, at + len("the Commissioners"), 9.0, 4.0)
    other = text.index("the budget")
    runner_up = Found(hit, 0, other, other + len("the budget"), 8.0, 3.5)
    [quote] = choose([span], lambda source: text, 3, 1.0)
    pieces, result = compose([quote], lambda source: text)
    [citation] = result.citations
    assert result.text == "The European Council meets in Brussels. [1] It appoints the Commissioners every five years. [1]"
    assert "".join(pieces) == result.text
    assert citation.sentence == "The European Council meets in Brussels. It appoints the Commissioners every five years."
    assert citation.sentence in citation.text and text[citation.start:citation.end] == citation.text
    # A span nearly as good in another sentence adds its sentence; one far behind, or below no-answer, does not.
    both = choose([span, runner_up], lambda source: text, 3, 1.0)
    assert [text[q.sentence:q.end] for q in both] == ["It appoints the Commissioners every five years.",
                                                     "The Parliament votes on the budget."]
    assert len(choose([span, runner_up], lambda source: text, 3, 0.2)) == 1
    assert len(choose([span, runner_up], lambda source: text, 1, 1.0)) == 1
    same_sentence = Found(hit, 0, at + 4, at + 17, 8.9, 3.9)
    assert len(choose([span, same_sentence], lambda source: text, 3, 1.0)) == 1, "each sentence once"
