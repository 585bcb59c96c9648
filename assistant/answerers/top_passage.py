"""A plain baseline: the best retrieved passage, whole, as the answer."""
from __future__ import annotations

from assistant.answer import Answer, Citation
from assistant.answerers.base import Answerer, AnswerRequest, AnswerStream, abstain, speak


class TopPassageAnswerer(Answerer):
    """Quotes the top passage with one citation; declines only when nothing was retrieved."""

    def answer(self, request: AnswerRequest) -> AnswerStream:
        if not request.hits:
            yield from speak(abstain("nothing was retrieved"))
            return
        hit = request.hits[0]
        chunk = hit.chunk
        citation = Citation(n=1, source=chunk.source, title=chunk.title, text=chunk.text, sentence=chunk.text,
                            start=chunk.start, end=chunk.end, score=round(hit.score, 4), chunk_id=chunk.id)
        yield from speak(Answer(text=f"{chunk.text} [1]", citations=(citation,)))


def make(settings, embedder, options=None) -> TopPassageAnswerer:
    return TopPassageAnswerer()
