"""The `assistant` command as a user runs it: JSON contracts, exit codes, one-line errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "assistant"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def cli(*args, home: Path):
    return subprocess.run([str(BIN), "--home", str(home), *args], capture_output=True, text=True, env=ENV,
                          timeout=300)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory, sample_home):
    home = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(sample_home, home)
    return home


def test_help_is_light_and_import_does_not_pull_gradio():
    code = ("import sys, assistant, assistant.cli; "
            "print(sorted(m for m in ('torch', 'chromadb', 'gradio', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True)
    assert out.stdout.strip() == "[]"
    help_ = subprocess.run([str(BIN), "ask", "--help"], capture_output=True, text=True, env=ENV)
    assert help_.returncode == 0 and 'Example: assistant ask "Who denied involvement?"' in help_.stdout


def test_ingest_json_contract(tmp_path, sample_docs):
    docs = tmp_path / "sample"
    shutil.copytree(sample_docs, docs)
    first = cli("ingest", str(docs), "--json", home=tmp_path / "home")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "chunks", "seconds"}
    assert len(report["added"]) == 5 and report["failed"] == []
    (docs / "000_8bc013782648c3d5.txt").unlink()
    second = json.loads(cli("ingest", str(docs), "--prune", "--json", home=tmp_path / "home").stdout)
    assert len(second["unchanged"]) == 4 and len(second["removed"]) == 1 and second["chunks"] == 0


def test_ask_json_contract(cli_home):
    result = cli("ask", "What did Peskov call the allegations?", "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(data)
    assert data["abstained"] is False and "[1]" in data["answer"]
    assert set(data["citations"][0]) >= {"n", "source", "title", "text", "sentence", "start", "end", "score"}
    assert data["timings_ms"]["total"] > 0


def test_ask_human_form_and_abstention_exit_zero(cli_home):
    result = cli("ask", "Who won the 2016 Super Bowl?", home=cli_home)
    assert result.returncode == 0
    assert "I could not find this in the indexed documents." in result.stdout
    assert "Closest passages:" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("ask", "   "), "Error: The question is empty: type a question about your documents.\n"),
    (("ask", "Who?", "--source", "nope.txt"), "Error: No indexed source matches 'nope.txt'. "
                                             "Run `assistant sources` to list them.\n"),
    (("ingest", "/no/such/folder"), "Error: No such file or folder: /no/such/folder\n"),
])
def test_user_errors_are_one_line_exit_1(cli_home, args, message):
    result = cli(*args, home=cli_home)
    assert result.returncode == 1
    assert result.stderr == message


def test_empty_store_says_what_to_do(tmp_path):
    result = cli("ask", "Who denied involvement?", home=tmp_path)
    assert (result.returncode, result.stderr) == (1, "Error: Nothing is indexed yet: run `assistant ingest PATH`\n")


def test_usage_error_exits_2(tmp_path):
    assert cli("ask", home=tmp_path).returncode == 2


def test_sources_json(cli_home):
    data = json.loads(cli("sources", "--json", home=cli_home).stdout)
    assert len(data) == 5 and {"source", "title", "chunks", "sha256", "indexed_at"} <= set(data[0])
