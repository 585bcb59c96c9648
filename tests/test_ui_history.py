"""Saved conversations in the chat UI without a browser: every answered turn saved, reopened with its follow-up
history, citations checked against the store, exports, ratings, owners, and a history file that cannot be used."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant.answer import Answer  # noqa: E402
from assistant.errors import CitedDocumentChanged, CitedDocumentGone  # noqa: E402
from assistant.history import LOCAL, to_markdown  # noqa: E402
from ui import citations  # noqa: E402
from ui.conversations import NOT_SAVED, SHOWN, Thread  # noqa: E402
from ui.handlers import Handlers  # noqa: E402

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama called Ferdinand."


def _turn(on, question, chat=(), history=(), answers=(), thread=None, user=None, kb=None):
    """One answered turn through the handler: (chat, history, answers, thread, note) after it."""
    updates = list(on.respond(question, list(chat), list(history), list(answers), None, None, None, kb, thread,
                              gr.Request(username=user)))
    _, history, answers, _, _, thread, note = updates[-1]
    return updates[-2][0], history, answers, thread, note


def _like(index, liked):
    return gr.LikeData(None, {"index": index, "value": "", "liked": liked})


@pytest.fixture
def zorb(make_assistant):
    assistant = make_assistant()
    assistant.ingest_texts([("zorblat.txt", ZORB, "Zorblat")])
    return assistant


def test_an_answered_turn_is_saved_and_reopens_with_its_history(sample_home, embedder, tmp_path):
    import shutil

    from assistant import Assistant

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    on = Handlers(Assistant.open(home=home, embedder=embedder))
    chat, history, answers, thread, note = _turn(on, "Who denied involvement?")
    assert note.visible is False and thread.id and thread.turns[0][0] is not None
    [saved] = on.bases.history.conversations(LOCAL)
    assert (saved.id, saved.title, saved.count) == (thread.id, "Who denied involvement?", 1)
    turn = on.bases.history.conversation(LOCAL, thread.id).turns[0]
    assert turn.answer == answers[0].to_dict() and (turn.answerer, turn.kb) == ("extractive", "default")

    # a reload: a new page opens the conversation the browser kept, as it was shown
    page = Handlers(Assistant.open(home=home, embedder=embedder))  # a restart, too: nothing in memory
    shown, pairs, again, reopened, _, listed, title, md, js, last, note = page.talks.open(thread.id)
    assert [(m["role"], m["content"][0]["text"]) for m in shown.value] == [(m["role"], m["content"]) for m in chat]
    assert pairs == history and again == answers and reopened == thread
    assert listed.value == thread.id and title == "Who denied involvement?" and last == thread.id
    # a follow-up inside it is rewritten from the saved turn, and saved in the same conversation
    _, history, answers, thread, _ = _turn(page, "Why did they deny it?", chat, pairs, again, reopened)
    assert answers[1].query != "Why did they deny it?" and len(history) == 2
    assert [t.question for t in page.bases.history.conversation(LOCAL, thread.id).turns] == \
        ["Who denied involvement?", "Why did they deny it?"]
    assert len(page.bases.history.conversations(LOCAL)) == 1


def test_answer_round_trips_through_its_json(sample_assistant):
    answer = sample_assistant.ask("Who denied involvement?")
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))) == answer


def test_a_saved_citation_opens_its_passage_or_says_the_document_changed_or_is_gone(zorb):
    on = Handlers(zorb)
    _, _, answers, thread, _ = _turn(on, "When is the zorblat festival held?")
    cite = answers[0].citations[0]
    assert zorb.cited_document(cite).text[cite.start:cite.end] == cite.text
    link = citations.open_link(cite.source, cite.start, cite.end, cite.sentence_span(), (0, 1))[1:]
    event = gr.EventData(None, {"link": link})
    assert "purple llama" in on.open(event, None, answers, thread)[0]

    zorb.ingest_texts([("zorblat.txt", "Festivals moved. " + ZORB.replace("March", "June"), "Zorblat")])
    with pytest.raises(CitedDocumentChanged, match="^zorblat.txt has changed since this answer"):
        zorb.cited_document(cite)
    assert "zorblat.txt has changed since this answer" in on.open(event, None, answers, thread)[0]
    zorb.remove("zorblat.txt")
    with pytest.raises(CitedDocumentGone, match="^zorblat.txt is no longer indexed"):
        zorb.cited_document(cite)
    assert "zorblat.txt is no longer indexed" in on.open(event, None, answers, thread)[0]


def test_exports_are_the_conversation_as_markdown_and_json(zorb):
    on = Handlers(zorb)
    _, _, _, thread, _ = _turn(on, "When is the zorblat festival held?")
    _, _, md, js, _, _ = on.talks.sidebar(thread)
    conversation = on.bases.history.conversation(LOCAL, thread.id)
    assert md.interactive and Path(md.value["path"]).read_text(encoding="utf-8") == to_markdown(conversation)
    assert json.loads(Path(js.value["path"]).read_text(encoding="utf-8")) == conversation.to_dict()
    assert md.value["orig_name"] == "When-is-the-zorblat-festival-held.md"
    _, _, md, js, last, _ = on.talks.sidebar(Thread())  # nothing saved yet: nothing to export
    assert (md.value, md.interactive, js.interactive, last) == (None, False, False, None)


def test_rename_search_delete_and_each_owner_sees_only_their_own(zorb):
    on = Handlers(zorb)
    _, _, _, alice, _ = _turn(on, "When is the zorblat festival held?", user="alice")
    _, _, _, bob, _ = _turn(on, "What is the mascot called?", user="bob")
    as_alice, as_bob = gr.Request(username="alice"), gr.Request(username="bob")
    listed = on.talks.sidebar(alice, "", as_alice)[0]
    assert [c[1] for c in listed.choices] == [alice.id]
    assert on.talks.open(alice.id, "", as_bob)[3] == Thread()  # bob cannot open alice's: an empty chat

    on.talks.rename(alice, "Festival dates", "", as_alice)
    assert on.talks.listing("festival dat", Thread(), as_alice).choices[0][0].startswith("Festival dates · ")
    assert on.talks.listing("mascot", Thread(), as_alice).choices == []  # bob's word, not alice's
    assert on.talks.listing("zorblat", Thread(), as_alice).choices[0][1] == alice.id  # found in the question
    for bad in ("", "   "):
        with pytest.raises(gr.Error) as caught:
            on.talks.rename(alice, bad, "", as_alice)
        assert caught.value.message == "A conversation's title cannot be empty"
    with pytest.raises(gr.Error) as caught:
        on.talks.rename(Thread(), "x", "", as_alice)
    assert caught.value.message == "Ask a question first: a conversation is saved with its first answer."

    with pytest.raises(gr.Error):  # the browser's confirm() said no
        on.talks.delete("no", alice, as_alice)
    on.talks.delete("yes", bob, as_alice)  # not alice's: nothing happens to it
    assert on.bases.history.conversations("bob")[0].id == bob.id
    on.talks.delete("yes", alice, as_alice)
    assert on.bases.history.conversations("alice") == []
    # a follow-up in a conversation another tab deleted starts a new one
    _, _, _, again, _ = _turn(on, "Who is Ferdinand?", thread=alice, user="alice")
    assert again.id != alice.id and on.bases.history.conversations("alice")[0].id == again.id


def test_the_list_shows_the_latest_and_search_finds_the_rest(zorb):
    on = Handlers(zorb)
    history = on.bases.history
    first = history.start(LOCAL, "the very first conversation")
    for i in range(SHOWN):
        history.start(LOCAL, f"later {i}")
    listed = on.talks.sidebar(Thread())[0]
    assert len(listed.choices) == SHOWN and first.id not in [c[1] for c in listed.choices]
    assert [c[1] for c in on.talks.listing("very first", Thread()).choices] == [first.id]


def test_thumbs_and_comment_are_stored_with_the_turn_and_an_unsaved_turn_says_so(zorb):
    on = Handlers(zorb)
    chat, history, answers, thread, _ = _turn(on, "When is the zorblat festival held?")
    box, line, pending = on.talks.rate(thread, _like(1, False))
    assert box.visible and "Saved 👎" in line and pending == (thread.turns[0][0], -1)
    assert on.bases.history.conversation(LOCAL, thread.id).turns[0].rating == -1
    box, line, text = on.talks.comment(pending, "  It should say the first week of March.  ")
    turn = on.bases.history.conversation(LOCAL, thread.id).turns[0]
    assert (turn.rating, turn.comment) == (-1, "It should say the first week of March.")
    assert not box.visible and "Comment saved" in line and text == ""
    shown = on.talks.open(thread.id)[0]
    assert shown.feedback_value == ["Dislike"]  # the reopened chat shows the thumb pressed

    assert on.talks.rate(thread, _like(1, True))[2] == (thread.turns[0][0], 1)  # a new rating replaces it
    assert on.bases.history.conversation(LOCAL, thread.id).turns[0].rating == 1
    unsaved = thread.then(None, "default")  # e.g. an answer that failed, or given while history was unavailable
    box, line, pending = on.talks.rate(unsaved, _like(3, False))
    assert NOT_SAVED in line and pending is None and not box.visible
    assert "Rate an answer first" in on.talks.comment(None, "text")[1]


@pytest.mark.parametrize("damage", ["corrupt", "locked"])
def test_asking_works_without_history_and_says_why(zorb, damage):
    import sqlite3

    from assistant import history as store

    on = Handlers(zorb)
    path = on.bases.history.path
    if damage == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    else:
        store.BUSY_SECONDS, busy = 0.2, store.BUSY_SECONDS
        on.bases.history.check()
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
    try:
        chat, _, answers, thread, note = _turn(on, "When is the zorblat festival held?")
        sidebar_note = on.talks.sidebar(thread)[-1]
    finally:
        if damage == "locked":
            locker.execute("ROLLBACK")
            store.BUSY_SECONDS = busy
    assert "March" in answers[0].text and "cite-ref" in chat[-1]["content"]  # the answer is there
    reason = "file is not a database" if damage == "corrupt" else "locked by another program"
    # a locked file can still be read (WAL): the list shows, and the note from the failed save stays
    assert sidebar_note == gr.skip() if damage == "locked" else sidebar_note.value == note.value
    for shown in (note, sidebar_note) if damage == "corrupt" else (note,):
        assert shown.visible and "\n" not in shown.value
        assert f"Conversations are not being saved. Conversation history {path} cannot be used: " in shown.value
        assert reason in shown.value
    assert thread.turns == ((None, "default"),)
    assert NOT_SAVED in on.talks.rate(thread, _like(1, True))[1]
