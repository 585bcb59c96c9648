"""A question asked in a saved conversation (assistant/history.py): its earlier turns read before the answer, the
new turn saved after it. For every front end that saves turns (the native API; the chat UI).

Asking never depends on the history file: when it is corrupt, locked or unwritable, the question is answered
all the same (from the history the asker sent, if any) and the answer carries a note saying the turn was not
saved, and why.
"""
from __future__ import annotations

from assistant.answer import Answer
from assistant.errors import HistoryUnavailable, UnknownConversation
from assistant.history import History

NEW = "new"  # the conversation to ask in to start a new one, titled by the question (ids are 32 hex digits)


def kept(answer: Answer) -> dict:
    """What a turn keeps of an answer: its JSON without `hits` (the passages retrieved, cited or not: most of
    its size, and found again by asking again). The citations keep their passages."""
    data = answer.to_dict()
    del data["hits"]
    return data


class Recording:
    """One question asked in the owner's conversation `conversation` (an id, or NEW) with answerer `answerer` on
    knowledge base `kb`: `earlier()` before answering, `save(answer)` after."""

    def __init__(self, history: History, owner: str, conversation: str, answerer: str, kb: str):
        self.history, self.owner, self.answerer, self.kb = history, owner, answerer, kb
        self.conversation = None if conversation == NEW else conversation
        self.failure: str | None = None  # why the turn cannot be saved, once known

    def earlier(self) -> list[tuple[str, str]]:
        """The conversation's turns as (question, answer text), oldest first: the history of a follow-up.

        UnknownConversation when the owner has no conversation of that id (nothing is answered then); an
        unusable file gives [] and the turn will not be saved (save() says why)."""
        if self.conversation is None:
            return []
        try:
            turns = self.history.conversation(self.owner, self.conversation).turns
        except HistoryUnavailable as exc:
            self.failure = str(exc)
            return []
        return [(t.question, t.answer.get("answer") or "") for t in turns]

    def save(self, question: str, answer: Answer) -> dict:
        """The answer's JSON with `conversation` (its id) and `turn` (the saved turn's id, for feedback); when
        the turn could not be saved, `turn` is null and a note in `notes` says why."""
        if self.failure is None:
            try:
                if self.conversation is None:
                    self.conversation = self.history.start(self.owner, question).id
                turn = self.history.add_turn(self.owner, self.conversation, question, kept(answer), self.answerer,
                                             self.kb)
                return {**answer.to_dict(), "conversation": self.conversation, "turn": turn.id}
            except (HistoryUnavailable, UnknownConversation) as exc:  # the file broke, or it was deleted meanwhile
                self.failure = str(exc)
        data = answer.to_dict()
        data["notes"].append(f"This turn was not saved: {self.failure}")
        return {**data, "conversation": self.conversation, "turn": None}
