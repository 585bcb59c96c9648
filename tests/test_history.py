"""Saved conversations (assistant/history.py): a real SQLite file, several owners, the eval export."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading

import pytest

from assistant.errors import AssistantError, HistoryUnavailable, UnknownConversation
from assistant.history import SCHEMA_VERSION, History, to_case, to_markdown
from evals.cases import load_cases

ANSWER = {"answer": "Lavrov denied it [1].", "short": "Lavrov", "abstained": False,
          "citations": [{"n": 1, "source": "news/a.txt", "sentence": "Lavrov denied it.", "text": "Lavrov denied it.",
                         "start": 0, "end": 17, "page": 3, "page_kind": "page"}]}
DECLINED = {"answer": "The documents do not say.", "short": "", "abstained": True, "citations": []}


@pytest.fixture
def history(tmp_path) -> History:
    return History(tmp_path / "conversations.sqlite3")


def test_turns_are_kept_in_order_per_owner(history):
    first = history.add_turn("alice", None, "Who denied involvement?", ANSWER, "extractive", "default")
    [conversation] = history.conversations("alice")
    history.add_turn("alice", conversation.id, "And when?", DECLINED, "extractive", "default")
    whole = History(history.path).conversation("alice", conversation.id)  # a fresh connection reads it back
    assert whole.title == "Who denied involvement?"
    assert [t.question for t in whole.turns] == ["Who denied involvement?", "And when?"]
    assert whole.turns[0].answer == ANSWER and whole.turns[0].id == first.id
    assert history.conversations("bob") == []
    with pytest.raises(UnknownConversation):
        history.conversation("bob", conversation.id)
    with pytest.raises(UnknownConversation):
        history.add_turn("bob", conversation.id, "Mine?", ANSWER, "extractive", "default")
    with pytest.raises(UnknownConversation):
        history.rate("bob", first.id, 1)


def test_rename_delete_and_search(history):
    a = history.add_turn("alice", None, "What is the encryption key size?", ANSWER, "extractive", "default")
    b = history.start("alice", "Ferry times")
    history.add_turn("alice", b.id, "When does it leave?", DECLINED, "extractive", "default")
    history.add_turn("bob", None, "What is the encryption method?", ANSWER, "extractive", "default")
    found = lambda text: [c.title for c in history.conversations("alice", text)]  # noqa: E731
    assert found("encrypt") == ["What is the encryption key size?"]  # a word matches as a prefix
    assert found("lavrov") == ["What is the encryption key size?"]  # answers are searched too
    assert found("ferry") == ["Ferry times"]  # and titles
    assert found("ferry encryption") == []  # every word must match
    assert found('"%_') == []  # search syntax is taken as plain text
    history.rename("alice", b.id, "  Boats  ")
    assert [c.title for c in history.conversations("alice")] == ["Boats", "What is the encryption key size?"]
    with pytest.raises(AssistantError, match="empty"):
        history.rename("alice", b.id, " ")
    conversation_a = history.conversations("alice", "encryption")[0]
    history.delete("alice", conversation_a.id)
    assert found("lavrov") == [] and a.id not in [t.id for c in history.conversations("alice")
                                                 for t in history.conversation("alice", c.id).turns]
    with pytest.raises(UnknownConversation):
        history.delete("alice", conversation_a.id)


def test_concurrent_threads_lose_no_turn(history):
    cid = history.start("alice").id

    def ask(worker: int) -> None:
        for i in range(25):
            history.add_turn("alice", cid, f"q{worker}-{i}", ANSWER, "extractive", "default")

    threads = [threading.Thread(target=ask, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    turns = history.conversation("alice", cid).turns
    assert sorted(t.question for t in turns) == sorted(f"q{w}-{i}" for w in range(4) for i in range(25))
    assert [t.seq for t in turns] == list(range(1, 101))


def test_feedback_becomes_eval_cases(history, tmp_path):
    up = history.add_turn("alice", None, "Who denied involvement?", ANSWER, "extractive", "default")
    cid = history.conversations("alice")[0].id
    wrong = history.add_turn("alice", cid, "Who won?", ANSWER, "extractive", "default")
    noted = history.add_turn("alice", cid, "Where?", ANSWER, "extractive", "default")
    history.add_turn("alice", cid, "Unrated?", ANSWER, "extractive", "default")
    history.rate("alice", up.id, 1)
    history.rate("alice", wrong.id, 1)
    history.rate("alice", wrong.id, -1)  # a later rating replaces the first
    history.rate("alice", noted.id, -1, "  It was Moscow  ")
    with pytest.raises(AssistantError, match="1 .*or -1"):
        history.rate("alice", up.id, 5)
    cases = [to_case(c, t) for c, t in history.rated()]
    assert [c["question"] for c in cases] == ["Who denied involvement?", "Who won?", "Where?"]
    assert cases[0]["answers"] == ["Lavrov"] and cases[0]["sources"] == ["news/a.txt"]
    assert cases[1]["answers"] is None and cases[1]["history"] == ["Who denied involvement?"]
    assert cases[2]["answers"] == [] and cases[2]["note"] == "It was Moscow"
    path = tmp_path / "rated.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    loaded = load_cases(path)  # the export is a valid eval set; the case to fill in waits
    assert [c.pending for c in loaded] == [False, False, True]


def test_markdown_export_numbers_sources(history):
    history.add_turn("alice", None, "Who denied involvement?", ANSWER, "extractive", "default")
    conversation = history.conversation("alice", history.conversations("alice")[0].id)
    text = to_markdown(conversation)
    assert "## Who denied involvement?" in text and "Lavrov denied it [1]." in text
    assert "1. news/a.txt, p. 3: “Lavrov denied it.”" in text


def test_damaged_newer_and_locked_files_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database " * 500)
    with pytest.raises(HistoryUnavailable, match=f"{bad}.*not a database"):
        History(bad).conversations("alice")
    assert bad.read_bytes() == b"not a database " * 500  # nothing is overwritten
    newer = tmp_path / "newer.sqlite3"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryUnavailable, match="newer version"):
        History(newer).conversations("alice")
    locked = History(tmp_path / "locked.sqlite3")
    locked.check()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)"), str(locked.path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        import assistant.history as module
        module_busy, module.BUSY_SECONDS = module.BUSY_SECONDS, 0.2
        try:
            with pytest.raises(HistoryUnavailable, match="locked"):
                History(locked.path).add_turn("alice", None, "q", ANSWER, "extractive", "default")
        finally:
            module.BUSY_SECONDS = module_busy
    finally:
        holder.kill()
        holder.wait()
    assert History(locked.path).conversations("alice") == []  # opens cleanly once the lock is gone


def test_feedback_export_command(tmp_path):
    history = History(tmp_path / "home" / "conversations.sqlite3")
    turn = history.add_turn("alice", None, "Who denied involvement?", ANSWER, "extractive", "default")
    history.rate("alice", turn.id, -1, "Peskov too")
    out = tmp_path / "sets" / "rated.jsonl"
    done = subprocess.run([sys.executable, "-m", "assistant", "--home", str(tmp_path / "home"), "feedback", "export",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "wrote 1 case" in done.stdout and "1 wait for a gold answer" in done.stdout
    [case] = [json.loads(line) for line in out.read_text().splitlines()]
    assert case["note"] == "Peskov too" and case["answers"] == [] and case["given"] == ANSWER["answer"]
