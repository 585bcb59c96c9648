"""Knowledge bases in the Python API: named document sets in one home, each with its own collections,
BM25 index and uploads; the default one is the home as it always was."""
from __future__ import annotations

import pytest

from assistant import Assistant, kb
from assistant.errors import InvalidKnowledgeBaseName, KnowledgeBaseError, MissingNamespace, UnknownKnowledgeBase
from vectorstore.lexical import MANIFEST

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."
BAD_NAMES = ["Notes", "my notes", "-notes", "_x", "", "a" * 41, "nötes", "notes/../x", "a.b", "\udcff"]


@pytest.fixture
def home_with_notes(tmp_path, embedder):
    """(default assistant, "notes" assistant): an empty default base and a "notes" base holding one text."""
    assistant = Assistant.open(home=tmp_path / "home", embedder=embedder)
    kb.create(assistant.settings, "notes")
    notes = assistant.with_kb("notes")
    notes.ingest_texts([("zorblat.txt", ZORB, "Zorblat")])
    return assistant, notes


def test_a_knowledge_base_is_its_own_index(home_with_notes, tmp_path):
    assistant, notes = home_with_notes
    assert assistant.knowledge_bases() == notes.knowledge_bases() == ["default", "notes"]
    assert [r.source for r in notes.sources()] == ["zorblat.txt"] and assistant.sources() == []
    answer = notes.ask("When is the zorblat festival held?")
    assert "March" in answer.text and answer.citations[0].source == "zorblat.txt"
    with pytest.raises(Exception, match="Nothing is indexed yet: run `assistant ingest PATH`"):
        assistant.ask("When is the zorblat festival held?")
    home = tmp_path / "home"
    # The default base keeps the names and paths every home had; a named one gets its own.
    assert (assistant.kb.namespace, assistant.kb.lexical_dir, assistant.kb.root) == ("assistant", home / "bm25", home)
    assert (notes.kb.namespace, notes.kb.lexical_dir) == ("assistant_kb_notes", home / "kb" / "notes" / "bm25")
    assert (home / "kb" / "notes" / "bm25" / MANIFEST).is_file() and not (home / "bm25").exists()
    assert Assistant.open(home=home, kb="notes", embedder=assistant.embedder).sources() == notes.sources()
    assert Assistant.open(home=home, kb="default", embedder=assistant.embedder).kb == assistant.kb


def test_an_empty_knowledge_base_says_how_to_fill_it(home_with_notes):
    assistant, _ = home_with_notes
    kb.create(assistant.settings, "empty")
    with pytest.raises(Exception, match=r"Nothing is indexed in the knowledge base 'empty' yet: run "
                                        r"`assistant ingest --kb empty PATH`"):
        assistant.with_kb("empty").ask("Anything?")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_an_invalid_name_is_refused_everywhere_before_anything_changes(home_with_notes, name):
    assistant, notes = home_with_notes
    for attempt in (lambda: kb.create(assistant.settings, name), lambda: kb.delete(assistant.settings, name),
                    lambda: assistant.with_kb(name), lambda: Assistant.open(home=assistant.settings.home, kb=name)):
        with pytest.raises(InvalidKnowledgeBaseName, match=r"^Invalid knowledge base name .*: use lowercase "
                                                           r"letters, digits, - and _, 1 to 40 characters"):
            attempt()
    assert assistant.knowledge_bases() == ["default", "notes"] and len(notes.sources()) == 1


def test_unknown_existing_and_default_names_are_refused(home_with_notes):
    assistant, notes = home_with_notes
    settings = assistant.settings
    for attempt in (lambda: assistant.with_kb("nope"), lambda: kb.delete(settings, "nope"),
                    lambda: Assistant.open(home=settings.home, kb="nope", embedder=assistant.embedder)):
        with pytest.raises(UnknownKnowledgeBase, match="^No knowledge base named 'nope': `assistant kb list` shows "
                                                       "them, `assistant kb create nope` makes it$"):
            attempt()
    with pytest.raises(KnowledgeBaseError, match="^The knowledge base 'notes' exists already"):
        kb.create(settings, "notes")
    with pytest.raises(KnowledgeBaseError, match="^The knowledge base 'default' always exists"):
        kb.create(settings, "default")
    with pytest.raises(KnowledgeBaseError, match="^The knowledge base 'default' cannot be deleted"):
        kb.delete(settings, "default")
    # None of it made or changed a base: asking for an unknown one never creates it.
    assert assistant.knowledge_bases() == ["default", "notes"] and len(notes.sources()) == 1
    assert "assistant_kb_nope" not in assistant.store.namespaces()


