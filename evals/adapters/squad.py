"""SQuAD JSON (v1.1 or v2.0) as retrieve-then-answer: the paragraphs are the corpus, "<title>#<i>" their sources.

A v2.0 question marked `is_impossible` (or with no answer) is an unanswerable case: its paragraph is
on topic, and the assistant must decline.
"""
from __future__ import annotations

import json
from pathlib import Path

from evals.adapters.base import Benchmark, BenchmarkError
from evals.cases import Case


def looks_like(path: Path) -> bool:
    """A .json file (or a directory holding one) with SQuAD's {"data": [{"title", "paragraphs"}]} layout."""
    return find_file(path) is not None


def find_file(path: Path) -> Path | None:
    if path.is_file():
        return path if path.suffix == ".json" and _peek(path) else None
    if path.is_dir():
        found = [p for p in sorted(path.glob("*.json")) if _peek(p)]
        return found[0] if found else None
    return None


def _peek(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return b'"data"' in head and (b'"paragraphs"' in head or b'"title"' in head or b'"version"' in head)


def load(path: Path) -> Benchmark:
    """Every question of every paragraph; acceptable answers are the distinct answer texts (none: decline)."""
    file = find_file(Path(path))
    if file is None:
        raise BenchmarkError(f"{path}: no SQuAD .json file (with a \"data\" list of articles) found")
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
        articles = data["data"]
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (KeyError, TypeError):
        raise BenchmarkError(f'{file}: no "data" list of articles') from None
    passages: list[tuple[str, str, str]] = []
    cases: list[Case] = []
    for a, article in enumerate(articles):
        where = f"{file}: article {a}"
        try:
            title = str(article["title"])
            for i, paragraph in enumerate(article["paragraphs"]):
                source = f"{title}#{i}"
                passages.append((source, paragraph["context"], f"{title.replace('_', ' ')} #{i}"))
                for qa in paragraph["qas"]:
                    answers = tuple(dict.fromkeys(x["text"].strip() for x in qa.get("answers") or ()
                                                  if x["text"].strip()))
                    impossible = qa.get("is_impossible", False) or not answers
                    cases.append(Case(id=str(qa["id"]), question=qa["question"].strip(),
                                      answers=None if impossible else answers, sources=(source,)))
        except (KeyError, TypeError) as exc:
            raise BenchmarkError(f"{where}: missing or malformed {exc}") from None
    if not cases:
        raise BenchmarkError(f"{file}: no questions")
    name = file.parent.name if file.parent.name.startswith("squad") else file.stem
    return Benchmark(name=name, kind="squad", cases=tuple(cases), corpus=lambda: iter(passages),
                     documents=len(passages), files=(file,))
