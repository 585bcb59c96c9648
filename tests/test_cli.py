"""The `assistant` command as a user runs it: JSON contracts, exit codes, one-line errors."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from support import ANSWER_KEYS, CITATION_KEYS, HIT_KEYS
from test_store import TAMPERED

BIN = Path(sys.executable).parent / "assistant"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
# A wide terminal (nothing wraps) with colour on, as a user's terminal would be.
TERMINAL = {"FORCE_COLOR": "1", "COLUMNS": "5000"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")



def cli(*args, home: Path, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run([str(BIN), "--home", str(home), *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, cwd=cwd, timeout=300)


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory, sample_home):
    home = tmp_path_factory.mktemp("cli") / "home"
    shutil.copytree(sample_home, home)
    return home


def test_help_is_light_and_import_does_not_pull_gradio():
    heavy = "('torch', 'chromadb', 'gradio', 'sentence_transformers', 'llama_index')"
    code = f"import sys, assistant, assistant.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True)
    assert out.stdout.strip() == "[]"
    help_ = subprocess.run([str(BIN), "ask", "--help"], capture_output=True, text=True, env=ENV)
    assert help_.returncode == 0 and 'Example: assistant ask "Who denied involvement?"' in help_.stdout


@pytest.mark.parametrize("command, usage", [
    ((), "Usage: assistant [OPTIONS] COMMAND [ARGS]..."),
    (("ingest",), "Usage: assistant ingest [OPTIONS] PATH..."),
    (("ask",), "Usage: assistant ask [OPTIONS] QUESTION"),
    (("sources",), "Usage: assistant sources [OPTIONS]"),
    (("remove",), "Usage: assistant remove [OPTIONS] SOURCE"),
    (("chat",), "Usage: assistant chat [OPTIONS]"),
    (("eval",), "Usage: assistant eval [OPTIONS] [SET_OR_DIR]"),
    (("serve",), "Usage: assistant serve [OPTIONS]"),
    (("kb",), "Usage: assistant kb [OPTIONS] COMMAND [ARGS]..."),
    (("kb", "list"), "Usage: assistant kb list [OPTIONS]"),
    (("kb", "create"), "Usage: assistant kb create [OPTIONS] NAME"),
    (("kb", "delete"), "Usage: assistant kb delete [OPTIONS] NAME"),
])
def test_help_reads_plainly_and_has_an_example(command, usage):
    result = subprocess.run([str(BIN), *command, "--help"], capture_output=True, text=True,
                            env={**ENV, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == usage
    # typer's own labels (`{question}`, `<list[Path]>`, `<int range>`) must not show.
    assert not re.search(r"[{<][a-z]", result.stdout), result.stdout
    assert re.search(r"Example:\s+assistant ", result.stdout), result.stdout
    if command and command[0] != "kb":  # every command on an index takes --kb
        assert "--kb NAME" in result.stdout, result.stdout


def test_ingest_json_contract(tmp_path, sample_docs):
    docs = tmp_path / "sample"
    shutil.copytree(sample_docs, docs)
    # Colour forced on: on a terminal the human form draws a progress bar on stderr; --json must not.
    first = cli("ingest", str(docs), "--json", home=tmp_path / "home", env=TERMINAL)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "skipped", "chunks", "seconds"}
    assert len(report["added"]) == 5 and report["failed"] == []
    (docs / "000_8bc013782648c3d5.txt").unlink()
    second = json.loads(cli("ingest", str(docs), "--prune", "--json", home=tmp_path / "home").stdout)
    assert len(second["unchanged"]) == 4 and len(second["removed"]) == 1 and second["chunks"] == 0


def test_ask_json_contract(cli_home):
    from assistant.settings import RetrievalSettings

    question = "What did Peskov call the allegations?"
    result = cli("ask", question, "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == ANSWER_KEYS
    assert data["question"] == data["query"] == question and data["notes"] == []
    assert data["abstained"] is False and "[1]" in data["answer"]
    assert data["citations"] and all(set(c) == CITATION_KEYS for c in data["citations"])
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    assert len(data["hits"]) == RetrievalSettings().top_k and all(set(h) == HIT_KEYS for h in data["hits"])
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"} and data["timings_ms"]["total"] > 0


def test_ask_human_form_cites_and_highlights(cli_home, sample_assistant, sample_docs):
    question = "What did Peskov call the allegations?"
    expected = sample_assistant.ask(question)  # the same index the CLI reads (cli_home is a copy)
    assert expected.citations
    result = cli("ask", question, home=cli_home, env=TERMINAL, cwd=sample_docs.parent)
    assert result.returncode == 0, result.stderr
    text = plain(result.stdout)
    lines = text.splitlines()
    first = expected.citations[0]
    # The short answer, the answer, a blank line, then each citation as `[n] title — source` (relative to the
    # working dir).
    assert expected.short and expected.short in first.sentence
    assert lines[:4] == [expected.short, expected.text, "", f"[1] {first.title} — sample/{Path(first.source).name}"]
    position = 0
    for c in expected.citations:
        header = f"[{c.n}] {c.title} — sample/{Path(c.source).name}\n"
        position = text.index(header, position) + len(header)
        # The whole passage follows its header, and the cited sentence is in bold yellow inside it.
        assert text[position:].startswith(c.text)
        assert c.sentence in c.text
    highlighted = re.findall(r"\x1b\[1;33m(.*?)\x1b\[0m", result.stdout, flags=re.S)
    assert highlighted == [c.sentence for c in expected.citations]
    assert re.fullmatch(r"retrieve \d+ ms · answer \d+ ms · total \d+ ms", lines[-1])
    # In a terminal the answer was also shown on stderr as it streamed in (then cleared).
    assert "absolute nonsense" in plain(result.stderr)


def test_ask_shows_the_short_answer_first(cli_home):
    question = "How many emails were deleted from Clinton's private server?"
    data = json.loads(cli("ask", question, "--json", home=cli_home).stdout)
    assert data["short"] == "36,000" and data["short"] in data["answer"]
    assert list(data)[:3] == ["question", "answer", "short"]
    result = cli("ask", question, home=cli_home, env=TERMINAL)
    assert result.returncode == 0, result.stderr
    # The short answer in bold on the first line, then the cited sentences
    assert plain(result.stdout).splitlines()[:2] == ["36,000", data["answer"]]
    assert result.stdout.startswith("\x1b[1m36,000\x1b[0m")
    # --json says where the phrase is: its offsets in the first citation's document text
    from assistant import Assistant

    text = Assistant.open(home=cli_home).document(data["citations"][0]["source"]).text
    assert text[data["short_start"]:data["short_end"]] == "36,000"
    assert data["short"] in data["citations"][0]["sentence"]
    # A declined answer has none
    declined = json.loads(cli("ask", "What is the capital of France?", "--json", home=cli_home).stdout)
    assert declined["abstained"] and (declined["short"], declined["short_start"], declined["short_end"]) == (
        None, None, None)


def test_the_readme_ask_examples_are_what_the_reader_answers(sample_assistant):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme.split('$ assistant ask "What did Peskov call the allegations?"\n', 1)[1].splitlines()
    answer = sample_assistant.ask("What did Peskov call the allegations?")
    assert shown[0] == answer.short and " ".join(shown[1:3]) == answer.text
    block = readme.split('$ assistant ask "Who denied involvement?" --json\n', 1)[1]
    found = re.search(r'"short": "([^"]*)",\s*"short_start": (\d+), "short_end": (\d+)', block)
    answer = sample_assistant.ask("Who denied involvement?")
    assert (answer.short, answer.short_start, answer.short_end) == (found[1], int(found[2]), int(found[3]))


def test_ask_top_k_sets_the_number_of_passages(cli_home):
    from assistant.settings import RetrievalSettings

    assert RetrievalSettings().top_k != 2
    result = cli("ask", "What did Peskov call the allegations?", "--top-k", "2", "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["hits"]) == 2
    assert {c["chunk_id"] for c in data["citations"]} <= {h["id"] for h in data["hits"]}


def test_ask_source_restricts_the_citations(cli_home, sample_assistant):
    question, wanted = "Who denied involvement?", "000_8bc013782648c3d5.txt"
    unfiltered = sample_assistant.ask(question)
    assert any(not h.chunk.source.endswith("/" + wanted) for h in unfiltered.hits)  # the filter has work to do
    result = cli("ask", question, "--source", wanted, "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["abstained"] is False and data["citations"]
    assert {Path(c["source"]).name for c in data["citations"]} == {wanted}
    assert {Path(h["source"]).name for h in data["hits"]} == {wanted}


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


@pytest.mark.parametrize("top_k, error", [("0", "greater than or equal to 1"),
                                          ("51", "less than or equal to 50")])  # [retrieval] top_k's TOP_K_MAX
def test_top_k_beyond_the_settings_bounds_is_a_usage_error(tmp_path, top_k, error):
    result = cli("ask", "Who?", "--top-k", top_k, home=tmp_path)
    assert result.returncode == 2
    assert plain(result.stderr).splitlines()[-1] == f"Error: Invalid value for '--top-k': Input should be {error}"


def test_ingest_and_sources_human_form(tmp_path, sample_docs, make_assistant):
    docs = tmp_path / "docs"
    docs.mkdir()
    names = ["001_0c9caba1aff1c6c0.txt", "004_7bdcd2d0aef0b556.txt"]
    for name in names:
        shutil.copy(sample_docs / name, docs / name)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    home = tmp_path / "home"
    result = cli("ingest", "docs", home=home, env=TERMINAL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "files" in plain(result.stderr) and "embedding" in plain(result.stderr)  # the progress bars
    records = {Path(r.source).name: r for r in make_assistant(home=home).sources()}
    assert sorted(records) == names
    lines = [line.rstrip() for line in plain(result.stdout).splitlines()]
    assert re.fullmatch(r" status +source +chunks / reason", lines[0])
    rows = sorted(line.split(None, 2) for line in lines[1:-1])
    assert rows[:2] == [["added", f"docs/{name}", str(records[name].chunks)] for name in names]
    assert rows[2][:2] == ["failed", "docs/broken.pdf"]
    assert re.fullmatch(r"broken\.pdf: not a valid PDF \(.+\)", rows[2][2])
    chunks = sum(r.chunks for r in records.values())
    assert re.fullmatch(rf"2 added, 0 updated, 0 unchanged, 0 removed, 1 failed; {chunks} chunks embedded in "
                        r"\d+\.\d s", lines[-1])

    listing = cli("sources", home=home, env={"COLUMNS": "300"}, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = [line.rstrip() for line in listing.stdout.splitlines()]
    assert lines[0].split() == ["title", "source", "chunks", "sha256", "indexed"]
    for line, name in zip(lines[1:-1], names, strict=True):
        r = records[name]
        assert re.fullmatch(rf" {re.escape(r.title)} +docs/{name} +{r.chunks} +{r.sha256[:12]} +"
                            r"\d{4}-\d\d-\d\d \d\d:\d\d", line), line
    assert lines[-1] == f"2 sources, {chunks} chunks"
    # At 80 columns the sources are still whole, to be copied into `assistant remove`; the titles give way.
    narrow = cli("sources", home=home, env={"COLUMNS": "80"}, cwd=tmp_path)
    rows = narrow.stdout.splitlines()[1:-1]
    assert [f"docs/{name}" in row for row, name in zip(rows, names, strict=True)] == [True, True], narrow.stdout
    assert max(map(len, narrow.stdout.splitlines())) <= 80


def test_two_citations_of_one_passage_print_it_once():
    import io

    from rich.console import Console

    from assistant.answer import Answer, Citation
    from assistant.render import print_answer

    passage = "Lavrov denied it. Peskov agreed. Both spoke on Monday."
    cite = dict(source="/d/a.txt", title="A", text=passage, start=0, end=len(passage), score=1.0)
    answer = Answer(question="Who?", text="Lavrov denied it [1]. Peskov agreed [2]. Smith did not [3].",
                    citations=(Citation(1, sentence="Lavrov denied it.", **cite),
                               Citation(2, sentence="Peskov agreed.", **cite),
                               Citation(3, "/d/b.txt", "B", "Smith did not.", "Smith did not.", 0, 14, 0.5)))
    out = io.StringIO()
    print_answer(Console(file=out, width=200, color_system=None), answer)
    shown = out.getvalue()
    assert shown.count(passage) == 1 and shown.count("Smith did not.") == 1, shown
    assert "[1] [2] A — /d/a.txt" in shown and "[3] B — /d/b.txt" in shown, shown


def test_ingest_says_what_it_skipped(tmp_path):
    docs = tmp_path / "docs"
    (docs / "src").mkdir(parents=True)
    (docs / "LICENSE").write_text("Permission is hereby granted, free of charge, to any person.\n")
    (docs / "src" / "tool.py").write_text("print('hi')\n")
    (docs / "logo.gif").write_bytes(b"GIF89a")
    home = tmp_path / "home"
    result = cli("ingest", "docs", home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line.rstrip() for line in plain(result.stdout).splitlines()]
    assert lines[1].split() == ["added", "docs/LICENSE", "1"]
    assert re.fullmatch(r"1 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 2 skipped \(not a supported type; "
                        r"--verbose lists them\); 1 chunks embedded in \d+\.\d s", " ".join(lines[2:])), lines
    verbose = plain(cli("ingest", "docs", "--verbose", home=home, cwd=tmp_path, env={"COLUMNS": "200"}).stdout)
    assert "skipped (not a supported type):\n  docs/logo.gif\n  docs/src/tool.py\n" in verbose, verbose
    as_json = json.loads(cli("ingest", "docs", "--json", home=home, cwd=tmp_path).stdout)
    assert as_json["skipped"] == [(docs / "logo.gif").as_posix(), (docs / "src" / "tool.py").as_posix()]
    assert as_json["unchanged"] == [(docs / "LICENSE").as_posix()]


def test_tables_show_names_and_reasons_as_written_not_as_markup():
    import io

    from rich.console import Console

    from assistant.render import print_report, print_sources
    from ingest.report import FileResult, IngestReport
    from vectorstore.records import DocumentRecord

    out = io.StringIO()
    console = Console(file=out, width=300, color_system=None)
    reason = "big.pdf: 6,000 pages, over the 5,000 limit; raise [ingest] max_pages to read it"
    print_report(console, IngestReport(results=(FileResult("/d/[draft] notes.txt", "added", 3),
                                                FileResult("/d/big.pdf", "failed", error=reason)), seconds=1.0, chunks=3))
    print_sources(console, [DocumentRecord("id", "/d/[draft] notes.txt", "[DRAFT] Harbour plan", "ab" * 32, 3,
                                           0.0, 0.0)])
    shown = out.getvalue()
    assert "/d/[draft] notes.txt" in shown and reason in shown and "[DRAFT] Harbour plan" in shown, shown


def test_tampered_model_is_one_line_error(cli_home, tampered_model):
    model_dir, weights, digest = tampered_model
    result = cli("ask", "Who denied involvement?", home=cli_home, env={"ASSISTANT_MODEL_DIR": str(model_dir)})
    assert (result.returncode, result.stderr) == (1, f"Error: {TAMPERED.format(weights=weights, digest=digest[:12])}\n")
    assert result.stdout == ""


def test_sources_json(cli_home):
    data = json.loads(cli("sources", "--json", home=cli_home).stdout)
    assert len(data) == 5 and {"source", "title", "chunks", "sha256", "indexed_at"} <= set(data[0])


# ---------------------------------------------------------------- hostile input: one line, exit 1, never a hang

@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p / "pipe.txt") or p / "pipe.txt", "pipe.txt: not a regular file (a named pipe)"),
    (lambda p: Path("/dev/zero"), "zero: not a regular file (a character device)"),
])
def test_ingest_refuses_a_fifo_or_device_named_directly(tmp_path, make, message):
    path = make(tmp_path)
    # The timeout is the harness's: before the fix this command never returned.
    result = subprocess.run([str(BIN), "--home", str(tmp_path / "home"), "ingest", str(path)], capture_output=True,
                            text=True, env=ENV, timeout=120)
    assert (result.returncode, result.stderr) == (1, f"Error: {message}; only regular files are ingested\n")


def test_ask_with_bytes_that_are_not_utf8_is_one_line(cli_home):
    question = b"Who denied \xff involvement?"  # Latin-1, as a terminal in another encoding sends it
    result = subprocess.run([os.fsencode(BIN), b"--home", os.fsencode(cli_home), b"ask", question],
                            capture_output=True, env=ENV, timeout=120)
    assert result.returncode == 1
    assert result.stderr == b"Error: The question is not valid UTF-8 text (U+DCFF at character 12): send or type it " \
                            b"as UTF-8\n"


STOP_AFTER_FIRST_COMMIT = """
import os, signal, socket, sys, time
import ingest.sync
from vectorstore.store import Store

