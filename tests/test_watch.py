"""--watch: real `assistant ingest DIR --watch` and `serve --watch DIR` processes, real files changing under them.

The tests poll the store (or the server) until the expected state appears, with generous deadlines: they
never assert how long anything took (bench/watch.py measures that)."""
from __future__ import annotations

import hashlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support import ApiServer, clean_env

BIN = Path(sys.executable).parent / "assistant"
DEADLINE = 180  # seconds any expected state may take to appear on a loaded machine
SETTLE = "0.5"  # [ingest] watch_settle for these tests (the slow writer below pauses far less)
FERRY = "The ferry to the island leaves at noon on Sundays from pier four."
BRIDGE = "The harbour bridge opened in 1932 after eight years of work."


class WatchProcess:
    """`assistant --home HOME ingest FOLDER --watch` with its stderr lines collected as they come."""

    def __init__(self, home: Path, folder: Path, settle: str = SETTLE):
        self.proc = subprocess.Popen([str(BIN), "--home", str(home), "ingest", str(folder), "--watch"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=clean_env(ASSISTANT_INGEST__WATCH_SETTLE=settle))
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(lambda: self.said("watching "), "the watcher never started")

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n").split(" ", 1)[-1])  # without the time stamp

    def said(self, start: str) -> list[str]:
        return [line for line in self.lines if line.startswith(start)]

    def wait_for(self, condition, what: str) -> None:
        deadline = time.time() + DEADLINE
        while time.time() < deadline:
            if condition():
                return
            assert self.proc.poll() is None, f"the watcher died: {self.lines}"
            time.sleep(0.1)
        raise AssertionError(f"{what}; the watcher said {self.lines}")

    def signal(self, signum: int) -> int:
        self.proc.send_signal(signum)
        self.proc.wait(timeout=120)
        self._reader.join(timeout=30)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)


@pytest.fixture
def watch(tmp_path):
    """watch(folder, settle=SETTLE) -> a running WatchProcess on one home (killed at the end). A folder that
    does not exist yet is made with first.txt in it, and the watcher's first sync awaited."""
    started: list[WatchProcess] = []

    def start(folder: Path, settle: str = SETTLE) -> WatchProcess:
        fresh = not folder.exists()
        if fresh:
            folder.mkdir()
            (folder / "first.txt").write_text(BRIDGE)
        started.append(WatchProcess(tmp_path / "home", folder, settle))
        if fresh:
            started[-1].wait_for(lambda: started[-1].said("synced: 1 added"), "the first sync did not add first.txt")
        return started[-1]

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def reader(tmp_path, embedder):
    """What the watcher's store holds, read by this process: {source name: (sha256, chunks, text)}."""
    from assistant import Assistant

    def indexed() -> dict[str, tuple[str, int, str]]:
        assistant = Assistant.open(home=tmp_path / "home", embedder=embedder)
        records = assistant.store.documents_text([r.source for r in assistant.sources()])
        return {Path(s).name: (r.sha256, r.chunks, r.text) for s, r in records.items()}

    return indexed


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_creates_edits_renames_moves_and_deletes_are_synced(tmp_path, watch, reader):
    folder = tmp_path / "notes"
    watcher = watch(folder)
    steps = 1

    def step(change, expected: dict[str, Path], what: str) -> None:
        nonlocal steps
        change()
        steps += 1
        want = {name: sha(path) for name, path in expected.items()}
        watcher.wait_for(lambda: {n: v[0] for n, v in reader().items()} == want, what)

    ferry = folder / "ferry.txt"
    step(lambda: ferry.write_text(FERRY), {"first.txt": folder / "first.txt", "ferry.txt": ferry}, "create")
    step(lambda: ferry.write_text(FERRY + " It returns at six."), {"first.txt": folder / "first.txt",
                                                                    "ferry.txt": ferry}, "edit")
    boat = folder / "boat.txt"
    step(lambda: ferry.rename(boat), {"first.txt": folder / "first.txt", "boat.txt": boat}, "rename")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    step(lambda: shutil.move(boat, outside / "boat.txt"), {"first.txt": folder / "first.txt"}, "move out")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "lighthouse.md").write_text("# Lighthouse\n\nThe keeper lit the lamp every evening at dusk.\n")
    step(lambda: shutil.move(sub, folder / "sub"), {"first.txt": folder / "first.txt",
                                                    "lighthouse.md": folder / "sub" / "lighthouse.md"}, "folder in")
    step(lambda: shutil.move(folder / "sub", outside / "sub"), {"first.txt": folder / "first.txt"}, "folder out")
    step(lambda: (folder / "first.txt").unlink(), {}, "delete")

    # Hidden and unsupported files are none of its business; a bad file fails alone, and it keeps going.
    (folder / ".draft.txt").write_text(FERRY)
    (folder / "clip.gif").write_bytes(b"GIF89a" + bytes(range(256)) * 4)
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    watcher.wait_for(lambda: len(watcher.said("failed: ")) == 2, "the bad files were not reported")
    step(lambda: ferry.write_text(FERRY), {"ferry.txt": ferry}, "a good file after bad ones")
    errors = sorted(watcher.said("failed: "))
    assert errors[0] == "failed: binary.txt: looks like a binary file, not text"
    assert errors[1].startswith("failed: broken.pdf: not a valid PDF (")
    # One sync per change, none for the hidden or unsupported files: nothing was synced twice.
    assert len(watcher.said("synced: ")) == steps, watcher.lines  # the bad files' sync added nothing
    assert watcher.proc.poll() is None


