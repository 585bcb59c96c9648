"""Fit the extractive answerer's answerability model and report its calibration.

    python bench/fit_answerability.py DATA/squad-v1.1-dev DATA/clapnq-dev

writes assistant/answerers/extractive/answerability.json (the shipped weights) and, in
bench/results/answerability/, report.md with the reliability table and the abstention
precision/recall curve, reliability.png, curve.png and features.npz (the examples, so
`--refit` fits again from them without the data or a question asked; tests/test_answerability.py
checks that it reproduces the shipped weights).

The data and its split (docs/answering.md#the-answerability-model):
- SQuAD v1.1 dev: 1,500 questions drawn with seed 2 from those NOT in the reported sample
  (`assistant eval DATA/squad-v1.1-dev --limit 1000 --seed 13`). Each gives two examples: the
  draft answer from its own retrieval (right when it holds a gold answer), and the draft from the
  same retrieval with the question's own paragraph removed (a near miss, from its article's other
  paragraphs: never right).
- CLAP NQ dev: the cases whose id's sha256 starts with 0-7 (about half); answerable ones are right
  when the draft holds a gold answer, unanswerable ones never are. The other half is held out and
  reported here.
Label = "the draft answer would be right". Only drafts that pass the answer-type checks (selection.py
`missing_answer`) are used: those are the ones the model judges. The model is a standardised L2 logistic regression
(scikit-learn, C=1.0, lbfgs): the same data gives the same weights.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answerers.extractive.answerability import FEATURES, WEIGHTS  # noqa: E402

SQUAD_QUESTIONS, SQUAD_SEED = 1500, 2
REPORTED = {"limit": 1000, "seed": 13}  # the README's SQuAD sample: never trained on
C = 1.0
BINS = 10
NEAR_MISS_EXTRA = 5  # passages retrieved beyond top_k, so removing the gold paragraph leaves top_k


def clap_train(case_id: str) -> bool:
    return hashlib.sha256(case_id.encode()).hexdigest()[0] in "01234567"


def open_benchmark(path: Path, embedder=None):
    """The benchmark's cases and an Assistant on its cached store (built by `assistant eval` if missing)."""
    from assistant import Assistant, Settings
    from evals.adapters import detect
    from evals.adapters.cache import benchmark_home, build_store

    bench = detect(path)
    if bench is None:
        sys.exit(f"error: {path} is not a benchmark directory (see evals/DATASETS.md)")
    home = benchmark_home(bench, Settings.load())
    settings = Settings.load(home=home, answer={"min_confidence": 0.0})
    bot = Assistant.open(settings=settings, embedder=embedder)
    report = build_store(bot, bench, home)
    if report is not None:
        print(f"indexed {bench.name}: {report.chunks} chunks", file=sys.stderr)
    return bench, bot


def examples(bot, cases, top_k: int, near_miss: bool, label: str):
    """(features, right, group, judged) rows of the draft answers to these cases; judged is False when the
    answer-type checks decline the draft before the model is asked."""
    from assistant.answerers.extractive.selection import compose
    from evals.metrics import contains_answer

    rows = []
    for i, case in enumerate(cases, 1):
        request, _ = bot.prepare(case.question, top_k=top_k + NEAR_MISS_EXTRA)
        own = replace(request, hits=request.hits[:top_k])
        variants = [(own, case.answers, label)]
        if near_miss:
            gold = set(case.sources)
            others = tuple(h for h in request.hits if h.chunk.source not in gold)[:top_k]
            variants.append((replace(request, hits=others), None, f"{label}-near-miss"))
        for req, answers, group in variants:
            draft = bot.answerer.draft(req)
            if draft is None:
                continue
            text = compose(draft.chosen)[1].text
            rows.append((draft.features, bool(answers) and contains_answer(text, answers), group, not draft.missing))
        if i % 100 == 0:
            print(f"{label}: {i}/{len(cases)}", file=sys.stderr)
    return rows


