"""What the model is told: numbered passages fitted to its context, the question, and how to cite."""
from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer import MARK
from assistant.answerers.llm.verify import Passage

CHARS_PER_TOKEN = 3  # a cautious estimate for English (about 4 in practice): never overfill the context
PROMPT_TOKENS = 250  # the instructions and the question, roughly
NOT_FOUND_REPLY = "NOT FOUND"

ANSWER_INSTRUCTIONS = (
    "You answer questions using only the numbered passages you are given. Write one to three short "
    "sentences. End every sentence with the number of the passage it comes from in square brackets, "
    f"like [1]. If the passages do not contain the answer, reply only: {NOT_FOUND_REPLY}")
CONDENSE_INSTRUCTIONS = (
    "Rewrite the user's last question so that it can be understood without the conversation: replace "
    "words like he, she, it, they or this with what they refer to. Reply with the rewritten question only.")

_REFUSAL = re.compile(
    r"^\W*not found\b|\bI (?:could|can)(?:not|n't| not) find\b|\bno information\b|\bI (?:do not|don't) know\b|"
    r"\bunable to (?:answer|find|determine)\b|"
    r"\b(?:passages?|context|documents?|texts?)\b[^.]*\b(?:do|does|did)(?: not|n't)\b[^.]*"
    r"\b(?:answer|mention|contain|say|state|provide|include|specify)",
    re.IGNORECASE)


def fit(passages: Sequence[Passage], context_tokens: int, max_tokens: int) -> list[Passage]:
    """The first passages that fit in the model's context beside the prompt and the answer (at least one,
    cut to fit when even it is too long)."""
    room = (context_tokens - max_tokens - PROMPT_TOKENS) * CHARS_PER_TOKEN
    fitted: list[Passage] = []
    for p in passages:
        room -= len(p.text) + len(p.hit.chunk.title) + 8
        if room < 0:
            break
        fitted.append(p)
    return fitted or list(passages[:1])


def answer_messages(question: str, passages: Sequence[Passage], context_tokens: int,
                    max_tokens: int) -> list[dict]:
    """The chat messages asking `question` of `passages` (each cut to what the context holds)."""
    limit = max(200, (context_tokens - max_tokens - PROMPT_TOKENS) * CHARS_PER_TOKEN)
    shown = "\n\n".join(f"[{p.n}] {p.hit.chunk.title}: {' '.join(p.text.split())}"[:limit] for p in passages)
    return [{"role": "system", "content": ANSWER_INSTRUCTIONS},
            {"role": "user", "content": f"Passages:\n\n{shown}\n\nQuestion: {question}"}]


def condense_messages(question: str, history: Sequence[tuple[str, str]], chars: int = 400) -> list[dict]:
    """The chat messages asking for a standalone version of a follow-up question."""
    turns = "\n".join(f"User: {q}\nAssistant: {' '.join(MARK.sub('', a).split())[:chars]}" for q, a in history)
    return [{"role": "system", "content": CONDENSE_INSTRUCTIONS},
            {"role": "user", "content": f"Conversation:\n{turns}\n\nLast question: {question}"}]


def is_refusal(sentence: str) -> bool:
    """Does the model say the passages do not answer, rather than answer?"""
    return bool(_REFUSAL.search(sentence))
