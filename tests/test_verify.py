"""Verification of generated sentences against the passages they cite, on canned model replies."""
from __future__ import annotations

import pytest

from assistant.answerers.llm.claims import Claim, ClaimReader, read_claims
from assistant.answerers.llm.prompt import is_refusal
from assistant.answerers.llm.verify import Passage, Verifier, missing_facts
from vectorstore.records import Chunk, Hit

DOCS = {
    "a.txt": ("Russia's foreign minister Sergey Lavrov has denied Russia's involvement in the election. "
              "He said the accusations were baseless."),
    "b.txt": ("The company reported revenue of 4,200 million dollars in March. "
              "Its headquarters are in Oslo, where 1,300 people work."),
}


def hit(source: str) -> Hit:
    text = DOCS[source]
    return Hit(chunk=Chunk(id=f"{source}#0", doc_id=source, source=source, title=source.upper(), chunk_index=0,
                           start=0, end=len(text), text=text), score=1.0)


@pytest.fixture(scope="module")
def passages():
    return [Passage(1, hit("a.txt"), DOCS["a.txt"]), Passage(2, hit("b.txt"), DOCS["b.txt"])]


@pytest.fixture(scope="module")
def verifier(embedder):
    return Verifier(embedder.embed_cached, min_support=0.5)


def test_reply_is_read_as_claims_with_their_marks():
    reply = "Sergey Lavrov denied it [1]. The company earned 4,200 million dollars. [2] - Staff: 1,300 [2, 1]"
    assert read_claims(reply) == [Claim("Sergey Lavrov denied it.", (1,)),
                                  Claim("The company earned 4,200 million dollars.", (2,)),
                                  Claim("Staff: 1,300", (2, 1))]


def test_marks_end_a_sentence_without_a_full_stop():
    assert read_claims("Kremlin Denies Interfering In US Elections [1][2] On Thursday, Putin demurred. [3]") == [
        Claim("Kremlin Denies Interfering In US Elections", (1, 2)), Claim("On Thursday, Putin demurred.", (3,))]


def test_a_reply_in_pieces_gives_the_same_claims_as_whole():
    reply = ("Sergey Lavrov denied Russia's involvement [1]. Mr. Lavrov called the accusations baseless. [1][2] "
             "It is in Oslo [2].")
    reader = ClaimReader()
    streamed = []
    for i in range(0, len(reply), 3):  # tokens of three characters, splitting marks and words
        streamed += reader.feed(reply[i:i + 3])
    early = len(streamed)
    streamed += reader.finish()
    assert streamed == read_claims(reply)
    assert early == 2, "the first two sentences are handed out before the stream ends"
    assert streamed[1] == Claim("Mr. Lavrov called the accusations baseless.", (1, 2))


def test_supported_claim_cites_the_sentence_that_says_it(verifier, passages):
    verdict = verifier.verify(Claim("Sergey Lavrov denied that Russia was involved in the election.", (1,)), passages)
    assert verdict.supported, verdict.reason
    support = verdict.support[0]
    assert support.passage.n == 1
    assert support.passage.document[support.start:support.end].startswith("Russia's foreign minister Sergey Lavrov")


def test_a_claim_citing_the_wrong_passage_is_unsupported(verifier, passages):
    verdict = verifier.verify(Claim("Sergey Lavrov denied that Russia was involved in the election.", (2,)), passages)
    assert not verdict.supported
    assert verdict.reason.startswith("the cited passage [2] says this: its closest sentence is at ")
    assert verdict.reason.endswith("below llm.min_support (0.50)")


def test_a_made_up_name_is_caught(verifier, passages):
    verdict = verifier.verify(Claim("Dmitry Peskov denied Russia's involvement in the election.", (1,)), passages)
    assert not verdict.supported
    assert verdict.reason == "[1] does not mention 'Dmitry Peskov'"


def test_a_made_up_number_is_caught(verifier, passages):
    verdict = verifier.verify(Claim("The company reported revenue of 5,200 million dollars in March.", (2,)), passages)
    assert verdict.reason == "[2] does not mention '5,200'"
    ok = verifier.verify(Claim("The company reported revenue of 4200 million dollars in March.", (2,)), passages)
    assert ok.supported, "1,000 and 1000 are one number"


def test_a_mark_past_the_end_points_at_no_passage(verifier, passages):
    verdict = verifier.verify(Claim("The headquarters are in Oslo.", (7,)), passages)
    assert verdict.supported, "checked against every passage, like a claim without marks"
    assert [s.passage.n for s in verdict.support] == [2]
    unsupported = verifier.verify(Claim("The moon is made of cheese.", (7,)), passages)
    assert unsupported.reason.startswith("no passage (it cited [7], past the last one) says this")


def test_a_claim_without_marks_is_cited_with_the_passage_that_supports_it(verifier, passages):
    verdict = verifier.verify(Claim("About 1,300 people work at the headquarters in Oslo.", ()), passages)
    assert [s.passage.n for s in verdict.support] == [2]
    assert not verifier.verify(Claim("Paris is the capital of France.", ()), passages).supported


def test_facts_in_the_question_may_be_repeated(verifier, passages):
    claim = Claim("In the 2016 election, Sergey Lavrov denied Russia's involvement.", (1,))
    assert not verifier.verify(claim, passages).supported
    assert verifier.verify(claim, passages, question="Who denied involvement in the 2016 election?").supported


def test_missing_facts_ignores_sentence_openers_and_compares_stems():
    evidence = "Officials from both parties said the Senate would vote on Tuesday, 12 May."
    assert missing_facts("Both parties' officials said the Senate votes on Tuesday.", evidence) == []
    assert missing_facts("The House votes on Friday, 12 June.", evidence) == ["House", "Friday", "June"]


@pytest.mark.parametrize("reply, refusal", [
    ("NOT FOUND", True),
    ("The passages do not mention who won.", True),
    ("I could not find this in the passages.", True),
    ("The context does not provide information about his age.", True),
    ("Lavrov denied it.", False),
    ("The company does not publish its revenue.", False),
])
def test_refusals_are_recognised(reply, refusal):
    assert is_refusal(reply) is refusal
