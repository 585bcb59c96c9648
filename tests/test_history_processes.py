"""Saved conversations under real processes: a `serve` and a second writer process on one conversation, a `serve`
killed with SIGKILL while clients write, a history file another program keeps locked."""
from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import threading

import httpx
import pytest

from support import ApiServer, clean_env
from test_http import serving

from assistant.history import FILE_NAME, LOCAL, History

QUESTIONS = ["Who denied involvement?", "What did Peskov call the allegations?", "Who is Sergey Markov?"]
WRITER = """
import sys
from assistant.history import History
history = History(sys.argv[1])
print("ready", flush=True)
for i in range(int(sys.argv[3])):
    history.add_turn("local", sys.argv[2], f"writer-{i}", {"answer": "From the writer."}, "extractive", "default")
"""


@pytest.fixture
def home(sample_home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(sample_home, copy)
    return copy


def asking(url: str, cid: str, questions: list[str], turns: list[int], problems: list[str],
           stop: threading.Event | None = None) -> None:
    """POST each question to the conversation, keeping the id of each turn the server replied with (and any
    reply that is not a saved turn in `problems`: an assert in a thread would not fail the test)."""
    for question in questions:
        if stop is not None and stop.is_set():
            return
        try:
            reply = httpx.post(f"{url}/ask", json={"question": question, "conversation": cid}, timeout=300)
        except httpx.TransportError:  # the server was killed
            return
        if reply.status_code != 200 or reply.json()["turn"] is None:
            problems.append(reply.text)
            return
        turns.append(reply.json()["turn"])


def test_a_server_and_another_process_writing_one_conversation_lose_no_turn(home):
    cid = History(home / FILE_NAME).start(LOCAL, "Shared").id
    server = ApiServer(home, env=clean_env())
    try:
        assert server.proc.poll() is None, server.stop()
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(home / FILE_NAME), cid, "40"],
                                  stdout=subprocess.PIPE, text=True, env=clean_env())
        assert writer.stdout.readline().strip() == "ready"
        turns: list[int] = []
        problems: list[str] = []
        clients = [threading.Thread(target=asking, args=(server.url, cid, [f"{q} ({c})" for q in QUESTIONS * 2],
                                                         turns, problems)) for c in range(3)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        assert writer.wait(timeout=300) == 0
        saved = httpx.get(f"{server.url}/conversations/{cid}", timeout=60).json()["turns"]
    finally:
        server.stop()
    assert problems == [] and len(turns) == 18
    assert [t["seq"] for t in saved] == list(range(1, 59))  # 18 asked + 40 written, numbered 1..58
    assert sorted(t["question"] for t in saved) == sorted([f"{q} ({c})" for q in QUESTIONS * 2 for c in range(3)]
                                                          + [f"writer-{i}" for i in range(40)])
    assert {t["id"] for t in saved} >= set(turns)
    writer_order = [t["question"] for t in saved if t["question"].startswith("writer-")]
    assert writer_order == [f"writer-{i}" for i in range(40)]  # one writer's turns keep its order


def test_a_server_killed_mid_write_keeps_every_answered_turn(home):
    path = home / FILE_NAME
    cid = History(path).start(LOCAL, "Killed").id
    server = ApiServer(home, env=clean_env())
    assert server.proc.poll() is None, server.stop()
    turns: list[int] = []
    problems: list[str] = []
    stop = threading.Event()
    clients = [threading.Thread(target=asking, args=(server.url, cid, [f"{q} ({c}/{i})" for i in range(20)
                                                                        for q in QUESTIONS], turns, problems, stop))
               for c in range(3)]
    for client in clients:
        client.start()
    while len(turns) < 8 and any(c.is_alive() for c in clients):
        clients[0].join(timeout=0.05)
    server.proc.send_signal(signal.SIGKILL)  # requests are in flight: the clients never stop on their own
    server.proc.wait(timeout=60)
    stop.set()
    for client in clients:
        client.join(timeout=300)
    assert problems == [] and len(turns) >= 8 and server.proc.returncode == -signal.SIGKILL

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    saved = History(path).conversation(LOCAL, cid).turns
    assert set(turns) <= {t.id for t in saved}  # every turn the server replied with is there
    assert [t.seq for t in saved] == list(range(1, len(saved) + 1))
    assert len(saved) <= len(turns) + 3  # besides them, at most the ones in flight (one per client)
    History(path).add_turn(LOCAL, cid, "After the crash?", {"answer": "Yes."}, "extractive", "default")
    assert History(path).conversation(LOCAL, cid).count == len(saved) + 1


def test_a_locked_history_file_still_answers_with_a_note(home, embedder, monkeypatch):
    import assistant.history as module
    from assistant import Assistant

    path = home / FILE_NAME
    History(path).check()
    monkeypatch.setattr(module, "BUSY_SECONDS", 0.2)  # before the server opens the file
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(120)"), str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        why = f"Conversation history {path} cannot be used: locked by another program for over 0.2 s"
        with serving(Assistant.open(home=home, embedder=embedder)) as api:
            answer = httpx.post(f"{api}/ask", json={"question": QUESTIONS[1], "conversation": "new"}, timeout=120)
            assert answer.status_code == 200 and "absolute nonsense" in answer.json()["answer"]
            assert answer.json()["notes"][-1] == f"This turn was not saved: {why}"
            created = httpx.post(f"{api}/conversations", json={"title": "x"}, timeout=60)
            assert (created.status_code, created.json()) == (503, {"error": why})
    finally:
        holder.kill()
        holder.wait()
    assert History(path).conversations(LOCAL) == []  # nothing half-written, and it opens once released