def test_a_burst_of_a_thousand_files_is_a_few_batched_syncs(tmp_path, watch, reader):
    folder = tmp_path / "burst"
    watcher = watch(folder)
    for n in range(1000):
        (folder / f"note-{n:04}.txt").write_text(f"Note {n}: the tide table for day {n} lists {n % 7} ferries.\n")
    watcher.wait_for(lambda: len(reader()) == 1001, "the burst was not synced")
    syncs = watcher.said("synced: ")[1:]
    assert 1 <= len(syncs) < 10, syncs
    assert sum(int(line.split()[1]) for line in syncs) == 1000, syncs  # each file added once


def test_a_slowly_written_file_is_never_indexed_half(tmp_path, watch, reader):
    folder = tmp_path / "slow"
    watcher = watch(folder, settle="1.0")
    text = FERRY + " " + BRIDGE
    seen = []
    with open(folder / "slow.txt", "w") as out:
        for n in range(0, len(text), 6):  # a few bytes every 0.2 s, for about 4 s
            out.write(text[n:n + 6])
            out.flush()
            seen.append(reader().get("slow.txt", (None, 0, None))[2])
            time.sleep(0.2)
    assert set(seen) == {None}, "indexed while still being written"
    watcher.wait_for(lambda: "slow.txt" in reader(), "the finished file was not indexed")
    assert reader()["slow.txt"][2] == text


def whole_or_absent(indexed: dict, folder: Path, assistant) -> None:
    """Each indexed document is its file's current version with every chunk it claims, and no other chunk shows."""
    for name, (digest, chunks, _) in indexed.items():
        assert digest == sha(folder / name)
        assert chunks > 0
    visible = {}
    for chunk in assistant.store.iter_chunks():
        visible[Path(chunk.source).name] = visible.get(Path(chunk.source).name, 0) + 1
    assert visible == {name: chunks for name, (_, chunks, _) in indexed.items()}


