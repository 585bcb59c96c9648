"""Answer faithfulness: the share of shown sentences whose cited passages support them.

The same check the LLM answerer runs before it shows a sentence (assistant/answerers/llm/verify.py),
run again on the final answer, so every answerer is measured alike: an extractive answer quotes its
passages and scores 1.0; an LLM answer scores what verification let through (or marked).
"""
from __future__ import annotations

from collections.abc import Callable

from assistant.answerers.llm.claims import read_claims
from assistant.answerers.llm.verify import Passage, Verifier
from vectorstore.records import Chunk, Hit


def faithfulness_counts(answer, document_text: Callable[[str], str | None], verifier: Verifier) -> dict:
    """{"claims_shown", "claims_supported", "claims_removed"} for one answer (removed: by verification)."""
    passages = []
    for c in answer.citations:
        document = document_text(c.source)
        if document is None:
            document = " " * c.start + c.text
        chunk = Chunk(id=c.chunk_id, doc_id=c.source, source=c.source, title=c.title, chunk_index=0, start=c.start,
                      end=c.end, text=c.text)
        passages.append(Passage(c.n, Hit(chunk=chunk, score=c.score), document))
    claims = read_claims(answer.text)
    supported = sum(verifier.verify(claim, passages, answer.question).supported for claim in claims
                    if claim.marks) if passages else 0
    removed = [s for s in getattr(answer, "unsupported", ()) if s not in answer.text]
    return {"claims_shown": len(claims), "claims_supported": supported, "claims_removed": len(removed)}
