"""CLAP NQ: answerable and unanswerable questions over a closed corpus of their gold passages."""
from __future__ import annotations

from pathlib import Path

from evals.adapters.base import Benchmark, BenchmarkError, read_jsonl, require
from evals.cases import Case


def looks_like(path: Path) -> bool:
    """A clapnq_*answerable.jsonl file, or a directory holding one."""
    if path.is_file():
        return path.name.startswith("clapnq") and path.suffix == ".jsonl"
    return path.is_dir() and any(path.glob("clapnq_*answerable.jsonl"))


def files_of(path: Path) -> tuple[Path, ...]:
    """The answerable and unanswerable files of a directory (BenchmarkError saying which is missing)."""
    if path.is_file():
        return (path,)
    answerable = sorted(p for p in path.glob("clapnq_*_answerable.jsonl"))
    unanswerable = sorted(path.glob("clapnq_*_unanswerable.jsonl"))
    if answerable and not unanswerable:
        want = answerable[0].name.replace("_answerable", "_unanswerable")
        raise BenchmarkError(f"{path}: CLAP NQ benchmark directory is missing {want}")
    if unanswerable and not answerable:
        want = unanswerable[0].name.replace("_unanswerable", "_answerable")
        raise BenchmarkError(f"{path}: CLAP NQ benchmark directory is missing {want}")
    return (*answerable[:1], *unanswerable[:1])


def load(path: Path) -> Benchmark:
    """Answerable cases accept any annotator-selected sentence; unanswerable ones must be declined."""
    path = Path(path)
    files = files_of(path)
    sources: dict[tuple[str, str], str] = {}
    per_title: dict[str, int] = {}
    cases: list[Case] = []
    for file in files:
        for number, row in read_jsonl(file):
            qid, question, passages, outputs = require(file, number, row, "id", "input", "passages", "output")
            gold = []
            for passage in passages:
                title, text = require(file, number, passage, "title", "text")
                key = (str(title), str(text))
                if key not in sources:
                    sources[key] = f"{title}#{per_title.get(str(title), 0)}"
                    per_title[str(title)] = per_title.get(str(title), 0) + 1
                gold.append(sources[key])
            answers = _answers(outputs)
            cases.append(Case(id=str(qid), question=str(question).strip(), answers=answers, sources=tuple(gold)))
    if not cases:
        raise BenchmarkError(f"{path}: no questions")
    passages = [(source, text, title) for (title, text), source in sources.items()]
    name = path.name if path.is_dir() else path.stem
    return Benchmark(name=name, kind="clapnq", cases=tuple(cases), corpus=lambda: iter(passages),
                     documents=len(passages), files=files)


def _answers(outputs: list) -> tuple[str, ...] | None:
    """The sentences annotators selected (a right answer quotes one); None when no annotator found an answer."""
    if not any(isinstance(o, dict) and o.get("answer") for o in outputs):
        return None
    selected = [s.strip() for o in outputs if isinstance(o, dict) for s in o.get("selected_sentences") or []]
    selected = [s for s in selected if s]
    if not selected:  # fall back to the written answers themselves
        selected = [o["answer"].strip() for o in outputs if isinstance(o, dict) and o.get("answer")]
    return tuple(dict.fromkeys(selected))