def collect(squad_dir: Path, clap_dir: Path, squad_questions: int = SQUAD_QUESTIONS, clap_limit: int | None = None) -> dict:
    from evals.results import sample

    squad, bot = open_benchmark(squad_dir)
    reported = {c.id for c in sample(list(squad.cases), REPORTED["limit"], REPORTED["seed"])}
    pool = [c for c in squad.cases if c.id not in reported and c.answerable]
    chosen = sample(pool, squad_questions, SQUAD_SEED)
    rows = examples(bot, chosen, squad.default_top_k or bot.settings.retrieval.top_k, True, "squad")
    clap, clap_bot = open_benchmark(clap_dir, embedder=bot.embedder)
    k = clap.default_top_k or clap_bot.settings.retrieval.top_k
    cases = sample(list(clap.cases), clap_limit, SQUAD_SEED)
    train = [c for c in cases if clap_train(c.id)]
    held = [c for c in cases if not clap_train(c.id)]
    rows += examples(clap_bot, [c for c in train if c.answerable], k, False, "clapnq-answerable")
    rows += examples(clap_bot, [c for c in train if not c.answerable], k, False, "clapnq-unanswerable")
    rows += examples(clap_bot, [c for c in held if c.answerable], k, False, "heldout-clapnq-answerable")
    rows += examples(clap_bot, [c for c in held if not c.answerable], k, False, "heldout-clapnq-unanswerable")
    return {"x": np.array([r[0] for r in rows]), "y": np.array([r[1] for r in rows]),
            "group": np.array([r[2] for r in rows]), "judged": np.array([r[3] for r in rows]),
            "data": {p.name: _data_digest(p) for p in (squad_dir, clap_dir)}}


def _data_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=1000).fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def probabilities(x, mean, scale, coef, intercept) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + intercept)))


def reliability(p: np.ndarray, y: np.ndarray) -> list[dict]:
    rows = []
    for b in range(BINS):
        lo, hi = b / BINS, (b + 1) / BINS
        inside = (p >= lo) & ((p < hi) if b < BINS - 1 else (p <= hi))
        if inside.any():
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(inside.sum()), "predicted": float(p[inside].mean()),
                         "observed": float(y[inside].mean())})
    return rows


