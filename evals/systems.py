"""The configurations a run compares: the assistant as configured, and the plain baseline beside it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.runner import System

# The plain baseline every run measures beside the assistant, so a number means something.
BASELINE = {"retrieval": {"bm25_weight": 0.0}, "answer": {"kind": "top-passage"}}
RECORDED = {"chunk", "retrieval", "answer", "model_dir", "model"}


@dataclass(frozen=True)
class Spec:
    """A named set of setting overrides on top of the user's config."""

    name: str
    overrides: dict = field(default_factory=dict)
    label: str = ""  # prefix of the description, e.g. "plain baseline"


def default_specs(answerer: str | None = None, retrieval_only: bool = False) -> list[Spec]:
    """The assistant (with --answerer if given) and the baseline: dense-only retrieval + top-passage answer."""
    main: dict = {}
    if answerer:
        main["answer"] = {"kind": answerer}
    elif retrieval_only:
        main["answer"] = {"kind": "top-passage"}  # nothing to score in the answer: skip the answerer's cost
    return [Spec("assistant", main), Spec("baseline", BASELINE, "plain baseline")]


def describe(settings, top_k: int | None = None, precision: str = "fp32") -> str:
    """One line saying how a system retrieves and answers (and the embedding precision unless fp32)."""
    r, a, c = settings.retrieval, settings.answer, settings.chunk
    if r.dense_weight and r.bm25_weight:
        retrieval = (f"hybrid retrieval (dense x{r.dense_weight:g} + BM25 x{r.bm25_weight:g}, RRF k={r.rrf_k}, "
                     f"{r.dense_k}+{r.bm25_k} candidates)")
    elif r.dense_weight:
        retrieval = f"dense-only retrieval ({r.dense_k} candidates)"
    else:
        retrieval = f"BM25-only retrieval ({r.bm25_k} candidates)"
    model = "" if precision == "fp32" else f"; {precision} index embeddings"
    return (f"{retrieval} + {a.kind} answer; top_k {top_k or r.top_k}; chunks of {c.size} tokens "
            f"({c.overlap} overlap){model}")


def merge(base: dict, extra: dict) -> dict:
    """Nested dict merge: extra wins."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def open_systems(specs: list[Spec], home: Path | None, config: Path | None, top_k: int | None = None,
                 embedder=None, kb: str | None = None) -> list[System]:
    """One Assistant per spec on the same home (and knowledge base), sharing one loaded embedding model."""
    from assistant import Assistant, Settings

    systems = []
    for spec in specs:
        settings = Settings.load(config, home=home, **spec.overrides)
        assistant = Assistant.open(settings=settings, embedder=embedder, kb=kb)
        embedder = assistant.embedder
        description = describe(settings, top_k, assistant.embedder.precision)
        recorded = settings.model_dump(mode="json", include=RECORDED)
        recorded["model"]["precision"] = assistant.embedder.precision  # the store's, which may not be the setting
        systems.append(System(spec.name, assistant, f"{spec.label}: {description}" if spec.label else description,
                              recorded, top_k))
    return systems
