"""The short answer line: the exact phrase cut from the chosen sentences, or None (no sample-corpus text here)."""
from __future__ import annotations

import pytest

from assistant.answerers.extractive.question import Question
from assistant.answerers.extractive.short import short_answer


def short(question: str, *sentences: str) -> str | None:
    return short_answer(Question.of(question), list(sentences))


@pytest.mark.parametrize("question, sentences, expected", [
    # who: the doer of a passive, past the nationality and role that modify the name
    ("Who designed the new library?",
     ["The new library was designed by the Danish architect Karen Holm in partnership with a local firm."],
     "Karen Holm"),
    # who: the question's own names are no answer ("Harbor Lions" is asked about)
    ("Who did the Harbor Lions beat in the final?", ["The Harbor Lions beat the Granite Hawks in the final."],
     "Granite Hawks"),
    # who: a possessor is no part of the name
    ("Who interviewed the minister in Oslo?",
     ["In an interview with the BBC's Laura Finch in Oslo, the minister said the talks would go on."],
     "Laura Finch"),
    # a "who" list: each chosen sentence names someone who did the act asked about
    ("Who resigned from the board?",
     ["Maria Lopez resigned from the board in May.", "Tom Becker also resigned after the vote.",
      "Anna Berg resigned a week later."],
     "Maria Lopez, Tom Becker and Anna Berg"),
    # when: the whole date expression; "what year": the year alone
    ("When did the bridge open?", ["The bridge opened to traffic on 14 June 1932 after four years of work."],
     "14 June 1932"),
    ("What year did the bridge open?", ["The bridge opened to traffic on 14 June 1932 after four years of work."],
     "1932"),
    ("When was the abbey rebuilt?", ["The abbey was rebuilt in the late 1890s by its monks."], "late 1890s"),
    ("When was the collection bought?", ["The collection was bought between 1859 and 1865 by the city."],
     "1859 and 1865"),  # "between", a function word, is trimmed like "the"
    ("Who led the army?", ["In 1064, Hugh of Arles led the army across the pass."], "Hugh of Arles"),
    # how many: the number nearest the question's words, not another one in the sentence
    ("How many students attend the school?", ["The school has 1,240 students and 85 teachers."], "1,240"),
    ("How much did the stadium cost?", ["The stadium cost $4.5 million to build."], "$4.5 million"),
    ("What percentage of voters supported the plan?", ["About 62% of voters supported the plan."], "62%"),
    ("How long did the siege last?", ["The siege lasted three months before the city surrendered."],
     "three months"),
    # where: a place after "in", the one next to the question's words
    ("Where was the composer born?", ["The composer was born in Lisbon and later moved to Vienna."], "Lisbon"),
    # which + noun: the name, with the noun asked for kept
    ("Which river flows through the valley?", ["The Tamsel River flows through the valley to the sea."],
     "Tamsel River"),
    ("Which court heard the appeal?", ["The appeal was heard by the Court of Appeal of Norway in 2001."],
     "Court of Appeal of Norway"),
    # a list: the person of each sentence saying the act, not a name in apposition or a possessive
    ("Who denied the report?",
     ["The company denied the report, which was published to favour its rival, chief executive Paul Lenz.",
      "Its founder Ilse Marten has denied the company's part in the affair.",
      "Later Omar Haddad, the lawyer of trade minister Rita Cole, denied the report as well."],
     "Ilse Marten and Omar Haddad"),
    # a plural question gets the names listed together
    ("Who were the match commentators?",
     ["The match commentators were Rosa Vidal and Peter Lund, with Ian Moss reporting from the sideline."],
     "Rosa Vidal and Peter Lund"),
    ("Which two painters founded the group?", ["The group was founded by Ada Kline, Otto Ferris and friends."],
     "Ada Kline, Otto Ferris"),
    # a capitalised adverb opening the sentence names nothing
    ("Which harbour was closed?", ["Similarly, the harbour at Port Elsey was closed."], "Port Elsey"),
    # the best sentence holds no phrase of the kind: the next one does
    ("When did the mill close?", ["The mill closed for good.", "Its doors shut in March 1971."], "March 1971"),
])
def test_short_answer_by_kind(question, sentences, expected):
    assert short(question, *sentences) == expected


@pytest.mark.parametrize("question, sentences", [
    ("Why did the mill close?", ["The mill closed because the river silted up."]),  # no rule for "why"
    ("What is a kiln?", ["A kiln is an oven for firing pottery."]),  # a definition has no short phrase
    ("How many sheep are on the farm?", ["The farm is known for its sheep."]),  # no number
    ("How many sheep graze there?", ["Several sheep graze there."]),  # too vague to be an amount
    ("When did the mill close?", ["The mill closed after the flood."]),  # no date
    ("Who founded the cooperative?", ["The cooperative was founded by local farmers."]),  # no name
    ("Who runs the Harbor Lions?", ["The Harbor Lions are run by their members."]),  # only the asked-about name
    ("Who won the race?", []),  # nothing chosen
    # the only name is a passing mention, far from the question's words
    ("Who won the regional race?",
     ["The regional race was won by a rider from the small mountain club whose coach once trained with Anna Weiss."]),
])
def test_no_confident_phrase_gives_none(question, sentences):
    assert short(question, *sentences) is None


def test_a_single_name_is_not_joined_with_names_that_did_something_else():
    # the second sentence names someone, but not doing what the question asks about
    assert short("Who resigned from the board?", "Maria Lopez resigned from the board in May.",
                 "The board is chaired by Tom Becker.") == "Maria Lopez"