def test_uploads_go_to_the_bases_folder_and_delete_drops_it_all(home_with_notes, tmp_path):
    from assistant.uploads import ingest_uploads

    assistant, notes = home_with_notes
    dropped = tmp_path / "ferry.txt"
    dropped.write_text("The Quentinville ferry leaves the harbour at nine every morning.")
    [result] = ingest_uploads(notes, [(dropped, "ferry.txt")]).files
    folder = tmp_path / "home" / "kb" / "notes"
    assert result.source == (folder / "uploads" / "ferry.txt").as_posix() and result.status == "added"
    assert assistant.sources() == [] and not (tmp_path / "home" / "uploads").exists()
    kb.delete(assistant.settings, "notes")
    assert assistant.knowledge_bases() == ["default"] and not folder.exists()
    assert [n for n in assistant.store.namespaces() if "notes" in n] == []
    with pytest.raises(MissingNamespace, match="The knowledge base 'notes' no longer exists"):
        notes.sources()  # an assistant opened before the delete says so, in one line
    assert notes.store.missing
    kb.create(assistant.settings, "notes")  # the name is free again, and the new base starts empty
    assert assistant.with_kb("notes").sources() == []


# ---- over HTTP: /kb, /kb/{kb}/..., model ids kind@kb ------------------------------------------------------------

@pytest.fixture
def notes_api(home_with_notes):
    """(API url, default assistant): the API over the home with the "notes" base, on a real uvicorn server."""
    from test_http import serving

    assistant, _ = home_with_notes
    with serving(assistant) as url:
        yield url, assistant


def test_every_native_route_on_a_named_base(notes_api, tmp_path):
    import httpx

    api, assistant = notes_api
    assert httpx.get(f"{api}/kb", timeout=60).json() == [{"name": "default", "documents": 0},
                                                         {"name": "notes", "documents": 1}]
    assert httpx.get(f"{api}/sources", timeout=60).json() == []
    assert [r["source"] for r in httpx.get(f"{api}/kb/notes/sources", timeout=60).json()] == ["zorblat.txt"]
    answer = httpx.post(f"{api}/kb/notes/ask", json={"question": "When is the zorblat festival held?"}, timeout=120)
    assert answer.status_code == 200 and answer.json()["short"] in ("March", "every March")
    assert httpx.get(f"{api}/kb/default/sources", timeout=60).json() == []
    assert httpx.get(f"{api}/kb/notes/documents/zorblat.txt", timeout=60).json()["text"] == ZORB

    ferry = b"The Quentinville ferry leaves the harbour at nine every morning."
    uploaded = httpx.post(f"{api}/kb/notes/documents", files=[("files", ("ferry.txt", ferry))], timeout=300)
    copy = assistant.settings.home / "kb" / "notes" / "uploads" / "ferry.txt"
    assert uploaded.status_code == 200 and uploaded.json()["added"] == [copy.as_posix()] and copy.read_bytes() == ferry
    removed = httpx.delete(f"{api}/kb/notes/documents/ferry.txt", timeout=60)
    assert removed.json() == {"removed": copy.as_posix()} and assistant.sources() == []
    refused = httpx.post(f"{api}/kb/notes/ingest", json={"paths": [str(tmp_path)]}, timeout=60)
    assert refused.status_code == 403  # the same rules on every base: no ingest roots, no ingest


