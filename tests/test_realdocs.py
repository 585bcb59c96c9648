"""The real-documents eval set: its corpus (evals/realdocs), case tags measured alone, gate files of several gates."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evals.aggregate import by_tag
from evals.cases import EvalSetError, load_cases
from evals.gate import Gate, GateError, check_gate, load_gate
from evals.metrics import contains_answer, source_matches
from evals.realdocs.sources import ZLIB, CorpusUnavailable, Package, fetch

ROOT = Path(__file__).resolve().parents[1]
REALDOCS = ROOT / "evals" / "sets" / "realdocs.jsonl"


def write(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) if isinstance(rows, list)
                    else json.dumps(rows), encoding="utf-8")
    return path


# ---- the corpus -------------------------------------------------------------------------------

def test_the_corpus_has_every_kind_of_document_and_is_the_same_every_time(realdocs_docs, tmp_path):
    from evals.realdocs.build import build

    made = sorted(p.relative_to(realdocs_docs).as_posix() for p in realdocs_docs.rglob("*") if p.is_file())
    assert [m for m in made if not m.startswith("libffi/")] == [
        "bzip2-manual-scanned.pdf", "crc-doc.1.0.pdf", "locales.xlsx", "number-and-date-conventions.pptx"]
    assert len([m for m in made if m.startswith("libffi/") and m.endswith(".html")]) == 15
    again = build(tmp_path / "again", realdocs_docs.parent / "cache")  # the session's packages: no download
    assert sorted(p.relative_to(tmp_path / "again").as_posix() for p in again) == made
    assert all(p.read_bytes() == (realdocs_docs / p.relative_to(tmp_path / "again")).read_bytes() for p in again)


def test_the_scanned_pdf_has_no_text_layer_and_every_page_is_read_by_ocr(realdocs_docs, realdocs_bot):
    from pypdf import PdfReader

    scanned = realdocs_docs / "bzip2-manual-scanned.pdf"
    assert [(page.extract_text() or "").strip() for page in PdfReader(scanned).pages] == ["", "", ""]
    record = realdocs_bot.document(str(scanned))
    assert record.ocr_pages == (1, 2, 3) and "48-bit pattern" in record.text


def test_the_set_is_big_enough_and_every_answer_is_in_a_gold_document(realdocs_docs, realdocs_bot):
    cases = load_cases(REALDOCS)
    tags = [t for c in cases for t in c.tags]
    assert len(cases) >= 40 and sum(not c.answerable for c in cases) >= 8
    assert tags.count("table") >= 8 and tags.count("scanned") >= 3
    indexed = [r.source for r in realdocs_bot.sources()]
    printed = _printed_pages(realdocs_docs.parent / "cache")
    for case in (c for c in cases if c.answerable):
        gold = [s for s in indexed if any(source_matches(s, g) for g in case.sources)]
        assert len(gold) == len(case.sources), case.id
        # A scanned page's answer is checked against the page as printed: OCR may misread it ("L350k"),
        # which is the answerer's problem, not the set's.
        texts = [printed if "scanned" in case.tags else realdocs_bot.document(s).text for s in gold]
        assert any(contains_answer(text, case.answers) for text in texts), case.id


def _printed_pages(cache: Path) -> str:
    """The text layer of the bzip2 manual's pages that the corpus's scanned PDF pictures (its ligatures, "ﬁ",
    folded to letters as OCR reads them)."""
    import unicodedata

    from pypdf import PdfReader

    from evals.realdocs.build import SCANNED_PAGES
    from evals.realdocs.sources import BZIP2

    manual = PdfReader(next(iter(fetch(BZIP2, cache).values())))
    return unicodedata.normalize("NFKC", "\n".join(manual.pages[n - 1].extract_text() for n in SCANNED_PAGES))


def test_a_missing_apt_get_is_one_line_and_exit_1(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "no-tools")}
    done = subprocess.run([sys.executable, "-m", "evals.realdocs.build", str(tmp_path / "out"), "--cache",
                           str(tmp_path / "cache")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "error: apt-get is not installed: the real-documents corpus is made of Debian packages\n"


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get (Debian)")
def test_a_package_apt_cannot_find_names_apt_gets_reason(tmp_path):
    with pytest.raises(CorpusUnavailable) as err:
        fetch(Package("docs-assistant-no-such-package", "none", {"usr/share/doc/x": "0" * 64}), tmp_path)
    assert str(err.value).startswith("apt-get download docs-assistant-no-such-package failed: E: ")
    assert "\n" not in str(err.value)


def test_a_changed_file_is_refused(tmp_path):
    path = next(iter(ZLIB.files)).removesuffix(".gz")
    (tmp_path / ZLIB.name / path).parent.mkdir(parents=True)
    (tmp_path / ZLIB.name / path).write_bytes(b"%PDF-1.4 not the paper")  # as if the package had changed it
    with pytest.raises(CorpusUnavailable) as err:
        fetch(ZLIB, tmp_path)
    assert str(err.value).startswith(f"zlib1g-dev: {next(iter(ZLIB.files))} has changed (sha256 ")
    assert str(err.value).endswith("expected 064f9252d6e2…): the eval set's answers were checked on the earlier file")


# ---- case tags --------------------------------------------------------------------------------

def test_tags_are_read_and_a_bad_one_is_named(tmp_path):
    good = {"id": "q1", "question": "Who?", "answers": ["Lavrov"], "tags": ["table", "pdf"]}
    [case] = load_cases(write(tmp_path / "set.jsonl", [good]))
    assert case.tags == ("table", "pdf") and case.to_dict()["tags"] == ["table", "pdf"]
    with pytest.raises(EvalSetError) as err:
        load_cases(write(tmp_path / "bad.jsonl", [{**good, "tags": "table"}]))
    assert str(err.value) == f'{tmp_path / "bad.jsonl"}:1: case \'q1\': "tags" must be a list of non-empty strings'


def test_each_tag_is_measured_alone_in_the_results_and_the_summary(tmp_path, sample_assistant):
    from evals.report import summary_markdown
    from evals.results import build_results
    from evals.runner import System, run_cases

    cases = load_cases(write(tmp_path / "set.jsonl", [
        {"id": "interviewer", "question": "Who interviewed Sergey Lavrov in Moscow?",
         "answers": ["Christiane Amanpour"], "sources": ["000_8bc013782648c3d5.txt"], "tags": ["people"]},
        {"id": "no-company", "question": "Which Russian company's servers were used for the hacks?",
         "answers": None, "tags": ["people", "decline"]}]))
    systems = [System("assistant", sample_assistant)]
    run = run_cases(cases, systems)
    results = build_results(run, systems, name="set", kind="eval-set", target="set.jsonl", command="assistant eval",
                            started_at="now")
    tagged = results["systems"]["assistant"]["by_tag"]
    assert list(tagged) == ["decline", "people"] and tagged == by_tag(run.records["assistant"])
    assert (tagged["people"]["cases"], tagged["people"]["answerable"], tagged["decline"]["answerable"]) == (2, 1, 0)
    assert "## By case tag (assistant)" in summary_markdown(results)
    assert "| people | 2 |" in summary_markdown(results)


# ---- gate files of several gates --------------------------------------------------------------

def test_a_gate_file_of_several_gates_gives_each_set_its_own(tmp_path):
    path = write(tmp_path / "gate.json", {"gates": [
        {"set": "evals/sets/a.jsonl", "corpus": "data/a", "min": {"answer_accuracy": 0.9}},
        {"set": "evals/sets/b.jsonl", "corpus": "data/b", "min": {"answer_accuracy": 0.5},
         "tags": {"table": {"answer_accuracy": 0.5}}}]})
    gate = load_gate(path, tmp_path / "evals" / "sets" / "b.jsonl")
    assert (gate.set, gate.corpus, gate.tags) == ("evals/sets/b.jsonl", "data/b", {"table": {"answer_accuracy": 0.5}})
    with pytest.raises(GateError) as err:
        load_gate(path, "other.jsonl")
    assert str(err.value) == f"{path}: no gate for other.jsonl (gates: evals/sets/a.jsonl, evals/sets/b.jsonl)"


@pytest.mark.parametrize("gates,message", [
    ([], '"gates" must be a non-empty list of gates'),
    ([{"min": {"answer_accuracy": 0.9}}, {"min": {"accuracy": 0.9}}], "gate 2: unknown metric 'accuracy' in \"min\""),
    ([{"tags": {"table": {"answer_accuracy": "high"}}}], "gate 1: tags.table.answer_accuracy must be a number"),
    ([{"tags": ["table"]}], 'gate 1: "tags" must map a case tag to {metric: minimum}'),
])
def test_bad_gate_lists_are_one_line_naming_the_gate(tmp_path, gates, message):
    path = write(tmp_path / "gate.json", {"gates": gates})
    with pytest.raises(GateError) as err:
        load_gate(path)
    assert str(err.value).startswith(f"{path}: {message}") and "\n" not in str(err.value)


def test_tag_floors_name_the_tag():
    gate = Gate(minimum={"answer_accuracy": 0.4}, tags={"table": {"answer_accuracy": 0.5},
                                                        "scanned": {"answer_accuracy": 0.2}})
    tagged = {"table": {"answer_accuracy": 0.25}}
    assert check_gate(gate, {"answer_accuracy": 0.45}, tagged) == [
        "table cases: answer_accuracy dropped to 0.250 (gate: at least 0.500)",
        "scanned cases: answer_accuracy was not measured (no case it applies to); gate: at least 0.200"]
    assert check_gate(gate, {"answer_accuracy": 0.45}, {**tagged, "table": {"answer_accuracy": 0.5},
                                                        "scanned": {"answer_accuracy": 0.2}}) == []


def test_the_cli_checks_the_gate_of_the_set_it_runs(tmp_path, sample_home, capsys):
    from evals.command import run_command

    cases = write(tmp_path / "sets" / "tiny.jsonl", [
        {"id": "interviewer", "question": "Who interviewed Sergey Lavrov in Moscow?",
         "answers": ["Christiane Amanpour"], "sources": ["000_8bc013782648c3d5.txt"], "tags": ["people"]}])
    gate = write(tmp_path / "gate.json", {"gates": [
        {"set": "sets/other.jsonl", "min": {"answer_accuracy": 0.1}},
        {"set": "sets/tiny.jsonl", "min": {"answer_accuracy": 0.1}, "tags": {"people": {"answer_f1": 1.01}}}]})
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    assert run_command(cases, gate=gate, home=home, out=tmp_path / "run") == 1
    assert "Gate failed: people cases: answer_f1 dropped to" in " ".join(capsys.readouterr().err.split())
    saved = json.loads((tmp_path / "run" / "results.json").read_text(encoding="utf-8"))
    assert saved["gate"]["tags"] == {"people": {"answer_f1": 1.01}}
