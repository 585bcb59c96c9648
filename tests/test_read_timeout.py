"""[ingest] read_timeout: a file whose parser spins fails alone, in real worker processes, and no worker outlives
the process that started it (normal exit, Ctrl-C, SIGKILL)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

import psutil
import pytest

from assistant import ConfigError, Settings
from ingest.worker import _SERVE
from test_loading import pdf_with_text

BIN = Path(sys.executable).parent / "assistant"
LIMIT = 3  # seconds; the good files read in milliseconds, the slow PDF in half an hour
SLOW_MESSAGE = f"slow.pdf: took longer than {LIMIT} s to read ([ingest] read_timeout); skipped"
HEAVY = ("torch", "onnxruntime", "chromadb")


def slow_pdf(pages: int = 50, operators: int = 900_000) -> bytes:
    """A valid PDF of 17 KB whose pages all show one compressed content stream of 900,000 text operators
    (under pypdf's cap of 2,000,000 tokens a stream): pypdf parses it again for each page, 37 s a page
    on the 2-core dev machine, so half an hour in all. No size or page cap catches it: the time limit does."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj " * operators + b"ET"
    stream = zlib.compress(content, 9)
    kids = b" ".join(b"%d 0 R" % (6 + page) for page in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< >>",  # unused
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
                b"/Resources << /Font << /F1 5 0 R >> >> >>"] * pages
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def html(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"


def workers() -> set[int]:
    """PIDs of this process's reader workers."""
    return {c.pid for c in psutil.Process().children()
            if _SERVE in c.cmdline() and c.status() != psutil.STATUS_ZOMBIE}


def mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def marked(mark: str) -> list[psutil.Process]:
    """Live processes whose environment carries this test's mark (a CLI and whatever it started)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("READ_TIMEOUT_TEST") == mark and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def gone_within(mark: str, seconds: float = 15) -> list[psutil.Process]:
    deadline = time.time() + seconds
    while (left := marked(mark)) and time.time() < deadline:
        time.sleep(0.1)
    return left


def cli_env(mark: str, home: Path, **settings: str) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "READ_TIMEOUT_TEST": mark,
            "ASSISTANT_HOME": str(home), "COLUMNS": "300", **settings}


def test_a_file_that_parses_too_long_fails_alone_and_its_worker_is_replaced(make_assistant, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a_notes.html").write_text(html("Harbour notes", "The harbour bridge opened in 1932."))
    (folder / "slow.pdf").write_bytes(pdf_with_text("The lighthouse keeper logged each storm."))
    (folder / "z_ledger.md").write_text("# Ledger\n\nClerks copied the ledgers each evening.\n")
    assistant = make_assistant(ingest={"read_timeout": LIMIT})
    first = assistant.ingest([folder])
    assert len(first.sources("added")) == 3 and first.failed == []
    before = workers()
    assert len(before) == 1, "one long-lived worker"
    indexed = {r.source: r.sha256 for r in assistant.sources()}

    # The indexed PDF is overwritten with one that spins; a new PDF after it reads in the replacement worker.
    slow = folder / "slow.pdf"
    slow.write_bytes(slow_pdf())
    (folder / "z_after.pdf").write_bytes(pdf_with_text("The ferry to the island runs twice a day."))
    report = assistant.ingest([folder], prune=True)
    assert [(r.source, r.error) for r in report.failed] == [(slow.resolve().as_posix(), SLOW_MESSAGE)]
    assert report.sources("added") == [(folder / "z_after.pdf").resolve().as_posix()]
    assert len(report.sources("unchanged")) == 2 and report.sources("removed") == []
    # Like any file that cannot be read now: its indexed version stays, even with --prune.
    assert {r.source: r.sha256 for r in assistant.sources() if r.source in indexed} == indexed
    after = workers()
    assert len(after) == 1 and not after & before, "the worker that spun was killed and replaced"
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in before)

    (folder / "z_later.html").write_text(html("Ferry times", "The first ferry leaves at seven."))
    assert assistant.ingest([folder]).sources("added") == [(folder / "z_later.html").resolve().as_posix()]


def test_the_worker_loads_the_readers_only(make_assistant, tmp_path):
    assistant = make_assistant(ingest={"read_timeout": LIMIT})
    (tmp_path / "page.html").write_text(html("A page", "The harbour bridge opened in 1932."))
    assert assistant.ingest([tmp_path / "page.html"]).failed == []
    (worker,) = workers()
    assert "onnxruntime" in mapped(os.getpid()), "this process runs the model (the check can see a library)"
    libraries = mapped(worker)
    assert "lxml" in libraries  # it parsed the page
    assert not [name for name in HEAVY if name in libraries]


def test_uploads_report_a_slow_file_and_keep_the_rest(make_assistant, tmp_path):
    from assistant.uploads import ingest_uploads, uploads_dir

    assistant = make_assistant(ingest={"read_timeout": LIMIT})
    slow, good = tmp_path / "tmp1", tmp_path / "tmp2"
    slow.write_bytes(slow_pdf())
    good.write_text(html("Tide tables", "High tide is at noon on Sunday."))
    report = ingest_uploads(assistant, [(slow, "slow.pdf"), (good, "tides.html")])
    assert [(r.name, r.status, r.error) for r in report.files] == [
        ("slow.pdf", "failed", SLOW_MESSAGE), ("tides.html", "added", None)]
    assert sorted(p.name for p in uploads_dir(assistant.settings.home).iterdir() if not p.name.startswith(".")) == [
        "tides.html"], "a failed upload keeps no copy"


def test_read_timeout_setting():
    assert Settings.load().ingest.limits().read_timeout == 60
    assert Settings.load(ingest={"read_timeout": 0.5}).ingest.limits().read_timeout == 0.5
    for bad, why in ((-1, "Input should be greater than or equal to 0"), (float("nan"), "Input should be a finite "
                                                                                       "number")):
        with pytest.raises(ConfigError) as err:
            Settings.load(ingest={"read_timeout": bad})
        assert str(err.value) == f"Invalid settings: ingest.read_timeout: {why}"


@pytest.mark.parametrize("name, limit, processes", [("page.html", "60", "some"), ("page.html", "0", "none"),
                                                     ("notes.txt", "60", "none"), ("notes.md", "60", "none")])
def test_which_files_start_a_worker(tmp_path, name, limit, processes):
    # Text and Markdown read in the ingesting process (linear readers): an ingest of them starts no worker.
    path = tmp_path / name
    path.write_text(html("A page", "Body text.") if name.endswith(".html") else "# A page\n\nBody text.\n")
    child = ("import sys, psutil\n"
             "from ingest.limits import Limits\n"
             "from ingest.loading import load_file\n"
             "doc = load_file(sys.argv[1], Limits(read_timeout=float(sys.argv[2])))\n"
             "print(doc.title, len(psutil.Process().children(recursive=True)))\n")
    out = subprocess.run([sys.executable, "-c", child, str(path), limit], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[:2] == ["A", "page"]
    assert int(out[2]) == 1 if processes == "some" else int(out[2]) == 0  # some: the worker


@pytest.fixture
def slow_and_good(tmp_path) -> Path:
    """docs/ with slow.pdf (see slow_pdf) and notes.html (one chunk, read at once)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "slow.pdf").write_bytes(slow_pdf())
    (folder / "notes.html").write_text(html("Harbour notes", "The harbour bridge opened in 1932."))
    return folder


def workers_busy(mark: str, parent: int) -> bool:
    """Whether a worker that `parent` started is computing."""
    return any(w.cpu_percent(0.2) > 20 for w in marked(mark) if w.ppid() == parent and _SERVE in w.cmdline())


@pytest.mark.slow
def test_cli_reports_the_timeout_and_leaves_no_process(tmp_path, slow_and_good):
    mark = uuid.uuid4().hex
    result = subprocess.run([str(BIN), "ingest", "docs"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                            env=cli_env(mark, tmp_path / "home", ASSISTANT_INGEST__READ_TIMEOUT=str(LIMIT)))
    assert result.returncode == 0, result.stderr
    rows = [line.rstrip().split(None, 2) for line in result.stdout.splitlines()[1:-1]]
    assert sorted(rows) == [["added", "docs/notes.html", "1"], ["failed", "docs/slow.pdf", SLOW_MESSAGE]]
    assert gone_within(mark) == [], "a worker outlived the CLI"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "Ctrl-C"])
