"""Fit the extractive answerer's answerability model (when to decline) and report its calibration.

    python bench/fit_answerability.py DATA/squad-train DATA/clapnq-dev

writes assistant/answerers/extractive/answerability.json (the shipped weights) and, in
bench/results/answerability/, report.md (reliability, the abstention curve, out-of-fold scores),
reliability.png, curve.png and features.npz (the examples, so `--refit` fits again from them without the
data or a question asked; tests/test_answerability.py checks that it reproduces the shipped weights).

The data, all of it outside what the reader trained on (docs/answering.md#the-answerability-model):
- The SQuAD training pool's validation articles (bench/results/reader/validation-titles.txt, whole
  articles the reader never saw): every question, answerable and crafted-unanswerable, asked with
  retrieval over the whole training-pool corpus (1,638 paragraphs). Never the reserved articles.
- CLAP NQ dev: the cases whose id's sha256 starts with 0-7 (about half). The other half is held out and
  reported here.
Each example is the reader's draft answer; label = "the answer would be right" (its sentences hold a gold
answer; never for an unanswerable question). The model is a standardised L2 logistic regression
(scikit-learn, C=1.0, lbfgs): the same data gives the same weights. The SQuAD figures in the report are
out of fold: each validation article is scored by a model fitted without it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.answerers.extractive.answerability import FEATURES, WEIGHTS  # noqa: E402

C = 1.0
BINS = 10
VALIDATION = ROOT / "bench/results/reader/validation-titles.txt"
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)


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
    assistant = Assistant.open(settings=settings, embedder=embedder)
    report = build_store(assistant, bench, home)
    if report is not None:
        print(f"indexed {bench.name}: {report.chunks} chunks", file=sys.stderr)
    return bench, assistant


def examples(assistant, cases, top_k: int, label: str) -> list[tuple]:
    """(features, right, group, article, answerable, has_draft) rows of the reader's drafts to these cases."""
    from assistant.answerers.extractive.compose import choose, compose
    from evals.metrics import contains_answer

    rows = []
    answerer, s = assistant.answerer, assistant.settings.answer
    for i, case in enumerate(cases, 1):
        request, _ = assistant.prepare(case.question, top_k=top_k)
        draft = answerer.draft(request)
        article = case.sources[0].rpartition("#")[0] if case.sources else ""
        if draft is None:
            rows.append((np.zeros(len(FEATURES)), False, label, article, case.answerable, False))
            continue
        text = compose(choose(draft.found, request.document_text, s.max_sentences, s.extra_margin),
                       request.document_text)[1].text
        right = bool(case.answers) and contains_answer(text, case.answers)
        rows.append((draft.features, right, label, article, case.answerable, True))
        if i % 200 == 0:
            print(f"{label}: {i}/{len(cases)}", file=sys.stderr)
    return rows


def collect(squad_train: Path, clap_dir: Path, validation: Path, limit: int | None = None) -> dict:
    from evals.command import of_articles
    from evals.results import sample

    squad, assistant = open_benchmark(squad_train)
    cases = sample(of_articles(list(squad.cases), validation), limit, 2)
    rows = examples(assistant, cases, squad.default_top_k or assistant.settings.retrieval.top_k, "squad-validation")
    clap, clap_bot = open_benchmark(clap_dir, embedder=assistant.embedder)
    k = clap.default_top_k or clap_bot.settings.retrieval.top_k
    cases = sample(list(clap.cases), limit, 2)
    rows += examples(clap_bot, [c for c in cases if clap_train(c.id)], k, "clapnq")
    rows += examples(clap_bot, [c for c in cases if not clap_train(c.id)], k, "heldout-clapnq")
    columns = list(zip(*rows))
    return {"x": np.array(columns[0]), "y": np.array(columns[1]), "group": np.array(columns[2]),
            "article": np.array(columns[3]), "answerable": np.array(columns[4]), "drafted": np.array(columns[5]),
            "data": {p.name: _data_digest(p) for p in (squad_train, clap_dir)} | {"validation": validation.name}}


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
    """Per threshold: unanswerable declined, answerable declined, accuracy on answerable (right and answered),
    and abstention precision (declined that were not right)."""
    out = []
    for t in THRESHOLDS:
        declined = p < t
        out.append({"threshold": float(t),
                    "unanswerable_declined": float((declined & ~answerable).sum() / max((~answerable).sum(), 1)),
                    "answerable_declined": float((declined & answerable).sum() / max(answerable.sum(), 1)),
                    "answerable_accuracy": float((~declined & y & answerable).sum() / max(answerable.sum(), 1)),
                    "abstention_precision": float((declined & ~y).sum() / max(declined.sum(), 1))})
    return out


