"""Eval cases: the JSONL format of docs/evals.md, loaded and checked before anything runs."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError

KEYS = ("id", "question", "answers", "sources", "history", "tags", "note", "given")
REQUIRED = ("id", "question", "answers")
MAX_PROBLEMS = 20  # a file with more is probably not an eval set at all


class EvalSetError(AssistantError):
    """An eval set or benchmark cannot be read; `problems` lists every line at fault."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        more = len(self.problems) - 1
        super().__init__(self.problems[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


@dataclass(frozen=True)
class Case:
    """One question with what counts as a right answer.

    answers=None means the assistant must decline. `relevance` maps a gold source to its grade
    (BEIR qrels); eval-set sources all have grade 1. Retrieval-only cases (BEIR) score no answer. `tags` name
    groups of cases that the report also measures alone (e.g. "table").
    """

    id: str
    question: str
    answers: tuple[str, ...] | None
    sources: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    relevance: dict = field(default_factory=dict, compare=False)
    retrieval_only: bool = False
    note: str = ""  # why the case exists (e.g. the comment of a thumbs-down in the chat)

    @property
    def pending(self) -> bool:
        """A case still waiting for a person to write its gold answer (`"answers": []` with a note)."""
        return self.answers == ()

    @property
    def answerable(self) -> bool:
        return self.answers is not None

    def grades(self) -> dict[str, int]:
        """Gold source -> relevance grade (1 unless the benchmark says otherwise)."""
        return self.relevance or {s: 1 for s in self.sources}

    def to_dict(self) -> dict:
        data = {"id": self.id, "question": self.question,
                "answers": list(self.answers) if self.answers is not None else None,
                "sources": list(self.sources)}
        if self.history:
            data["history"] = list(self.history)
        if self.tags:
            data["tags"] = list(self.tags)
        if self.note:
            data["note"] = self.note
        return data


def load_cases(path: str | Path) -> list[Case]:
    """Read and check every line of a JSONL eval set; raise EvalSetError naming file:line on any fault."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise EvalSetError(f"{path}: no such eval set") from None
    except UnicodeDecodeError as exc:
        raise EvalSetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    cases: list[Case] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = parse_case(line)
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        if case.id in seen:
            problems.append(f"{path}:{number}: duplicate id '{case.id}' (first on line {seen[case.id]})")
            continue
        seen[case.id] = number
        cases.append(case)
    if problems:
        raise EvalSetError(problems)
    if not cases:
        raise EvalSetError(f"{path}: the eval set is empty: write one JSON case per line, e.g. "
                           '{"id": "q1", "question": "Who denied involvement?", "answers": ["Lavrov"], '
                           '"sources": ["doc.txt"]}')
    return cases


def parse_case(line: str) -> Case:
    """One JSONL line -> Case; ValueError with a plain reason when it does not fit the format."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"a case must be a JSON object, got {type(data).__name__}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise ValueError(f"unknown key{'s' * (len(unknown) > 1)} {', '.join(repr(k) for k in unknown)} "
                         f"(allowed: {', '.join(KEYS)})")
    missing = [k for k in REQUIRED if k not in data]
    name = f"case '{data['id']}'" if isinstance(data.get("id"), (str, int)) else "case"
    if "answers" in missing:
        raise ValueError(f'{name} has no "answers": give a list of acceptable answers, '
                         "or null if the assistant must decline")
    if missing:
        raise ValueError(f"{name} has no {', '.join(repr(k) for k in missing)}")
    case_id, question, answers = data["id"], data["question"], data["answers"]
    if not isinstance(case_id, (str, int)) or isinstance(case_id, bool) or not str(case_id).strip():
        raise ValueError('"id" must be a non-empty string')
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f'{name}: "question" must be a non-empty string')
    if answers is not None:
        answers = _strings(answers, "answers", name)
        if not answers and not _text(data.get("note")):
            raise ValueError(f'{name}: "answers" is an empty list: give at least one acceptable answer, '
                             "or null if the assistant must decline (an empty list is kept only with a \"note\")")
    for key in ("note", "given"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f'{name}: "{key}" must be a string')
    sources = _strings(data.get("sources", []), "sources", name)
    history = _strings(data.get("history", []), "history", name)
    tags = _strings(data.get("tags", []), "tags", name)
    return Case(id=str(case_id), question=question.strip(), answers=answers, sources=sources, history=history,
                tags=tags, note=_text(data.get("note")))


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value, key: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f'{name}: "{key}" must be a list of non-empty strings')
    return tuple(v.strip() for v in value)
