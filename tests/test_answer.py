"""Cited answers on the sample corpus: invariants, the issue's example questions, bad inputs."""
from __future__ import annotations

import re

import pytest

from assistant import EmptyIndex, EmptyQuestion, UnknownSource
from assistant.answer import NOT_FOUND


def check_citations(bot, answer):
    """The four citation invariants from the issue."""
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(set(marks)) == [c.n for c in answer.citations], "every [n] has a citation and vice versa"
    assert list(dict.fromkeys(marks)) == list(range(1, len(answer.citations) + 1)), "1..N by first appearance"
    for c in answer.citations:
        assert c.sentence in c.text, "the cited sentence is verbatim in its passage"
        assert bot.document(c.source).text[c.start:c.end] == c.text, "offsets reproduce the passage"


QUESTIONS = ["Who denied involvement?", "What did Peskov call the allegations?", "Who is Sergey Markov?",
             "When did the White House announce a response?", "What did Lavrov say about the accusations?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_citation_invariants(sample_bot, question):
    answer = sample_bot.ask(question)
    assert not answer.abstained and answer.citations
    check_citations(sample_bot, answer)


def test_who_denied_involvement_names_lavrov_putin_and_peskov(sample_bot):
    answer = sample_bot.ask("Who denied involvement?")
    cited = " ".join(c.sentence for c in answer.citations)
    for name in ("Lavrov", "Peskov", "Putin"):
        assert name in cited, f"{name} missing from: {answer.text}"
    assert len({c.source for c in answer.citations}) >= 2, "the denials come from several articles"
    # Putin's own denial, in other words than the question's: found by the second look for a "who" list.
    assert any(c.sentence.startswith("Putin has also been adamant in dismissing") for c in answer.citations), \
        answer.text
    assert "To list others who did the same, also searched for: “minister Sergey Lavrov has denied Russia's " \
           "involvement in America's political sphere”;" in answer.details[-1], \
        "Why this answer shows what else was searched"
    # A "who" list names those who did what was asked: McConnell calling interference unacceptable is not a denial.
    assert not any("McConnell" in c.sentence for c in answer.citations), answer.text
    assert "denied" in answer.citations[0].sentence


def test_named_subject_finds_its_sentence(sample_bot):
    answer = sample_bot.ask("What did Peskov call the allegations?")
    assert "absolute nonsense" in answer.citations[0].sentence
    assert answer.citations[0].source.endswith("003_e2e9fd2b9c1e80fc.txt")


def test_follow_up_is_rewritten_from_history(sample_bot):
    first = sample_bot.ask("Who is Sergey Markov?")
    follow = sample_bot.ask("What did he say about WikiLeaks?", history=[("Who is Sergey Markov?", first.text)])
    assert follow.question == "What did he say about WikiLeaks?"
    assert "Markov" in follow.query and follow.query != follow.question
    assert "helped a bit with WikiLeaks" in follow.text
    check_citations(sample_bot, follow)


def test_standalone_question_is_not_rewritten(sample_bot):
    answer = sample_bot.ask("What did Peskov call the allegations?", history=[("Who is Sergey Markov?", "...")])
    assert answer.query == "What did Peskov call the allegations?"


def test_hits_explain_the_ranking(sample_bot):
    answer = sample_bot.ask("What did Peskov call the allegations?")
    assert answer.hits and all(h.dense_rank or h.bm25_rank for h in answer.hits)
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}


@pytest.mark.parametrize("question", ["Who won the 2016 Super Bowl?", "What is the boiling point of mercury?",
                                      "qwxz vbnm plokij"])
def test_unanswerable_questions_abstain_but_show_closest_passages(sample_bot, question):
    answer = sample_bot.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()
    assert answer.hits, "the closest passages are still there for the user to judge"


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question(sample_bot, question):
    with pytest.raises(EmptyQuestion, match=r"^The question is empty: type a question about your documents\.$"):
        sample_bot.ask(question)


def test_very_long_question_is_truncated_with_a_note(sample_bot):
    answer = sample_bot.ask("What did Peskov call the allegations? " + "blah " * 4000)
    assert answer.notes[0] == "The question is 20,037 characters long; only the first 1,000 were used to search."
    assert len(answer.query) <= 1000


def test_question_in_another_script_does_not_crash(sample_bot):
    answer = sample_bot.ask("Кто отрицал свою причастность?")
    assert answer.abstained or answer.citations


def test_asking_an_empty_store(make_assistant):
    with pytest.raises(EmptyIndex, match=r"^Nothing is indexed yet: run `assistant ingest PATH`$"):
        make_assistant().ask("Who denied involvement?")


def test_source_filter(sample_bot):
    answer = sample_bot.ask("Who denied involvement?", sources=["003_e2e9fd2b9c1e80fc.txt"])
    assert {h.chunk.source.rsplit("/", 1)[-1] for h in answer.hits} == {"003_e2e9fd2b9c1e80fc.txt"}


def test_unknown_source_filter_lists_close_matches(sample_bot):
    with pytest.raises(UnknownSource) as err:
        sample_bot.ask("Who denied involvement?", sources=["003_e2e9fd2b9c1e80fc.tx"])
    assert str(err.value) == ("No indexed source matches '003_e2e9fd2b9c1e80fc.tx'. "
                              "Close matches: 003_e2e9fd2b9c1e80fc.txt.")


def test_stream_yields_text_then_the_answer(sample_bot):
    parts = list(sample_bot.stream("Who denied involvement?"))
    answer = parts[-1]
    assert all(isinstance(p, str) for p in parts[:-1]) and len(parts) > 2
    assert "".join(parts[:-1]) == answer.text