def busy(pid: int, seconds: float = 0.3) -> Callable[[], bool]:
    """A condition: the process has used `seconds` more CPU time since now (an idle watcher uses next to none)."""
    import psutil

    process = psutil.Process(pid)
    start = sum(process.cpu_times()[:2])
    return lambda: sum(process.cpu_times()[:2]) - start >= seconds


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_stopping_mid_sync_leaves_no_half_document(tmp_path, watch, reader, embedder, signum):
    from assistant import Assistant

    folder = tmp_path / "big"
    watcher = watch(folder)
    # Two files of ~70 chunks each: seconds of reading, chunking and embedding in one sync.
    words = " ".join(f"word{n} is number {n} of the long list, said the harbour master." for n in range(600))
    syncing = busy(watcher.proc.pid)
    for name in ("big-a.txt", "big-b.txt"):
        (folder / name).write_text(words + f" {name}")
    watcher.wait_for(syncing, "the watcher never started to sync the big files")
    code = watcher.signal(signum)
    assert (code, watcher.lines[-1]) == (130, "stopped watching")
    assert len(watcher.said("synced: ")) == 1, "the sync ended before the stop: nothing was stopped mid-sync"
    whole_or_absent(reader(), folder, Assistant.open(home=tmp_path / "home", embedder=embedder))
    if signum == signal.SIGINT:  # the next run finishes the rest
        again = watch(folder)
        again.wait_for(lambda: len(reader()) == 3, "the next run did not finish")
        whole_or_absent(reader(), folder, Assistant.open(home=tmp_path / "home", embedder=embedder))


def test_a_busy_store_is_tried_again(make_assistant, tmp_path):
    from assistant.watch import watching

    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "first.txt").write_text(BRIDGE)
    assistant = make_assistant(ingest={"watch_settle": 0.3})
    lines: list[str] = []
    deadline = time.time() + DEADLINE

    def wait_for(start: str, count: int = 1) -> None:
        while sum(line.startswith(start) for line in lines) < count and time.time() < deadline:
            time.sleep(0.1)

    with watching(assistant, [folder], say=lines.append) as watcher:
        wait_for("synced: 1 added")  # the first sync is over: the store is free
        with assistant.store.writer():  # another ingest holds the store
            (folder / "ferry.txt").write_text(FERRY)
            wait_for("not synced yet: Another ingest")
        wait_for("synced: 1 added", count=2)
    assert sorted(Path(r.source).name for r in assistant.sources()) == ["ferry.txt", "first.txt"], lines
    assert watcher.syncs == 2 and lines[-1].startswith("synced: 1 added in "), lines


def test_an_empty_folder_is_watched_until_a_file_comes(make_assistant, tmp_path):
    from assistant.watch import watching

    folder = tmp_path / "empty"
    (folder / "later").mkdir(parents=True)
    assistant = make_assistant(ingest={"watch_settle": 0.3})
    lines: list[str] = []
    with watching(assistant, [folder], say=lines.append):
        deadline = time.time() + DEADLINE
        while not lines and time.time() < deadline:
            time.sleep(0.1)
        (folder / "later" / "ferry.md").write_text(FERRY)
        while not any(line.startswith("synced: ") for line in lines) and time.time() < deadline:
            time.sleep(0.1)
    assert lines[0] == f"watching {folder.resolve()}" and lines[1].startswith("synced: 1 added in "), lines
    assert [Path(r.source).name for r in assistant.sources()] == ["ferry.md"]


def test_a_file_that_never_stops_changing_does_not_hold_the_others_back(make_assistant, tmp_path):
    from assistant.watch import watching

    folder = tmp_path / "log"
    folder.mkdir()
    assistant = make_assistant(ingest={"watch_settle": 0.3})
    lines: list[str] = []
    writing = threading.Event()

    def keep_writing() -> None:
        with open(folder / "growing.txt", "w") as out:
            while not writing.is_set():
                out.write("The tide rose again. ")
                out.flush()
                time.sleep(0.05)

    with watching(assistant, [folder], say=lines.append):
        deadline = time.time() + DEADLINE
        while not lines and time.time() < deadline:
            time.sleep(0.1)
        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            (folder / "ferry.txt").write_text(FERRY)
            while not assistant.sources() and time.time() < deadline:
                time.sleep(0.1)
            indexed = [Path(r.source).name for r in assistant.sources()]
        finally:
            writing.set()
            writer.join()
    assert indexed == ["ferry.txt"], lines


