"""The answerability model: shipped weights that the fitting script reproduces, and its features."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

from conftest import ROOT


def test_the_fitting_script_reproduces_the_shipped_weights(tmp_path):
    from assistant.answerers.extractive.answerability import WEIGHTS

    shutil.copy(ROOT / "bench/results/answerability/features.npz", tmp_path / "features.npz")
    done = subprocess.run([sys.executable, str(ROOT / "bench/fit_answerability.py"), "--refit",
                           "--report", str(tmp_path), "--out", str(tmp_path / "weights.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "weights.json").read_text()) == json.loads(WEIGHTS.read_text())
    assert "## Reliability: held-out CLAP NQ half" in (tmp_path / "report.md").read_text()


def test_refit_without_saved_features_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench/fit_answerability.py"), "--refit",
                           "--report", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(f"--refit needs {tmp_path}/features.npz: run once with "
                                                         "the data first")


def test_weights_fitted_on_other_features_are_refused(tmp_path):
    import pytest

    from assistant.answerers.extractive.answerability import WEIGHTS, Answerability

    data = json.loads(WEIGHTS.read_text())
    data["features"] = data["features"][:-1]
    stale = tmp_path / "answerability.json"
    stale.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="fitted on other features; run bench/fit_answerability.py again"):
        Answerability.load(stale)


def test_min_confidence_moves_the_operating_point(sample_home, embedder):
    """One setting: 0 answers whenever the reader found a phrase, 1 declines everything."""
    from assistant import Assistant

    question = "Who won the 2016 Super Bowl?"  # the articles never say; the model must not trust the draft
    default = Assistant.open(home=sample_home, embedder=embedder).ask(question)
    assert default.abstained and 0 <= default.confidence < 0.1
    assert default.notes[-1].startswith("Not answered: the documents do not seem to say this"), default.notes
    assert re.match(r"Estimated \d+% likely right \(answer.min_confidence 10%\)", default.details[-1]), default.details
    never = Assistant.open(home=sample_home, embedder=embedder, answer={"min_confidence": 0.0}).ask(question)
    assert not never.abstained and never.confidence == default.confidence and never.short
    answerable = "Who denied involvement?"
    sure = Assistant.open(home=sample_home, embedder=embedder).ask(answerable)
    assert not sure.abstained and sure.confidence >= 0.1 and sure.to_dict()["confidence"] == sure.confidence
    always = Assistant.open(home=sample_home, embedder=embedder, answer={"min_confidence": 1.0}).ask(answerable)
    assert always.abstained and "(answer.min_confidence 100%)" in always.details[-1]