def out_of_fold(x, y, article, train) -> np.ndarray:
    """P(right) of each SQuAD validation example from a model fitted without its article (CLAP NQ's training
    half always in)."""
    p = np.full(len(y), np.nan)
    squad = article != ""
    for title in sorted(set(article[squad].tolist())):
        held = article == title
        m = fit(x[train & ~held], y[train & ~held])
        p[held] = probabilities(x[held], *m)
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("squad_train", type=Path, nargs="?", help="DATA/squad-train (train-v2.0.json)")
    parser.add_argument("clapnq", type=Path, nargs="?", help="DATA/clapnq-dev")
    parser.add_argument("--validation", type=Path, default=VALIDATION,
                        help="the validation articles, one title a line (default: the reader's)")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help="weights file to write")
    parser.add_argument("--report", type=Path, default=ROOT / "bench/results/answerability")
    parser.add_argument("--refit", action="store_true", help="fit again from REPORT/features.npz")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="N questions of each set (a quick look)")
    args = parser.parse_args(argv)
    if not args.refit and not (args.squad_train and args.clapnq):
        parser.error("give DATA/squad-train and DATA/clapnq-dev, or --refit")
    args.report.mkdir(parents=True, exist_ok=True)
    cache = args.report / "features.npz"
    names = ("x", "y", "group", "article", "answerable", "drafted")
    if args.refit:
        if not cache.is_file():
            parser.error(f"--refit needs {cache}: run once with the data first")
        saved = np.load(cache, allow_pickle=False)
        if "article" not in saved:
            parser.error(f"{cache} holds the old answerer's features: run once with the data")
        data = {name: saved[name] for name in names} | {"data": json.loads(str(saved["data"]))}
    else:
        data = collect(args.squad_train, args.clapnq, args.validation, args.limit)
        np.savez_compressed(cache, **{name: data[name] for name in names}, data=json.dumps(data["data"]))
    # A question with no draft (the reader found no span at all) is declined before the model is asked.
    drafted = data["drafted"].astype(bool)
    x, y, group = data["x"], data["y"].astype(bool), data["group"].astype(str)
    article = np.where(group == "squad-validation", data["article"].astype(str), "")
    answerable = data["answerable"].astype(bool)
    train = ~np.char.startswith(group, "heldout") & drafted
    mean, scale, coef, intercept = fit(x[train], y[train])
    args.out.write_text(json.dumps({
        "features": list(FEATURES), "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "coef": coef.round(6).tolist(), "intercept": round(intercept, 6),
        "fitted_by": "python bench/fit_answerability.py DATA/squad-train DATA/clapnq-dev",
        "data_sha256": data["data"], "examples": {g: int((group == g).sum()) for g in sorted(set(group.tolist()))},
        "no_draft": {g: int(((group == g) & ~drafted).sum()) for g in sorted(set(group.tolist()))},
    }, indent=1) + "\n", encoding="utf-8")
    p = np.where(drafted, probabilities(x, mean, scale, coef, intercept), 0.0)
    oof = np.where(drafted, out_of_fold(x, y, article, train), 0.0)
    write_report(args.report, p, oof, y, group, answerable, coef)
    print(f"wrote {args.out} and {args.report}/report.md", file=sys.stderr)
    return 0


def write_report(out: Path, p, oof, y, group, answerable, coef) -> None:
    squad, held = group == "squad-validation", group == "heldout-clapnq"
    lines = ["# Answerability model: calibration and the abstention curve", "",
             "Made by `python bench/fit_answerability.py DATA/squad-train DATA/clapnq-dev`.", "",
             "A *right* answer's sentences hold a gold answer; an unanswerable question's answer is never right. "
             "SQuAD validation figures are out of fold (each article scored by a model fitted without it); the "
             "CLAP NQ half is held out of the fit. A question where the reader found no phrase at all is "
             "declined whatever the threshold.", "",
             "## Weights (standardised features)", "", "| feature | weight |", "|---|---|"]
    lines += [f"| {name} | {w:+.3f} |" for name, w in sorted(zip(FEATURES, coef), key=lambda t: -abs(t[1]))]
    lines += ["", "## Examples", "", "| group | examples | answerable | right |", "|---|---|---|---|"]
    for g in sorted(set(group.tolist())):
        mask = group == g
        lines.append(f"| {g} | {int(mask.sum())} | {int(answerable[mask].sum())} | {y[mask].mean():.3f} |")
    for name, probs, mask in (("SQuAD validation articles, out of fold", oof, squad),
                              ("held-out CLAP NQ half", p, held)):
        lines += ["", f"## Reliability: {name}", "", "| P(right) bin | examples | mean predicted | observed right |",
                  "|---|---|---|---|"]
        lines += [f"| {r['bin']} | {r['n']} | {r['predicted']:.3f} | {r['observed']:.3f} |"
                  for r in reliability(probs[mask], y[mask])]
        lines += ["", f"## Abstention curve: {name}", "",
                  "| min_confidence | unanswerable declined | answerable declined | answerable accuracy | "
                  "abstention precision |", "|---|---|---|---|---|"]
        lines += [f"| {r['threshold']:.2f} | {r['unanswerable_declined']:.3f} | {r['answerable_declined']:.3f} | "
                  f"{r['answerable_accuracy']:.3f} | {r['abstention_precision']:.3f} |"
                  for r in curve(probs[mask], y[mask], answerable[mask])]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(out, [("SQuAD validation (out of fold)", oof, squad), ("held-out CLAP NQ", p, held)], y, answerable)


def plot(out: Path, series, y, answerable) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    for name, probs, mask in series:
        rows = reliability(probs[mask], y[mask])
        ax.plot([r["predicted"] for r in rows], [r["observed"] for r in rows], marker="o", label=name)
    ax.set(xlabel="predicted P(right)", ylabel="observed share right", title="Reliability")
    ax.legend()
    fig.savefig(out / "reliability.png", dpi=100, bbox_inches="tight")
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, probs, mask in series:
        rows = curve(probs[mask], y[mask], answerable[mask])
        ax.plot([r["answerable_declined"] for r in rows], [r["unanswerable_declined"] for r in rows], marker=".",
                label=name)
    ax.set(xlabel="answerable questions declined", ylabel="unanswerable questions declined",
           title="Declining: the operating points of min_confidence")
    ax.legend()
    fig.savefig(out / "curve.png", dpi=100, bbox_inches="tight")
    plt.close("all")


if __name__ == "__main__":
    raise SystemExit(main())