@pytest.mark.parametrize("question, reason", [
    # The passages that match best say "servers operated by a Russian company" and name none.
    ("What is the name of the Russian company whose servers the hacks came from?",
     "Not answered: the sentences closest to the question hold no name next to the question's words"),
    # The articles never mention sanctions; the closest sentence is about something that sounds alike.
    ("Which sanctions did Obama impose on Russia in response to the hacking?",
     "Not answered: no document mentions 'sanctions', and the closest sentence and its context share"),
])
def test_near_miss_questions_abstain_and_say_why(sample_bot, question, reason):
    answer = sample_bot.ask(question)
    assert answer.abstained and answer.text == NOT_FOUND
    assert answer.notes and answer.notes[-1].startswith(reason), answer.notes
    assert answer.hits, "the closest passages are still there for the user to judge"


def test_a_name_answers_only_next_to_what_was_asked():
    from assistant.text.facts import names_near_terms

    question = "Who was the chairman of Hillary Clinton's campaign?"
    assert names_near_terms("Many called on Hillary Clinton's campaign chairman John Podesta to resign.",
                            question) == ["John Podesta"]
    # Names far from every question term are passing mentions, and the question's own names never answer.
    assert names_near_terms("The chairman resigned on Monday after a long and bitter dispute about money that "
                            "nobody at the office had expected, said Reuters.", question) == []
    assert names_near_terms("Hillary Clinton ran a campaign.", question) == []


def test_a_who_list_searches_again_with_the_clause_around_the_act():
    from assistant.answerers.extractive.question import who_act
    from assistant.answerers.extractive.second_look import act_clause
    from assistant.text.names import is_title

    act = who_act("Who denied involvement?")
    assert who_act("Name the official who denied involvement.") == act
    assert who_act("What was the first Doctor Who show that TVOntario ran?") is None, "a title, not a question word"
    clause = "minister Sergey Lavrov has denied Russia's involvement in America's political sphere"
    sentence = f"Wikileaks Julian Assange has promised to release more mails but Russia's foreign {clause}."
    # The doer just before the act and what was done after it, not the sentence's topic (WikiLeaks).
    assert act_clause(sentence, act) == (clause, "minister Sergey Lavrov has ")
    assert act_clause("Peskov denied it.", act) == ("Peskov denied it", "Peskov ")
    # Headlines capitalise every word: their capitals are not people, so they never join a "who" list.
    assert is_title("Russia Hacked Election Probe Update: Kremlin Denies Interfering In US Elections")
    assert not is_title("Sergey Lavrov has denied Russia's involvement.")


def test_who_is_asks_what_someone_is():
    from assistant.answerers.extractive.question import expected_type

    assert expected_type("Who is Sergey Markov?") is None
    assert expected_type("who was John Podesta") is None
    assert expected_type("Who was the chairman of the campaign?") == "name"
    assert expected_type("Who denied involvement?") == "name"


def test_sentences_know_their_lead_in():
    from assistant.text.sentences import sentence_spans

    text = "Lavrov spoke to CNN. \"We have seen no proof.\"\nA new paragraph starts here."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b, _ in spans] == ["Lavrov spoke to CNN.", "\"We have seen no proof.\"",
                                                "A new paragraph starts here."]
    assert [text[before:a] for a, _, before in spans] == ["", "Lavrov spoke to CNN. ", ""]


def test_the_same_claim_in_two_articles_is_cited_together(sample_bot):
    answer = sample_bot.ask("What was said about a single fact or a single proof?")
    # The quote names no speaker, so the sentence before it comes along, inside the same citation.
    lead_in, quote = answer.text.split(" [1][2]")[:2]
    quote = quote.strip()
    assert lead_in.endswith("he said.") and quote == '"We have not seen a single fact, a single proof."', answer.text
    assert answer.citations[0].sentence == f"{lead_in} {quote}"
    assert {c.source.rsplit("/", 1)[-1] for c in answer.citations[:2]} == {"000_8bc013782648c3d5.txt",
                                                                          "001_0c9caba1aff1c6c0.txt"}
    check_citations(sample_bot, answer)


@pytest.mark.parametrize("question", QUESTIONS)
def test_cited_sentences_are_whole(sample_bot, question):
    """A cited sentence starts where a sentence starts and ends at its end: never a fragment cut mid-word."""
    for c in sample_bot.ask(question).citations:
        text = sample_bot.document(c.source).text
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
    from assistant.answerers.extractive.candidates import collect
    from assistant.answerers.extractive.selection import compose
    from vectorstore.records import Chunk, Hit

    text = ("The European Council meets in Brussels. It appoints the Commissioners every five years.\n"
            "The Parliament votes on the budget.")
    start = text.index("It appoints")  # the passage starts after the sentence the answer needs
    chunk = Chunk("c1", "d1", "eu.txt", "EU", 0, start, len(text), text[start:])
    whole = Chunk("c0", "d1", "eu.txt", "EU", 0, 0, len(text), text)
    by_sentence = {c.sentence: c for c in collect([Hit(chunk, 1.0)], lambda source: text)}
    assert "The European Council meets in Brussels." not in by_sentence
    leaning = by_sentence["It appoints the Commissioners every five years."]
    assert leaning.shown == "The European Council meets in Brussels. It appoints the Commissioners every five years."
    assert by_sentence["The Parliament votes on the budget."].shown == "The Parliament votes on the budget."
    _, result = compose([leaning])
    [citation] = result.citations
    assert result.text == "The European Council meets in Brussels. [1] It appoints the Commissioners every five years. [1]"
    assert citation.sentence in citation.text and text[citation.start:citation.end] == citation.text
    # Both chosen: the lead-in is not quoted twice.
    first = {c.sentence: c for c in collect([Hit(whole, 1.0)], lambda source: text)}
    _, both = compose([leaning, first["The European Council meets in Brussels."]])
    assert both.text == result.text and len(both.citations) == 1
