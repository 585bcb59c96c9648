"""The span reader: the shipped model checked by its sha256, windows over long passages, span decoding,
the no-answer decision, and a tiny real training run that keeps bench/train_reader.py working."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

PASSAGE = ("The Lisbon ferry terminal opened in 1998. Ferries to Cacilhas leave every twenty minutes from "
           "Cais do Sodré, and the crossing takes about ten minutes. The terminal was designed by the "
           "architect Nuno Teotónio Pereira.")


@pytest.fixture(scope="module")
def reader():
    from assistant.reader import Reader

    r = Reader()
    r.model
    return r


@pytest.fixture(scope="module")
def windower(reader):
    return reader.model.windower


def test_the_shipped_reader_loads_checked_by_its_sha256(reader):
    from assistant.reader.model import READER_SHA256, SHIPPED
    from vectorstore.minilm import file_sha256

    assert len(READER_SHA256) == 64 and file_sha256(SHIPPED) == READER_SHA256
    assert reader.loaded and reader.expected == READER_SHA256


def test_a_tampered_reader_is_a_one_line_error(tmp_path):
    from assistant.reader.model import READER_SHA256, SHIPPED, OnnxReader
    from vectorstore.errors import ModelError

    copy = tmp_path / "reader-int8.onnx"
    data = bytearray(SHIPPED.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        OnnxReader(copy, expected_sha256=READER_SHA256)
    message = str(err.value)
    assert "\n" not in message and "damaged or not the shipped one" in message and "reinstall" in message
    with pytest.raises(ModelError, match="is missing"):
        OnnxReader(tmp_path / "nothing.onnx", expected_sha256=READER_SHA256)


def test_a_file_that_is_no_model_is_a_one_line_error(tmp_path):
    from assistant.reader.model import OnnxReader
    from vectorstore.errors import ModelError

    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="Cannot load the reader model") as err:
        OnnxReader(junk)
    assert "\n" not in str(err.value)


def test_the_span_is_verbatim_in_the_passage_at_its_offsets(reader):
    [reading] = reader.read("Who designed the terminal?", [PASSAGE])
    assert reading.spans and reading.margin > 0
    for span in reading.spans:
        assert 0 <= span.start < span.end <= len(PASSAGE)
        assert PASSAGE[span.start:span.end] == PASSAGE[span.start:span.end].strip()
    best = reading.spans[0]
    assert "Nuno Teotónio Pereira" in PASSAGE[best.start:best.end]
    [when] = reader.read("When did the ferry terminal open?", [PASSAGE])
    assert PASSAGE[when.spans[0].start:when.spans[0].end] == "1998"


def test_a_passage_that_does_not_answer_scores_below_no_answer(reader):
    [reading] = reader.read("What is the population of Lisbon?", [PASSAGE])
    assert reading.margin < 0


def test_spans_that_only_repeat_the_question_are_not_offered(reader):
    passage = "The crossing takes about ten minutes."
    [free] = reader.read("How long does the crossing take?", [passage])
    [kept] = reader.read("How long does the crossing take?", [passage],
                         keep=lambda p, a, b: "ten" not in p[a:b])
    assert any("ten minutes" in passage[s.start:s.end] for s in free.spans)
    assert all("ten" not in passage[s.start:s.end] for s in kept.spans)


def test_a_long_passage_is_read_in_overlapping_windows(reader, windower):
    filler = " ".join(f"Paragraph {i} describes the weather, the tides and the boats in the harbour." for i in range(120))
    passage = f"{filler} The harbour master in 2011 was Ingrid Solberg. {filler}"
    windows = windower.windows("Who was the harbour master in 2011?", passage)
    assert len(windows) > 5
    for w in windows:
        assert len(w.ids) <= windower.max_tokens and w.ids[0] == windower.cls and w.ids[-1] == windower.sep
    # Every passage token is in some window, and neighbours share exactly `overlap` tokens.
    starts = [w.offsets[0][0] for w in windows]
    assert starts == sorted(starts) and windows[-1].offsets[-1][1] == len(passage.rstrip())
    first, second = windows[0].offsets, windows[1].offsets
    assert len(set(first) & set(second)) == windower.overlap
    [reading] = reader.read("Who was the harbour master in 2011?", [passage])
    best = reading.spans[0]
    assert passage[best.start:best.end] == "Ingrid Solberg"


def test_decoding_keeps_spans_inside_the_passage_and_takes_the_lowest_no_answer():
    from assistant.reader.decode import spans
    from assistant.reader.windows import Window

    # [CLS] q [SEP] p0 p1 p2 [SEP] twice: passage tokens at positions 3..5
    offsets = ((0, 3), (4, 8), (9, 12))
    w = Window((101, 7, 102, 1, 2, 3, 102), (0, 0, 0, 1, 1, 1, 1), 3, offsets)
    start = np.array([5.0, 9, 9, 0, 4, 1, 9])  # the question and [SEP] score high: never a span
    end = np.array([5.0, 9, 9, 0, 1, 6, 9])
    found, null = spans([w, w], [start, start - 1], [end, end - 1])
    assert null == 8.0  # the lower of the two windows' [CLS] scores
    assert (found[0].start, found[0].end, found[0].score) == (4, 12, 10.0)
    assert all(0 <= s.start < s.end <= 12 for s in found)
    found, _ = spans([w], [start], [end], keep=lambda a, b: b - a < 8)
    assert (found[0].start, found[0].end) == (9, 12)
    found, _ = spans([w], [start], [end], max_answer_tokens=1)
    assert all(len([o for o in offsets if o[0] >= s.start and o[1] <= s.end]) == 1 for s in found)


# ---- training ---------------------------------------------------------------------------------

def _tiny_squad(folder, reserved=("Reserved",)):
    """Four articles (one reserved) with a few answerable and unanswerable questions each."""
    articles = []
    for a, title in enumerate(["Ferries", "Tides", "Boats", *reserved]):
        context = f"The {title.lower()} office opened in {1990 + a}. It is run by Maria Keller {a}."
        qas = [{"id": f"{a}-1", "question": f"When did the {title.lower()} office open?", "is_impossible": False,
                "answers": [{"text": str(1990 + a), "answer_start": context.index(str(1990 + a))}]},
               {"id": f"{a}-2", "question": f"Who runs the {title.lower()} office?", "is_impossible": False,
                "answers": [{"text": f"Maria Keller {a}", "answer_start": context.index("Maria")}]},
               {"id": f"{a}-3", "question": f"When did the {title.lower()} office close?", "is_impossible": True,
                "answers": []}]
        articles.append({"title": title, "paragraphs": [{"context": context, "qas": qas}]})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train-v2.0.json").write_text(json.dumps({"version": "v2.0", "data": articles}))
    (folder / "reserved-titles.txt").write_text("".join(f"{t}\n" for t in reserved))
    return folder


def _train(*args, timeout=600):
    return subprocess.run([sys.executable, str(ROOT / "bench/train_reader.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_tiny_training_run_trains_resumes_exports_and_reports(tmp_path):
    from assistant.reader.model import READER_SHA256, SHIPPED
    from vectorstore.minilm import file_sha256

    data, out = _tiny_squad(tmp_path / "data"), tmp_path / "run"
    common = ["--data", data, "--out", out, "--batch-size", "2", "--epochs", "2", "--save-every", "1"]
    stopped = _train(*common, "--max-steps", "1")
    assert stopped.returncode != 0 and "stopped after --max-steps 1 (checkpoint saved)" in stopped.stderr
    assert (out / "checkpoint.pt").is_file()
    done = _train(*common)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming from" in done.stdout and "at step 1 of" in done.stdout
    assert "dropped reserved article Reserved" in done.stdout
    assert "training:" in done.stderr and "loss=" in done.stderr  # the progress bar with its loss
    report = json.loads((out / "report.json").read_text())
    assert "Reserved" not in report["data"]["train_articles"] + report["data"]["validation_articles"]
    assert not set(report["data"]["train_articles"]) & set(report["data"]["validation_articles"])
    per_epoch = -(-report["data"]["train_questions"] // 2)  # one window a question, batches of 2
    assert report["training"]["steps"] == 2 * per_epoch
    for name in ("torch", "onnx_fp32", "onnx_int8"):
        assert 0 <= report["validation"][name]["chosen"]["em"] <= 1
    assert (out / "reader-int8.onnx").is_file() and (out / "reader.onnx").is_file()
    assert file_sha256(SHIPPED) == READER_SHA256, "the tiny run never touches the shipped reader"


def test_training_refuses_a_folder_without_its_data(tmp_path):
    done = _train("--data", tmp_path, "--out", tmp_path / "run", timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (f"error: {tmp_path} has no train-v2.0.json (expected SQuAD 2.0 "
                                                    "train-v2.0.json and reserved-titles.txt)")


def test_training_refuses_a_checkpoint_of_other_arguments(tmp_path):
    data, out = _tiny_squad(tmp_path / "data"), tmp_path / "run"
    assert _train("--data", data, "--out", out, "--batch-size", "2", "--max-steps", "1").returncode != 0
    done = _train("--data", data, "--out", out, "--batch-size", "3")
    assert done.returncode != 0
    assert "was made with other arguments" in done.stderr.strip().splitlines()[-1]


def test_a_reader_made_by_training_can_replace_the_shipped_one(tmp_path, sample_home, embedder):
    """[answer] reader points at another ONNX reader; the shipped one's sha256 is not asked of it."""
    from assistant import Assistant
    from assistant.reader.model import SHIPPED

    mine = tmp_path / "mine.onnx"
    shutil.copy(SHIPPED, mine)
    assistant = Assistant.open(home=sample_home, embedder=embedder, answer={"reader": str(mine)})
    answer = assistant.ask("What did Peskov call the allegations?")
    assert assistant.answerer.reader.path == mine and not answer.abstained
