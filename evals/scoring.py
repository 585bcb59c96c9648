"""Score one answered case: what the assistant said, checked against the case's gold."""
from __future__ import annotations

from collections.abc import Callable

from assistant.answer import MARK
from evals.cases import Case
from evals.faithfulness import faithfulness_counts
from evals.metrics import (contains_answer, exact_match, gold_grade, hit_at, mrr_at, ndcg_at, ranked_documents,
                           recall_at, token_f1, word_count)

RETRIEVAL_KS = {"hit@1": 1, "hit@5": 5, "recall@5": 5, "recall@10": 10}


def check_citations(answer, document_text: Callable[[str], str | None] | None = None) -> str | None:
    """Why the answer's citations are invalid, or None when every [n] resolves and every quote is exact."""
    citations = list(answer.citations)
    if not citations:
        return "the answer cites nothing"
    numbers = [c.n for c in citations]
    if numbers != list(range(1, len(citations) + 1)):
        return f"citations are numbered {numbers}, not 1..{len(citations)}"
    marks = {int(m) for m in MARK.findall(answer.text)}
    dangling = sorted(m for m in marks if not 1 <= m <= len(citations))
    if dangling:
        return f"[{dangling[0]}] points to no citation ({len(citations)} given)"
    unused = [n for n in numbers if n not in marks]
    if unused:
        return f"citation {unused[0]} is never marked in the text"
    for c in citations:
        if c.sentence not in c.text:
            return f"the sentence of citation {c.n} is not verbatim in its passage"
        text = document_text(c.source) if document_text else None
        if text is not None and text[c.start:c.end] != c.text:
            return f"citation {c.n}: the passage is not the document's text at {c.start}:{c.end}"
    return None


def score_case(case: Case, answer, document_text: Callable[[str], str | None] | None = None,
               verifier=None) -> dict:
    """A JSON-ready record of one case: the answer, its citations, and every per-case metric
    (with a verifier, also how many of its sentences the cited passages support)."""
    ranked = ranked_documents(hit.chunk.source for hit in answer.hits)
    record = {**case.to_dict(), "answer": answer.text, "abstained": bool(answer.abstained),
              "query": answer.query, "retrieved": ranked[:10],
              "citations": [{"n": c.n, "source": c.source, "sentence": c.sentence} for c in answer.citations],
              "timings_ms": dict(answer.timings_ms),
              "kind": "retrieval" if case.retrieval_only else "answerable" if case.answerable else "unanswerable"}
    grades = case.grades()
    if grades and (case.answerable or case.retrieval_only):
        record.update({name: hit_at(ranked, grades, k) if name.startswith("hit") else recall_at(ranked, grades, k)
                       for name, k in RETRIEVAL_KS.items()})
        record["mrr@10"] = mrr_at(ranked, grades, 10)
        record["ndcg@10"] = ndcg_at(ranked, grades, 10)
    if case.retrieval_only:  # the answer is not scored: keep the record small
        del record["answer"], record["citations"]
        return record
    answered = not answer.abstained
    if answered:
        record["short"] = answer.short
    if case.answerable:
        record["correct"] = answered and contains_answer(answer.text, case.answers)
        record["f1"] = token_f1(answer.text, case.answers) if answered else 0.0
        record["em"] = exact_match(answer.text, case.answers) if answered else 0.0
        # No short answer scores 0, as a declined answer does.
        record["short_em"] = exact_match(answer.short, case.answers) if answered and answer.short else 0.0
        record["short_f1"] = token_f1(answer.short, case.answers) if answered and answer.short else 0.0
    if answered:
        record["words"] = word_count(answer.text)
        problem = check_citations(answer, document_text)
        record["valid"] = problem is None
        if problem:
            record["invalid_reason"] = problem
        if verifier is not None and document_text is not None:
            record.update(faithfulness_counts(answer, document_text, verifier))
        if grades and case.answerable:
            record["citations_gold"] = sum(gold_grade(c.source, grades) > 0 for c in answer.citations)
            record["citations_total"] = len(answer.citations)
    return record
