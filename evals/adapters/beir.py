"""BEIR retrieval benchmarks (e.g. SciFact): corpus.jsonl, queries.jsonl, qrels/test.tsv."""
from __future__ import annotations

import csv
from pathlib import Path

from evals.adapters.base import Benchmark, BenchmarkError, missing_files, read_jsonl, require
from evals.cases import Case

FILES = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv")
TOP_K = 40  # passages ranked per query: enough distinct documents for nDCG@10 when chunks repeat a document


def looks_like(directory: Path) -> bool:
    """True when the directory holds any of the BEIR files."""
    return any((directory / name).exists() for name in FILES) or (directory / "qrels").is_dir()


def load(directory: Path) -> Benchmark:
    """The test split: queries judged in qrels/test.tsv, graded by their qrels score."""
    directory = Path(directory)
    missing_files(directory, FILES, "BEIR")
    corpus_path, queries_path, qrels_path = (directory / name for name in FILES)
    queries = {}
    for number, row in read_jsonl(queries_path):
        qid, text = require(queries_path, number, row, "_id", "text")
        queries[str(qid)] = str(text)
    judged = _qrels(qrels_path)
    ids = set()
    for number, row in read_jsonl(corpus_path):
        ids.add(str(require(corpus_path, number, row, "_id")[0]))
    cases = []
    for qid, grades in judged.items():
        if qid not in queries:
            raise BenchmarkError(f"{qrels_path}: query '{qid}' is not in {queries_path.name}")
        unknown = [d for d in grades if d not in ids]
        if unknown:
            raise BenchmarkError(f"{qrels_path}: document '{unknown[0]}' (query '{qid}') is not in {corpus_path.name}")
        cases.append(Case(id=qid, question=queries[qid], answers=None, sources=tuple(grades),
                          relevance=grades, retrieval_only=True))
    if not cases:
        raise BenchmarkError(f"{qrels_path}: no judged queries")

    def corpus():
        for number, row in read_jsonl(corpus_path):
            doc_id, text = require(corpus_path, number, row, "_id", "text")
            title = str(row.get("title") or "").strip()
            # The BEIR protocol indexes title + text.
            yield str(doc_id), f"{title}\n\n{text}" if title else str(text), title or str(doc_id)

    return Benchmark(name=directory.name or "beir", kind="beir", cases=tuple(cases), corpus=corpus,
                     documents=len(ids), files=(corpus_path, queries_path, qrels_path), retrieval_only=True,
                     default_top_k=TOP_K)


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    judged: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for number, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or (number == 1 and row[0].strip().lower() in ("query-id", "query_id", "qid")):
                continue
            if len(row) != 3:
                raise BenchmarkError(f"{path}:{number}: expected 3 tab-separated fields "
                                     f"(query-id, corpus-id, score), got {len(row)}")
            try:
                grade = int(float(row[2]))
            except ValueError:
                raise BenchmarkError(f"{path}:{number}: score {row[2]!r} is not a number") from None
            if grade > 0:
                judged.setdefault(row[0].strip(), {})[row[1].strip()] = grade
    return judged