def test_serve_watch_answers_from_a_file_saved_after_it_started(tmp_path):
    import httpx

    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "bridge.txt").write_text(BRIDGE)
    server = ApiServer(tmp_path / "home", "--watch", str(folder), env=clean_env(ASSISTANT_INGEST__WATCH_SETTLE=SETTLE))
    try:
        assert server.proc.poll() is None, server.stop()
        (folder / "ferry.txt").write_text(FERRY)
        deadline, cited = time.time() + DEADLINE, []
        while time.time() < deadline and "ferry.txt" not in cited:
            reply = httpx.post(f"{server.url}/ask", json={"question": "When does the ferry leave?"}, timeout=60)
            if reply.status_code == 200:
                cited = [Path(c["source"]).name for c in reply.json()["citations"]]
            time.sleep(0.3)
        assert "ferry.txt" in cited
        assert "noon" in reply.json()["answer"]
    finally:
        output = server.stop()
    assert "synced: 1 added" in output


def test_chat_watch_answers_from_a_file_saved_after_it_started(tmp_path):
    """`assistant chat --watch DIR`: the chat app's /ask endpoint (gradio_client) cites a file saved later."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from support import VENV_BIN, free_port, wait_for_port

    folder = tmp_path / "chatted"
    folder.mkdir()
    (folder / "bridge.txt").write_text(BRIDGE)
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "assistant"), "--home", str(tmp_path / "home"), "chat", "--port", str(port),
                             "--watch", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=clean_env(ASSISTANT_INGEST__WATCH_SETTLE=SETTLE))
    try:
        wait_for_port(port, timeout=DEADLINE)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        (folder / "ferry.txt").write_text(FERRY)
        deadline, cited, answer = time.time() + DEADLINE, [], {}
        while time.time() < deadline and "ferry.txt" not in cited:
            try:
                answer = client.predict("When does the ferry leave?", api_name="/ask")
                cited = [Path(c["source"]).name for c in answer["citations"]]
            except AppError:  # "Nothing is indexed yet" until the first sync commits
                pass
            time.sleep(0.3)
        assert "ferry.txt" in cited and "noon" in answer["answer"]
    finally:
        proc.terminate()
        output = proc.communicate(timeout=60)[0]
    assert re.search(r"synced: [12] added", output), output  # ferry.txt may come with the first sync


@pytest.mark.parametrize("args, error", [
    (("ingest", "{folder}/a.txt", "--watch"), "Error: --watch keeps folders in sync: {folder}/a.txt is not a folder "
                                              "(give its folder)\n"),
    (("ingest", "{folder}/nope", "--watch"), "Error: No such file or folder: {folder}/nope\n"),
    (("serve", "--watch", "{folder}/a.txt"), "Error: --watch keeps folders in sync: {folder}/a.txt is not a "
                                             "folder (give its folder)\n"),
])
def test_bad_watch_paths_are_one_line(tmp_path, args, error):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(BRIDGE)
    result = subprocess.run([str(BIN), "--home", str(tmp_path / "home"), *(a.format(folder=folder) for a in args)],
                            capture_output=True, text=True, env=clean_env(), timeout=300)
    assert (result.returncode, result.stderr) == (1, error.format(folder=folder))


def test_watch_with_json_is_a_usage_error(tmp_path):
    result = subprocess.run([str(BIN), "--home", str(tmp_path / "home"), "ingest", str(tmp_path), "--watch", "--json"],
                            capture_output=True, text=True, env=clean_env(), timeout=300)
    assert result.returncode == 2
    assert "Invalid value for --json: --watch logs one line per sync; it has no JSON report" in result.stderr
