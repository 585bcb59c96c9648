"""Saved conversations over the native API (routes/conversations.py, POST /ask with `conversation`), on a real
uvicorn server over a real home; bad inputs, another owner's conversations, a corrupt history file."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import httpx
import pytest

from support import ANSWER_KEYS
from test_api_native import events
from test_http import serving

from assistant.history import COMMENT_CHARS, FILE_NAME, History

FIRST, FOLLOW = "Who is Sergey Markov?", "What did he say about WikiLeaks?"


@pytest.fixture
def home(sample_home, tmp_path):
    """A writable copy of the sample home (conversations are saved in it)."""
    copy = tmp_path / "home"
    shutil.copytree(sample_home, copy)
    return copy


@pytest.fixture
def api(home, embedder):
    from assistant import Assistant

    with serving(Assistant.open(home=home, embedder=embedder, server={"max_body_mb": 64 / 1024})) as url:
        yield url


def ask(api: str, question: str, **body) -> dict:
    reply = httpx.post(f"{api}/ask", json={"question": question, **body}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


def get(api: str, path: str, status: int = 200):
    reply = httpx.get(f"{api}{path}", timeout=60)
    assert reply.status_code == status, reply.text
    return reply.json()


def test_asking_in_a_conversation_saves_each_turn(api):
    first = ask(api, FIRST, conversation="new")
    cid = first["conversation"]
    assert set(first) == ANSWER_KEYS | {"conversation", "turn"} and isinstance(first["turn"], int)
    follow = ask(api, FOLLOW, conversation=cid)  # no history sent: the saved turns are the history
    told = ask(api, FOLLOW, history=[[FIRST, first["answer"]]])
    assert follow["query"] == told["query"] != FOLLOW and "Markov" in follow["query"]
    assert set(told) == ANSWER_KEYS  # without `conversation`, nothing is saved and the answer is as before
    streamed = httpx.post(f"{api}/kb/default/ask", json={"question": "Who denied involvement?", "stream": True,
                                                         "conversation": cid}, timeout=120)
    final = events(streamed)[-1]
    assert final[0] == "answer" and final[1]["conversation"] == cid and final[1]["turn"] > follow["turn"]

    [listed] = get(api, "/conversations")
    assert listed == {"id": cid, "title": FIRST, "created": listed["created"], "updated": listed["updated"],
                      "count": 3}
    whole = get(api, f"/conversations/{cid}")
    turns = whole["turns"]
    assert [(t["seq"], t["question"], t["kb"], t["answerer"]) for t in turns] == [
        (1, FIRST, "default", "extractive"), (2, FOLLOW, "default", "extractive"),
        (3, "Who denied involvement?", "default", "extractive")]
    assert [t["id"] for t in turns] == [first["turn"], follow["turn"], final[1]["turn"]]
    kept = dict(follow)
    for key in ("hits", "conversation", "turn"):
        del kept[key]
    assert turns[1]["answer"] == kept  # the answer as given, without the retrieved passages
    assert turns[2]["answer"]["answer"] == final[1]["answer"] and turns[2]["answer"]["citations"]


def test_list_search_rename_export_and_delete(api, home):
    created = httpx.post(f"{api}/conversations", json={}, timeout=60)
    assert created.status_code == 201 and created.json()["title"] == "" and created.json()["count"] == 0
    ferry = created.json()["id"]
    ask(api, "What did Peskov call the allegations?", conversation=ferry)  # the first question titles it
    assert get(api, f"/conversations/{ferry}")["title"] == "What did Peskov call the allegations?"
    other = ask(api, FIRST, conversation="new")["conversation"]
    assert [c["id"] for c in get(api, "/conversations")] == [other, ferry]
    bare = httpx.post(f"{api}/conversations", timeout=60)  # no body at all
    assert bare.status_code == 201 and get(api, "/conversations")[0]["id"] == bare.json()["id"]
    httpx.delete(f"{api}/conversations/{bare.json()['id']}", timeout=60)
    assert [c["id"] for c in get(api, "/conversations?search=allegations")] == [ferry]
    assert [c["id"] for c in get(api, "/conversations?search=nonsense")] == [ferry]  # the answer is searched too
    assert get(api, "/conversations?search=zorblat") == []

    renamed = httpx.patch(f"{api}/conversations/{ferry}", json={"title": "  Peskov   and the  leaks "}, timeout=60)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Peskov and the leaks"
    assert get(api, f"/conversations/{ferry}")["title"] == "Peskov and the leaks"

    markdown = httpx.get(f"{api}/conversations/{ferry}/export", timeout=60)
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.headers["content-disposition"] == f'attachment; filename="conversation-{ferry[:8]}.md"'
    assert markdown.text.startswith("# Peskov and the leaks\n") and "## What did Peskov call the allegations?" \
        in markdown.text and "\n1. " in markdown.text
    as_json = httpx.get(f"{api}/conversations/{ferry}/export?format=json", timeout=60)
    assert as_json.headers["content-disposition"].endswith('.json"')
    assert as_json.json()["turns"][0]["question"] == "What did Peskov call the allegations?"
    assert httpx.get(f"{api}/conversations/{ferry}/export?format=pdf", timeout=60).status_code == 422

    deleted = httpx.delete(f"{api}/conversations/{ferry}", timeout=60)
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": ferry})
    assert [c["id"] for c in get(api, "/conversations")] == [other]
    assert History(home / FILE_NAME).conversations("local", "allegations") == []


def test_feedback_becomes_an_eval_case(api, home):
    answer = ask(api, "What did Peskov call the allegations?", conversation="new")
    reply = httpx.post(f"{api}/turns/{answer['turn']}/feedback", json={"rating": 1}, timeout=60)
    assert (reply.status_code, reply.json()) == (200, {"turn": answer["turn"], "rating": 1, "comment": None})
    wrong = ask(api, "Who denied involvement?", conversation=answer["conversation"])
    reply = httpx.post(f"{api}/turns/{wrong['turn']}/feedback", timeout=60,
                       json={"rating": -1, "comment": "  It was the Kremlin spokesman  "})
    assert reply.json() == {"turn": wrong["turn"], "rating": -1, "comment": "It was the Kremlin spokesman"}
    turns = get(api, f"/conversations/{answer['conversation']}")["turns"]
    assert [(t["rating"], t["comment"]) for t in turns] == [(1, None), (-1, "It was the Kremlin spokesman")]

    out = home.parent / "rated.jsonl"
    done = subprocess.run([sys.executable, "-m", "assistant", "--home", str(home), "feedback", "export", "--out",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    up, down = [json.loads(line) for line in out.read_text().splitlines()]
    assert up["answers"] == [answer["short"] or answer["answer"]]
    assert up["sources"] == sorted({c["source"] for c in answer["citations"]})
    assert down["answers"] == [] and down["note"] == "It was the Kremlin spokesman"
    assert down["given"] == wrong["answer"] and down["history"] == ["What did Peskov call the allegations?"]
    gated = subprocess.run([sys.executable, "-m", "assistant", "--home", str(home), "eval", str(out),
                            "--out", str(home.parent / "run")], capture_output=True, text=True, timeout=600)
    assert gated.returncode == 0, gated.stderr
    assert f'1 case left out, waiting for a gold answer (fill in their "answers"): {down["id"]}' in \
        " ".join((gated.stdout + gated.stderr).split())
    results = json.loads((home.parent / "run" / "results.json").read_text())
    assert results["completed"] == 1 and [c["id"] for c in results["systems"]["assistant"]["cases"]] == [up["id"]]


def _error(reply: httpx.Response, status: int) -> str:
    assert reply.status_code == status, reply.text
    [message] = reply.json().values()
    assert "\n" not in message
    return message


def test_unknown_and_other_owners_conversations_are_not_found(api, home):
    alices = History(home / FILE_NAME)
    turn = alices.add_turn("alice", None, "Alice's question?", {"answer": "Hers."}, "extractive", "default")
    [theirs] = alices.conversations("alice")
    mine = ask(api, FIRST, conversation="new")["conversation"]
    assert [c["id"] for c in get(api, "/conversations")] == [mine]
    assert get(api, "/conversations?search=alice") == []
    for cid in (theirs.id, "nope"):
        for method, path, body in (("GET", f"/conversations/{cid}", None), ("GET", f"/conversations/{cid}/export",
                                                                           None),
                                   ("PATCH", f"/conversations/{cid}", {"title": "Mine now"}),
                                   ("DELETE", f"/conversations/{cid}", None),
                                   ("POST", "/ask", {"question": FIRST, "conversation": cid})):
            reply = httpx.request(method, f"{api}{path}", json=body, timeout=60)
            assert _error(reply, 404) == f"No conversation {cid!r}", (method, path)
    assert _error(httpx.post(f"{api}/turns/{turn.id}/feedback", json={"rating": 1}, timeout=60), 404) == \
        f"No turn {turn.id}"
    assert _error(httpx.post(f"{api}/turns/999999/feedback", json={"rating": 1}, timeout=60), 404) == "No turn 999999"
    kept = alices.conversation("alice", theirs.id)  # nothing of Alice's changed
    assert (kept.title, kept.count, kept.turns[0].rating) == ("Alice's question?", 1, None)
    assert alices.conversation("local", mine).count == 1  # the refused ask saved nothing


@pytest.mark.parametrize("body, status, message", [
    ({"rating": 5}, 422, "A rating is 1 (thumbs up) or -1 (thumbs down)"),
    ({"rating": 0}, 422, "A rating is 1 (thumbs up) or -1 (thumbs down)"),
    ({"rating": True}, 422, "Invalid request: rating: Input should be a valid integer"),
    ({"rating": "up"}, 422, "Invalid request: rating: Input should be a valid integer"),
    ({}, 422, "Invalid request: rating: Field required"),
    ({"rating": -1, "comment": "x" * (COMMENT_CHARS + 1)}, 422,
     f"A comment is at most {COMMENT_CHARS:,} characters (this one has {COMMENT_CHARS + 1:,})"),
    ({"rating": -1, "comment": "x" * 70_000}, 413, "The request body is larger than [server] max_body_mb "
                                                   "(0.0625 MB)"),
    ({"rating": -1, "comment": "bad \ud800"}, 422, "The comment is not valid UTF-8 text (U+D800 at character 5): "
                                                   "send or type it as UTF-8"),
])
def test_bad_feedback_is_refused_and_changes_nothing(api, body, status, message):
    answer = ask(api, FIRST, conversation="new")
    reply = httpx.post(f"{api}/turns/{answer['turn']}/feedback", timeout=60,
                       content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert _error(reply, status) == message
    [turn] = get(api, f"/conversations/{answer['conversation']}")["turns"]
    assert (turn["rating"], turn["comment"]) == (None, None)
    assert httpx.post(f"{api}/turns/{answer['turn']}/feedback", json={"rating": -1, "comment": "x" * COMMENT_CHARS},
                      timeout=60).status_code == 200  # the cap itself is accepted


@pytest.mark.parametrize("body, message", [
    ({"title": "  "}, "A conversation's title cannot be empty"),
    ({"title": ""}, "A conversation's title cannot be empty"),
    ({}, "Invalid request: title: Field required"),
    ({"title": "\udfff"}, "The title is not valid UTF-8 text (U+DFFF at character 1): send or type it as UTF-8"),
])
def test_a_bad_title_is_422_and_keeps_the_old_one(api, body, message):
    cid = ask(api, FIRST, conversation="new")["conversation"]
    reply = httpx.patch(f"{api}/conversations/{cid}", content=json.dumps(body).encode(), timeout=60,
                        headers={"content-type": "application/json"})
    assert _error(reply, 422) == message
    assert get(api, f"/conversations/{cid}")["title"] == FIRST


def test_a_corrupt_history_file_still_answers_with_a_note(home, embedder):
    from assistant import Assistant

    path = home / FILE_NAME
    junk = b"this is not a database, but someone's notes " * 300
    path.write_bytes(junk)
    why = f"Conversation history {path} cannot be used: file is not a database"
    with serving(Assistant.open(home=home, embedder=embedder)) as api:
        for conversation in ("new", "0123abcd" * 4):
            answer = ask(api, "What did Peskov call the allegations?", conversation=conversation)
            assert "absolute nonsense" in answer["answer"] and answer["turn"] is None
            assert answer["notes"][-1] == f"This turn was not saved: {why}"
        streamed = events(httpx.post(f"{api}/ask", json={"question": FIRST, "stream": True, "conversation": "new"},
                                     timeout=120))
        assert streamed[-1][0] == "answer" and streamed[-1][1]["notes"][-1] == f"This turn was not saved: {why}"
        for method, path_, body in (("GET", "/conversations", None), ("GET", "/conversations?search=x", None),
                                    ("POST", "/conversations", {}), ("GET", "/conversations/abc", None),
                                    ("GET", "/conversations/abc/export", None), ("DELETE", "/conversations/abc", None),
                                    ("PATCH", "/conversations/abc", {"title": "t"}),
                                    ("POST", "/turns/1/feedback", {"rating": 1})):
            assert _error(httpx.request(method, f"{api}{path_}", json=body, timeout=60), 503) == why
        stateless = ask(api, FIRST)  # asked outside any conversation: nothing to save, nothing to say
        assert set(stateless) == ANSWER_KEYS and not any("not saved" in note for note in stateless["notes"])
    assert path.read_bytes() == junk and not path.with_name(FILE_NAME + "-wal").exists()


def test_the_openapi_schema_describes_the_conversation_routes(api):
    schema = get(api, "/openapi.json")
    paths = schema["paths"]
    assert set(paths["/conversations"]) == {"get", "post"}
    assert set(paths["/conversations/{cid}"]) == {"get", "patch", "delete"}
    assert paths["/turns/{turn}/feedback"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/FeedbackIn")
    assert "conversation" in schema["components"]["schemas"]["AskRequest"]["properties"]
    assert "/kb/{kb}/conversations" not in paths


def test_each_named_key_sees_only_its_own_conversations(home, embedder):
    """With `[server] named_keys`, a conversation belongs to the key that made it: another key cannot list, read,
    rate or ask in it, and a plain key is owner `api`."""
    from assistant import Assistant

    keys = {"alice": "alice-key", "bob": "bob-key"}
    assistant = Assistant.open(home=home, embedder=embedder, server={"named_keys": keys, "api_keys": ["plain-key"]})
    with serving(assistant) as url:
        def call(method: str, path: str, key: str, body: dict | None = None) -> httpx.Response:
            return httpx.request(method, f"{url}{path}", json=body, timeout=120,
                                 headers={"Authorization": f"Bearer {key}"})

        asked = call("POST", "/ask", "alice-key", {"question": FIRST, "conversation": "new"})
        assert asked.status_code == 200, asked.text
        cid, turn = asked.json()["conversation"], asked.json()["turn"]
        assert [c["id"] for c in call("GET", "/conversations", "alice-key").json()] == [cid]
        for key in ("bob-key", "plain-key"):
            assert call("GET", "/conversations", key).json() == []
            assert call("GET", f"/conversations/{cid}", key).status_code == 404
            assert call("POST", f"/turns/{turn}/feedback", key, {"rating": -1}).status_code == 404
            assert call("POST", "/ask", key, {"question": FIRST, "conversation": cid}).status_code == 404
    saved = History(home / FILE_NAME)
    assert saved.conversation("alice", cid).count == 1 and saved.conversations("bob") == []
    assert saved.conversation("alice", cid).turns[0].rating is None