def test_a_model_id_picks_the_base(notes_api):
    import openai

    api, _ = notes_api
    client = openai.OpenAI(base_url=f"{api}/v1", api_key="unused", max_retries=0, timeout=120)
    assert [m.id for m in client.models.list().data] == [
        "extractive", "top-passage", "extractive@default", "top-passage@default", "extractive@notes",
        "top-passage@notes"]
    question = [{"role": "user", "content": "When is the zorblat festival held?"}]
    reply = client.chat.completions.create(model="extractive@notes", messages=question)
    assert "March" in reply.choices[0].message.content and reply.model == "extractive@notes"
    assert reply.choices[0].message.model_extra["citations"][0]["source"] == "zorblat.txt"
    chunks = list(client.chat.completions.create(model="top-passage@notes", messages=question, stream=True))
    assert chunks[-1].model_extra["citations"][0]["source"] == "zorblat.txt"
    with pytest.raises(openai.ConflictError, match="Nothing is indexed yet"):  # the default base is empty
        client.chat.completions.create(model="extractive@default", messages=question)
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o@notes", messages=question)
    assert err.value.body["message"] == ("The model 'gpt-4o@notes' does not exist: choose one of extractive, "
                                         "top-passage, or KIND@KB for knowledge base KB (GET /v1/models)")


UNKNOWN = "No knowledge base named 'nope': `assistant kb list` shows them, `assistant kb create nope` makes it"
INVALID = ("Invalid knowledge base name 'Notes': use lowercase letters, digits, - and _, 1 to 40 characters, "
           "starting with a letter or digit")


@pytest.mark.parametrize("method, path, body, error", [
    ("GET", "/kb/nope/sources", None, {"error": UNKNOWN}),
    ("POST", "/kb/nope/ask", {"question": "When?"}, {"error": UNKNOWN}),
    ("POST", "/kb/Notes/ask", {"question": "When?", "stream": True}, {"error": INVALID}),
    ("POST", "/kb/nope/ingest", {"paths": ["/tmp"]}, {"error": UNKNOWN}),
    ("GET", "/kb/nope/documents/zorblat.txt", None, {"error": UNKNOWN}),
    ("DELETE", "/kb/nope/documents/zorblat.txt", None, {"error": UNKNOWN}),
    ("POST", "/v1/chat/completions", {"model": "extractive@nope", "messages": [{"role": "user", "content": "When?"}]},
     {"error": {"message": f"The model 'extractive@nope' does not exist: {UNKNOWN}", "type": "not_found_error",
                "param": "model", "code": "model_not_found"}}),
    ("POST", "/v1/chat/completions", {"model": "extractive@Notes", "messages": [{"role": "user", "content": "When?"}]},
     {"error": {"message": f"The model 'extractive@Notes' does not exist: {INVALID}", "type": "not_found_error",
                "param": "model", "code": "model_not_found"}}),
])
def test_an_unknown_or_invalid_base_is_404_and_changes_nothing(notes_api, method, path, body, error):
    import httpx

    api, assistant = notes_api
    reply = httpx.request(method, f"{api}{path}", json=body, timeout=60)
    assert (reply.status_code, reply.json()) == (404, error)
    upload = httpx.post(f"{api}/kb/nope/documents", files=[("files", ("a.txt", b"Nine."))], timeout=60)
    assert (upload.status_code, upload.json()) == (404, {"error": UNKNOWN})
    assert assistant.knowledge_bases() == ["default", "notes"] and not (assistant.settings.home / "kb" / "nope").exists()
    assert len(assistant.with_kb("notes").sources()) == 1 and assistant.sources() == []


def test_the_key_is_checked_before_the_base(home_with_notes):
    import httpx

    from test_http import serving

    assistant, _ = home_with_notes
    locked = Assistant.open(home=assistant.settings.home, embedder=assistant.embedder, server={"api_keys": ["k" * 24]})
    with serving(locked) as api:
        for path in ("/kb", "/kb/nope/sources", "/kb/notes/sources"):
            assert httpx.get(f"{api}{path}", timeout=60).status_code == 401, path
        assert httpx.get(f"{api}/kb/notes/sources", headers={"Authorization": "Bearer " + "k" * 24},
                         timeout=60).status_code == 200