def test_a_busy_worker_dies_with_a_cli_that_is_stopped(tmp_path, how):
    (tmp_path / "slow.pdf").write_bytes(slow_pdf())
    mark = uuid.uuid4().hex
    cli = subprocess.Popen([str(BIN), "ingest", str(tmp_path / "slow.pdf")], env=cli_env(mark, tmp_path / "home"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 300
        while not workers_busy(mark, cli.pid) and time.time() < deadline and cli.poll() is None:
            time.sleep(0.1)
        assert workers_busy(mark, cli.pid), "the worker never started reading"
        if how == "SIGKILL":
            cli.kill()
        else:  # a terminal sends Ctrl-C to the whole foreground group
            os.killpg(cli.pid, signal.SIGINT)
        cli.communicate(timeout=60)
        assert cli.returncode == (-signal.SIGKILL if how == "SIGKILL" else 130)
        assert gone_within(mark) == [], "a worker outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
        for proc in marked(mark):
            proc.kill()


@pytest.mark.slow
def test_the_server_answers_during_a_slow_read_and_reports_it(tmp_path, slow_and_good):
    import threading

    import httpx
    from support import ApiServer

    folder = slow_and_good
    mark = uuid.uuid4().hex
    limit = 10  # long enough to ask /health while the worker spins, however loaded the machine
    message = SLOW_MESSAGE.replace(f" {LIMIT} s ", f" {limit} s ")
    env = cli_env(mark, tmp_path / "home", ASSISTANT_INGEST__READ_TIMEOUT=str(limit),
                  ASSISTANT_SERVER__INGEST_ROOTS=json.dumps([str(tmp_path)]))
    server = ApiServer(tmp_path / "home", env=env)
    try:
        assert server.proc.poll() is None, server.stop()
        replies = {}
        ingest = threading.Thread(target=lambda: replies.update(
            ingest=httpx.post(f"{server.url}/ingest", json={"paths": [str(folder)]}, timeout=300)))
        ingest.start()
        while ingest.is_alive() and not workers_busy(mark, server.proc.pid):
            time.sleep(0.1)
        health = httpx.get(f"{server.url}/health", timeout=30)
        answered_during_the_read = ingest.is_alive()
        ingest.join(timeout=300)
        assert health.status_code == 200 and answered_during_the_read
        body = replies["ingest"].json()
        assert body["failed"] == [{"source": (folder / "slow.pdf").resolve().as_posix(), "error": message}]
        assert body["added"] == [(folder / "notes.html").resolve().as_posix()]

        upload = httpx.post(f"{server.url}/documents", files=[("files", ("slow.pdf", slow_pdf(), "application/pdf"))],
                            timeout=300)
        assert upload.status_code == 200
        assert upload.json()["failed"] == [{"source": "slow.pdf", "error": message}]
    finally:
        server.stop()
    assert gone_within(mark) == [], "a worker outlived the server"



def test_a_plain_script_ingests_pdf_and_html_without_a_main_guard(tmp_path):
    """The README's example as people write it, with no `if __name__ == "__main__":`: the worker is not a
    multiprocessing child, so it never runs the script again."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.pdf").write_bytes(pdf_with_text("The lighthouse keeper logged each storm."))
    (folder / "page.html").write_text(html("Ferry times", "The first ferry leaves at seven."))
    script = tmp_path / "ask_my_docs.py"
    script.write_text("from assistant import Assistant\n"
                      f"assistant = Assistant.open(home={str(tmp_path / 'home')!r})\n"
                      f"report = assistant.ingest({str(folder)!r})\n"
                      "print(len(report.sources('added')), [f.error for f in report.failed])\n"
                      "print(assistant.ask('When does the first ferry leave?').short)\n")
    mark = uuid.uuid4().hex
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env=cli_env(mark, tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "2 []", done.stdout
    assert "seven" in done.stdout.splitlines()[1]
    assert "Traceback" not in done.stderr and "StoreBusy" not in done.stderr, done.stderr
    assert gone_within(mark) == [], "a worker outlived the script"


def test_a_process_with_descriptors_past_1024_still_reads_through_the_worker(tmp_path):
    """A server holds many files open; the worker's reply is awaited with a selector, which select() was not."""
    child = ("import os, resource\n"
             "from pathlib import Path\n"
             "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
             "resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))\n"
             "held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]\n"
             "from ingest.limits import Limits\n"
             "from ingest.worker import read_file_limited\n"
             "raw = read_file_limited(Path('a.html'), b'<title>T</title><p>The ferry leaves at nine.</p>',\n"
             "                        Limits(read_timeout=60))\n"
             "print(raw.text)\n")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout.strip()) == (0, "The ferry leaves at nine."), done.stderr
