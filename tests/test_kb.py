"""Knowledge bases in the Python API: named document sets in one home, each with its own collections,
BM25 index and uploads; the default one is the home as it always was."""
from __future__ import annotations

import pytest

from assistant import Assistant, kb
from assistant.errors import InvalidKnowledgeBaseName, KnowledgeBaseError, MissingNamespace, UnknownKnowledgeBase

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."
BAD_NAMES = ["Notes", "my notes", "-notes", "_x", "", "a" * 41, "nötes", "notes/../x", "a.b", "\udcff"]


@pytest.fixture
def home_with_notes(tmp_path, embedder):
    """(default assistant, "notes" assistant): an empty default base and a "notes" base holding one text."""
    bot = Assistant.open(home=tmp_path / "home", embedder=embedder)
    kb.create(bot.settings, "notes")
    notes = bot.with_kb("notes")
    notes.ingest_texts([("zorblat.txt", ZORB, "Zorblat")])
    return bot, notes


def test_a_knowledge_base_is_its_own_index(home_with_notes, tmp_path):
    bot, notes = home_with_notes
    assert bot.knowledge_bases() == notes.knowledge_bases() == ["default", "notes"]
    assert [r.source for r in notes.sources()] == ["zorblat.txt"] and bot.sources() == []
    answer = notes.ask("When is the zorblat festival held?")
    assert "March" in answer.text and answer.citations[0].source == "zorblat.txt"
    with pytest.raises(Exception, match="Nothing is indexed yet: run `assistant ingest PATH`"):
        bot.ask("When is the zorblat festival held?")
    home = tmp_path / "home"
    # The default base keeps the names and paths every home had; a named one gets its own.
    assert (bot.kb.namespace, bot.kb.lexical_dir, bot.kb.root) == ("assistant", home / "bm25", home)
    assert (notes.kb.namespace, notes.kb.lexical_dir) == ("assistant_kb_notes", home / "kb" / "notes" / "bm25")
    assert (home / "kb" / "notes" / "bm25" / "ids.json").is_file() and not (home / "bm25").exists()
    assert Assistant.open(home=home, kb="notes", embedder=bot.embedder).sources() == notes.sources()
    assert Assistant.open(home=home, kb="default", embedder=bot.embedder).kb == bot.kb


def test_an_empty_knowledge_base_says_how_to_fill_it(home_with_notes):
    bot, _ = home_with_notes
    kb.create(bot.settings, "empty")
    with pytest.raises(Exception, match=r"Nothing is indexed in the knowledge base 'empty' yet: run "
                                        r"`assistant ingest --kb empty PATH`"):
        bot.with_kb("empty").ask("Anything?")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_an_invalid_name_is_refused_everywhere_before_anything_changes(home_with_notes, name):
    bot, notes = home_with_notes
    for attempt in (lambda: kb.create(bot.settings, name), lambda: kb.delete(bot.settings, name),
                    lambda: bot.with_kb(name), lambda: Assistant.open(home=bot.settings.home, kb=name)):
        with pytest.raises(InvalidKnowledgeBaseName, match=r"^Invalid knowledge base name .*: use lowercase "
                                                           r"letters, digits, - and _, 1 to 40 characters"):
            attempt()
    assert bot.knowledge_bases() == ["default", "notes"] and len(notes.sources()) == 1


def test_unknown_existing_and_default_names_are_refused(home_with_notes):
    bot, notes = home_with_notes
    settings = bot.settings
    for attempt in (lambda: bot.with_kb("nope"), lambda: kb.delete(settings, "nope"),
                    lambda: Assistant.open(home=settings.home, kb="nope", embedder=bot.embedder)):
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
    assert bot.knowledge_bases() == ["default", "notes"] and len(notes.sources()) == 1
    assert "assistant_kb_nope" not in bot.store.namespaces()


def test_uploads_go_to_the_bases_folder_and_delete_drops_it_all(home_with_notes, tmp_path):
    from assistant.uploads import ingest_uploads

    bot, notes = home_with_notes
    dropped = tmp_path / "ferry.txt"
    dropped.write_text("The Quentinville ferry leaves the harbour at nine every morning.")
    [result] = ingest_uploads(notes, [(dropped, "ferry.txt")]).files
    folder = tmp_path / "home" / "kb" / "notes"
    assert result.source == (folder / "uploads" / "ferry.txt").as_posix() and result.status == "added"
    assert bot.sources() == [] and not (tmp_path / "home" / "uploads").exists()
    kb.delete(bot.settings, "notes")
    assert bot.knowledge_bases() == ["default"] and not folder.exists()
    assert [n for n in bot.store.namespaces() if "notes" in n] == []
    with pytest.raises(MissingNamespace, match="The knowledge base 'notes' no longer exists"):
        notes.sources()  # an assistant opened before the delete says so, in one line
    assert notes.store.missing
    kb.create(bot.settings, "notes")  # the name is free again, and the new base starts empty
    assert bot.with_kb("notes").sources() == []