def curve(p: np.ndarray, y: np.ndarray, answerable: np.ndarray) -> list[dict]:
    """Per threshold: abstention precision (declined that were not right) and recall (of the not-right,
    declined), and the share of answerable questions declined."""
    out = []
    for t in np.round(np.arange(0.05, 0.951, 0.05), 2):
        declined = p < t
        wrong = ~y
        out.append({"threshold": float(t),
                    "abstention_precision": float((declined & wrong).sum() / max(declined.sum(), 1)),
                    "abstention_recall": float((declined & wrong).sum() / max(wrong.sum(), 1)),
                    "answered_accuracy": float((~declined & y).sum() / max((~declined).sum(), 1)),
                    "answerable_declined": float((declined & answerable).sum() / max(answerable.sum(), 1))})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("squad", type=Path, nargs="?", help="DATA/squad-v1.1-dev (see evals/DATASETS.md)")
    parser.add_argument("clapnq", type=Path, nargs="?", help="DATA/clapnq-dev")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write")
    parser.add_argument("--report", type=Path, default=ROOT / "bench/results/answerability")
    parser.add_argument("--refit", action="store_true", help="fit again from REPORT/features.npz")
    parser.add_argument("--squad-questions", type=int, default=SQUAD_QUESTIONS, metavar="N",
                        help="SQuAD questions to draw (a smaller number for a quick look; the shipped weights "
                             "use the default)")
    parser.add_argument("--clapnq-limit", type=int, default=None, metavar="N",
                        help="CLAP NQ cases to use (default: all)")
    args = parser.parse_args(argv)
    if not args.refit and not (args.squad and args.clapnq):
        parser.error("give DATA/squad-v1.1-dev and DATA/clapnq-dev, or --refit")
    args.report.mkdir(parents=True, exist_ok=True)
    cache = args.report / "features.npz"
    if args.refit:
        if not cache.is_file():
            parser.error(f"--refit needs {cache}: run once with the data first")
        saved = np.load(cache, allow_pickle=False)
        data = {name: saved[name] for name in ("x", "y", "group", "judged")} | {"data": json.loads(str(saved["data"]))}
    else:
        data = collect(args.squad, args.clapnq, args.squad_questions, args.clapnq_limit)
        np.savez_compressed(cache, x=data["x"], y=data["y"], group=data["group"], judged=data["judged"],
                            data=json.dumps(data["data"]))
    # The model judges only drafts the answer-type checks let through: it is fitted and reported on those.
    judged = data["judged"].astype(bool)
    x, y, group = data["x"][judged], data["y"].astype(bool)[judged], data["group"][judged]
    train = ~np.char.startswith(group.astype(str), "heldout")
    mean, scale, coef, intercept = fit(x[train], y[train])
    args.out.write_text(json.dumps({
        "features": list(FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": coef.round(6).tolist(), "intercept": round(intercept, 6),
        "fitted_by": "python bench/fit_answerability.py DATA/squad-v1.1-dev DATA/clapnq-dev",
        "data_sha256": data["data"], "examples": {g: int((group == g).sum()) for g in sorted(set(group.tolist()))},
        "declined_by_type_checks": {g: int((data["group"][~judged] == g).sum())
                                    for g in sorted(set(data["group"].tolist()))},
    }, indent=1) + "\n", encoding="utf-8")
    p = probabilities(x, mean, scale, coef, intercept)
    write_report(args.report, p, y, group, train, coef)
    print(f"wrote {args.out} and {args.report}/report.md", file=sys.stderr)
    return 0


def write_report(out: Path, p, y, group, train, coef) -> None:
    held = ~train
    answerable_groups = np.array(["unanswerable" not in g for g in group.astype(str)])
    # Near misses are built from answerable questions but count as questions to decline.
    answerable = answerable_groups & ~np.char.endswith(group.astype(str), "near-miss")
    lines = ["# Answerability model: calibration and the abstention curve", "",
             "Made by `python bench/fit_answerability.py DATA/squad-v1.1-dev DATA/clapnq-dev`.", "",
             "Every figure is over the drafts the answer-type checks let through, the ones the model judges "
             "(answerability.json lists those the checks declined first). A *right* draft contains a gold "
             "answer; near misses and unanswerable questions are never right. *Abstention precision* is the "
             "share of declined drafts that were not right, *abstention recall* the share of drafts that were "
             "not right that are declined, *answerable declined* the share of answerable questions' own "
             "drafts (not near misses) that are declined.", "",
             "## Weights (standardised features)", "", "| feature | weight |", "|---|---|"]
    lines += [f"| {name} | {w:+.3f} |" for name, w in sorted(zip(FEATURES, coef), key=lambda t: -abs(t[1]))]
    lines += ["", "## Examples", "", "| group | examples | right |", "|---|---|---|"]
    for g in sorted(set(group.tolist())):
        mask = group == g
        lines.append(f"| {g} | {int(mask.sum())} | {y[mask].mean():.3f} |")
    for name, mask in (("training examples", train), ("held-out CLAP NQ half", held)):
        lines += ["", f"## Reliability: {name}", "", "| P(right) bin | examples | mean predicted | observed right |",
                  "|---|---|---|---|"]
        lines += [f"| {r['bin']} | {r['n']} | {r['predicted']:.3f} | {r['observed']:.3f} |"
                  for r in reliability(p[mask], y[mask])]
        lines += ["", f"## Abstention curve: {name}", "",
                  "| min_confidence | abstention precision | abstention recall | accuracy when answering | "
                  "answerable declined |", "|---|---|---|---|---|"]
        lines += [f"| {r['threshold']:.2f} | {r['abstention_precision']:.3f} | {r['abstention_recall']:.3f} | "
                  f"{r['answered_accuracy']:.3f} | {r['answerable_declined']:.3f} |"
                  for r in curve(p[mask], y[mask], answerable[mask])]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(out, p, y, train, held, answerable)


def plot(out: Path, p, y, train, held, answerable) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    for name, mask in (("training", train), ("held-out CLAP NQ", held)):
        rows = reliability(p[mask], y[mask])
        ax.plot([r["predicted"] for r in rows], [r["observed"] for r in rows], marker="o", label=name)
    ax.set(xlabel="predicted P(right)", ylabel="observed share right", title="Reliability")
    ax.legend()
    fig.savefig(out / "reliability.png", dpi=100, bbox_inches="tight")
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, mask in (("training", train), ("held-out CLAP NQ", held)):
        rows = curve(p[mask], y[mask], answerable[mask])
        ax.plot([r["abstention_recall"] for r in rows], [r["abstention_precision"] for r in rows], marker=".",
                label=name)
    ax.set(xlabel="abstention recall", ylabel="abstention precision", title="Declining: precision vs recall")
    ax.legend()
    fig.savefig(out / "curve.png", dpi=100, bbox_inches="tight")
    plt.close("all")


if __name__ == "__main__":
    raise SystemExit(main())