ingest.sync.BATCH_CHUNKS = 1  # one document per batch
real = Store.commit_documents
server_pid, server_port = int(sys.argv[1]), int(sys.argv[2])

def commit_then_stop(self, records):
    real(self, records)
    os.kill(server_pid, signal.SIGTERM)  # the real Chroma server goes away mid-ingest
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", server_port), timeout=1).close()
            time.sleep(0.1)
        except OSError:
            break

Store.commit_documents = commit_then_stop
sys.argv = ["assistant", *sys.argv[3:]]
from assistant.cli import main
main()
"""


def test_ingest_exits_1_and_says_how_to_resume_when_the_store_dies(tmp_path, sample_docs, chroma_server):
    port = chroma_server.url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-c", STOP_AFTER_FIRST_COMMIT, str(chroma_server.proc.pid), port,
                             "--home", str(tmp_path / "home"), "ingest", str(sample_docs), "--json"],
                            capture_output=True, text=True, timeout=600,
                            env={**ENV, "ASSISTANT_CHROMA_URL": chroma_server.url})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"Error: The store failed during the ingest (Cannot reach the Chroma server at "
                             f"{chroma_server.url}: is `chroma run` running?). Documents committed before it: 1. Run "
                             "the same ingest again, once the store is back, to finish the rest.\n")


# ---------------------------------------------------------------- knowledge bases

def _json(*args, home: Path):
    result = cli(*args, home=home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_kb_create_ingest_ask_list_delete(tmp_path):
    home, notes = tmp_path / "home", tmp_path / "zorblat.txt"
    notes.write_text("The zorblat festival is held every March in Quentinville. Its mascot is a purple llama.")
    created = cli("kb", "create", "notes", home=home)
    assert (created.returncode, created.stdout) == \
        (0, "created notes: add documents with `assistant ingest --kb notes PATH`\n"), created.stderr
    assert _json("ingest", "--kb", "notes", str(notes), "--json", home=home)["added"] == [notes.as_posix()]
    answer = _json("ask", "--kb", "notes", "When is the zorblat festival held?", "--json", home=home)
    assert "March" in answer["answer"] and answer["citations"][0]["source"] == notes.as_posix()
    assert _json("sources", "--json", home=home) == []  # the default base is untouched
    assert _json("kb", "list", "--json", home=home) == [{"name": "default", "documents": 0},
                                                        {"name": "notes", "documents": 1}]
    assert cli("kb", "list", home=home).stdout == "default  0 documents\nnotes    1 document\n"
    deleted = cli("kb", "delete", "notes", home=home)
    assert (deleted.returncode, deleted.stdout) == (0, "deleted notes\n")
    assert _json("kb", "list", "--json", home=home) == [{"name": "default", "documents": 0}]
    assert notes.exists()  # what it was ingested from stays


UNKNOWN = "Error: No knowledge base named 'nope': `assistant kb list` shows them, `assistant kb create nope` makes it"
INVALID = ("Error: Invalid knowledge base name {!r}: use lowercase letters, digits, - and _, 1 to 40 characters, "
           "starting with a letter or digit")


def test_kb_bad_input_is_one_line_exit_1_and_changes_nothing(tmp_path, make_assistant):
    from assistant import kb

    home = tmp_path / "home"
    assistant = make_assistant(home=home)
    kb.create(assistant.settings, "notes")
    (tmp_path / "a.txt").write_text("The ferry leaves at nine.")
    for args, message in [
        (("kb", "create", "notes"), "Error: The knowledge base 'notes' exists already: `assistant kb list` shows them"),
        (("kb", "create", "Notes!"), INVALID.format("Notes!")),
        (("kb", "delete", "default"), "Error: The knowledge base 'default' cannot be deleted: remove its documents "
                                      "with `assistant remove SOURCE`"),
        (("kb", "delete", "nope"), UNKNOWN),
        (("ingest", "--kb", "nope", str(tmp_path / "a.txt")), UNKNOWN),
        (("ingest", "--kb", "my notes", str(tmp_path / "a.txt")), INVALID.format("my notes")),
        (("sources", "--kb", "nope"), UNKNOWN),
        (("remove", "--kb", "-x", "a.txt"), INVALID.format("-x")),
        (("eval", str(ROOT / "evals" / "sets" / "news.jsonl"), "--kb", "nope"), UNKNOWN),
    ]:
        result = cli(*args, home=home)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n"), args
    assert assistant.knowledge_bases() == ["default", "notes"] and assistant.sources() == [] and \
        assistant.with_kb("notes").sources() == []


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_takes_a_port():
    planned = subprocess.run(["make", "--no-print-directory", "-n", "run", "PORT=8081"], cwd=ROOT,
                             capture_output=True, text=True, check=True)  # -n: printed, not run
    commands = planned.stdout.splitlines()
    assert [c for c in commands if " chat " in c][-1].endswith("assistant chat --sample data/sample --port 8081")
