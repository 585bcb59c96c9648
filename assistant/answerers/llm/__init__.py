"""The LLM answerer: an answer written by a language model from the retrieved passages, every
sentence verified against the passage it cites before it is shown.

The model (any OpenAI-compatible endpoint, or a local GGUF file: assistant/llm/) streams its reply;
each sentence is checked as soon as it is complete (verify.py). A sentence its passage does not
support is removed (or shown marked, `[llm] unsupported = "mark"`), and `Answer.notes` says why.
When nothing verified is left, the extractive answer stands in, and the notes say so.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property

from assistant.answer import Answer, Citation
from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, Revision, abstain, speak
from assistant.answerers.extractive import ExtractiveAnswerer
from assistant.answerers.extractive import make as make_extractive
from assistant.answerers.llm.claims import ClaimReader
from assistant.answerers.llm.prompt import answer_messages, condense_messages, fit, is_refusal
from assistant.answerers.llm.verify import Passage, Verdict, Verifier
from assistant.errors import ContextOverflow
from assistant.followup import needs_context, rewrite
from assistant.settings import LLMSettings

UNSUPPORTED = "(not supported by the passages)"
REPEATS = 3  # the same sentence this often in one reply is a generation loop, not an answer


class LLMAnswerer(Answerer):
    """Generates a cited answer with `chat` (assistant.llm.ChatModel) and keeps what verification passes."""

    def __init__(self, settings: LLMSettings, verifier: Verifier, fallback: ExtractiveAnswerer):
        self.settings = settings
        self.verifier = verifier
        self.fallback = fallback
        self._lock = threading.Lock()  # the chat UI answers from several threads: one model, started once

    @cached_property
    def chat(self):
        """The model, connected (or, for a GGUF file, started) on first use."""
        from assistant.llm import make_chat_model

        with self._lock:
            if "chat" not in self.__dict__:  # another thread may have made it while this one waited
                self.__dict__["chat"] = make_chat_model(self.settings)
            return self.__dict__["chat"]

    def load(self) -> None:
        self.fallback.load()  # the reader of the extractive stand-in; the LLM starts on its first use

    @property
    def loaded(self) -> bool:
        return self.fallback.loaded

    def search_query(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A follow-up made standalone by the model ("What did he say?" -> "What did Lavrov say?")."""
        if not history or not needs_context(question):
            return question
        condensed = " ".join(self.chat.complete(condense_messages(question, history[-3:])).split())
        if not condensed or is_refusal(condensed) or len(condensed) > 4 * len(question) + 200:
            return rewrite(question, history)
        return condensed

    def answer(self, request: AnswerRequest) -> AnswerStream:
        if not request.hits:
            yield from speak(abstain("nothing was retrieved"))
            return
        passages = [Passage(i, hit, request.document_text(hit.chunk.source)) for i, hit in enumerate(request.hits, 1)]
        s = self.settings
        passages = fit(passages, s.context_tokens, s.max_tokens)
        composer = Composer(s.unsupported)
        reader = ClaimReader()
        refusals: list[str] = []
        notes: list[str] = []
        said: Counter[str] = Counter()

        def check(claims) -> None:
            for claim in claims:
                said[claim.text] += 1
                if is_refusal(claim.text):
                    refusals.append(claim.text)
                else:
                    composer.add(self.verifier.verify(claim, passages, request.query))

        while True:
            try:
                for delta in self.chat.stream(answer_messages(request.query, passages, s.context_tokens,
                                                              s.max_tokens)):
                    yield delta
                    done = reader.feed(delta)
                    if done:
                        check(done)
                        yield Revision(composer.text + (" " if composer.text else "") + reader.text.lstrip())
                        if max(said.values()) >= REPEATS:  # a small model stuck in a loop: stop paying for it
                            notes.append(f"The model wrote the same sentence {REPEATS} times; its reply was "
                                         "cut there.")
                            reader = ClaimReader()  # the loop's unfinished sentence is dropped
                            break
                break
            except ContextOverflow:
                if len(passages) == 1 or composer.verdicts or reader.text:
                    raise
                passages = passages[:len(passages) // 2]
                notes.append(f"The passages did not fit in the model's context; answered from the first "
                             f"{len(passages)}.")
        check(reader.finish())
        yield from self._end(request, composer, refusals, notes + composer.notes())

    def _end(self, request: AnswerRequest, composer: Composer, refusals: list[str], notes: list[str]) -> AnswerStream:
        """The Answer once the reply is read: the verified sentences, a decline the model made, or the extractive
        answer standing in when nothing it wrote was verified."""
        if composer.shown:
            yield Revision(composer.text)
            yield Answer(text=composer.text, citations=tuple(composer.citations), notes=tuple(notes),
                         unsupported=composer.unsupported_claims())
            return
        if refusals and not composer.verdicts:
            yield Revision("")
            yield from speak(abstain("the model said the passages do not answer the question", tuple(notes)))
            return
        # Nothing verified survived: the extractive answer (or its abstention) stands in.
        why = "it wrote nothing" if not composer.verdicts else "none of its sentences was verified"
        notes.append(f"The LLM's answer was not used ({why}); this is the extractive answer.")
        yield Revision("")
        for item in self.fallback.answer(request):
            if isinstance(item, Answer):
                yield replace(item, notes=tuple(notes) + item.notes, unsupported=composer.unsupported_claims(),
                              answered_by=item.answered_by or "extractive")
            else:
                yield item


class Composer:
    """The verified answer so far: each shown sentence with its [n], numbered in order of appearance."""

    def __init__(self, unsupported: str = "remove"):
        self.unsupported = unsupported
        self.verdicts: list[Verdict] = []
        self.parts: list[str] = []
        self.citations: list[Citation] = []
        self._numbers: dict[tuple[str, int, int], int] = {}

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    @property
    def shown(self) -> bool:
        return any(v.supported for v in self.verdicts)

    def add(self, verdict: Verdict) -> None:
        if verdict.supported and any(v.supported and v.claim.text == verdict.claim.text for v in self.verdicts):
            return  # said again: shown once
        self.verdicts.append(verdict)
        if not verdict.supported:
            if self.unsupported == "mark":
                self.parts.append(f"{verdict.claim.text} {UNSUPPORTED}")
            return
        marks = "".join(f"[{self._number(s)}]" for s in verdict.support)
        self.parts.append(f"{verdict.claim.text} {marks}")

    def _number(self, support) -> int:
        p = support.passage
        key = (p.hit.chunk.source, support.start, support.end)
        if key not in self._numbers:
            chunk = p.hit.chunk
            start, end = min(support.start, chunk.start), max(support.end, chunk.end)
            n = len(self.citations) + 1
            self.citations.append(Citation(n=n, source=chunk.source, title=chunk.title, text=p.document[start:end],
                                           sentence=p.document[support.start:support.end], start=start, end=end,
                                           score=round(support.similarity, 4), chunk_id=chunk.id))
            self._numbers[key] = n
        return self._numbers[key]

    def unsupported_claims(self) -> tuple[str, ...]:
        return tuple(v.claim.text for v in self.verdicts if not v.supported)

    def notes(self) -> list[str]:
        """What the user should know about the sentences verification did not pass."""
        verb = "Marked" if self.unsupported == "mark" else "Removed"
        failed = Counter(v.claim.text for v in self.verdicts if not v.supported)  # a sentence said twice: one note
        reasons = {v.claim.text: v.reason for v in self.verdicts if not v.supported}
        return [f"{verb} a sentence its passages do not support"
                f"{f' ({count} times)' if count > 1 else ''}: “{text}” ({reasons[text]})."
                for text, count in failed.items()]


def make(settings, embedder, options=None) -> LLMAnswerer:
    fallback = make_extractive(settings, embedder)
    return LLMAnswerer(settings.llm, Verifier(embedder.embed_cached, settings.llm.min_support), fallback)
