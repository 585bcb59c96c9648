"""A long cleaned text is kept in pages beside its commit record: read whole, replaced whole, removed whole,
and never seen before its commit (real Chroma, the real model)."""
from __future__ import annotations

import pytest

from vectorstore.errors import StoreError
from vectorstore.store import PAGE_OF

PAGE = 120  # characters per page in these tests (the real one is a million)

SENTENCES = [f"Report {n} says the harbour at Vell handled {n * 7} ships in week {n}." for n in range(40)]


@pytest.fixture
def paged(monkeypatch):
    monkeypatch.setattr("vectorstore.store.documents.TEXT_PAGE", PAGE)


def _pages(assistant) -> dict[str, tuple[str, str, int]]:
    got = assistant.store._connection.docs.get(where={"page": {"$gte": 0}}, include=["metadatas"])
    return {i: (m[PAGE_OF], m["sha256"], m["page"]) for i, m in zip(got["ids"], got["metadatas"])}


def test_a_long_text_reads_back_whole_and_is_cited_from_a_later_page(make_assistant, paged, tmp_path):
    path = tmp_path / "harbour.txt"
    path.write_text("\n\n".join(SENTENCES) + "\n", encoding="utf-8")
    assistant = make_assistant()
    assistant.ingest([path])
    record = assistant.document("harbour.txt")
    assert len(record.text) > 10 * PAGE and record.text == "\n\n".join(SENTENCES)
    pages = _pages(assistant)
    assert len(pages) == -(-len(record.text) // PAGE)
    assert {sha for _, sha, _ in pages.values()} == {record.sha256}
    assert [r.source for r in assistant.sources()] == [record.source], "pages are not documents"
    assert assistant.store.documents_text([record.source])[record.source].text == record.text
    answer = assistant.ask("How many ships did the harbour at Vell handle in week 37?")
    assert "259" in answer.text
    cited = [c for c in answer.citations if "259" in c.sentence]
    assert cited and cited[0].start > 10 * PAGE and record.text[cited[0].start:cited[0].end] == cited[0].text


def test_replacing_or_removing_a_long_text_leaves_no_pages_behind(make_assistant, paged, tmp_path):
    path = tmp_path / "harbour.txt"
    path.write_text("\n\n".join(SENTENCES), encoding="utf-8")
    assistant = make_assistant()
    assistant.ingest([path])
    path.write_text("\n\n".join(reversed(SENTENCES)), encoding="utf-8")  # a new version, paged too
    assistant.ingest([path])
    record = assistant.document("harbour.txt")
    assert record.text == "\n\n".join(reversed(SENTENCES))
    assert {sha for _, sha, _ in _pages(assistant).values()} == {record.sha256}, "the older version's pages are gone"
    path.write_text("A short note now.", encoding="utf-8")  # short enough to stay in its record
    assistant.ingest([path])
    assert assistant.document("harbour.txt").text == "A short note now." and _pages(assistant) == {}
    path.write_text("\n\n".join(SENTENCES), encoding="utf-8")
    assistant.ingest([path])
    assert _pages(assistant)
    assistant.remove("harbour.txt")
    assert _pages(assistant) == {} and assistant.sources() == []


def test_pages_of_an_interrupted_commit_are_invisible_and_swept(make_assistant, paged, tmp_path):
    path = tmp_path / "harbour.txt"
    path.write_text("\n\n".join(SENTENCES), encoding="utf-8")
    assistant = make_assistant()
    real_upsert = assistant.store._connection.docs.upsert

    def stop_at_the_commit_record(ids, **kwargs):
        if not ids[0].startswith("__text__/"):
            raise KeyboardInterrupt  # Ctrl-C after the pages, before the record that makes them visible
        real_upsert(ids=ids, **kwargs)

    assistant.store._connection.docs.upsert = stop_at_the_commit_record
    with pytest.raises(KeyboardInterrupt):
        assistant.ingest([path])
    assistant.store._connection.docs.upsert = real_upsert
    assert _pages(assistant) and assistant.sources() == []
    assert assistant.store.sweep() > 0 and _pages(assistant) == {}, "the next ingest's sweep takes the pages too"
    assistant.ingest([path])
    assert assistant.document("harbour.txt").text == "\n\n".join(SENTENCES)


def test_a_missing_page_is_one_clear_error(make_assistant, paged):
    assistant = make_assistant()
    assistant.ingest_texts([("notes/long", "\n\n".join(SENTENCES))])
    assistant.store._connection.docs.delete(ids=[next(iter(_pages(assistant)))])
    with pytest.raises(StoreError, match=r"^notes/long: \d+ of its \d+ text pages are in the store; ingest it again$"):
        assistant.document("notes/long")


def test_a_record_written_before_pages_existed_still_reads(make_assistant):
    assistant = make_assistant()
    assistant.ingest_texts([("notes/old", "The ferry leaves at nine.")])
    got = assistant.store._connection.docs.get(ids=["notes/old"], include=["metadatas"])
    assert got["metadatas"][0]["pages"] == 0 and _pages(assistant) == {}
    old = {k: v for k, v in got["metadatas"][0].items() if k != "pages"}  # as stores made before pages hold it
    assistant.store._connection.docs.delete(ids=["notes/old"])
    assistant.store._connection.docs.upsert(ids=["notes/old"], documents=["The ferry leaves at nine."], embeddings=[[1.0]],
                           metadatas=[old])
    assert assistant.document("notes/old").text == "The ferry leaves at nine."
    assert assistant.store.documents_text(["notes/old"])["notes/old"].text == "The ferry leaves at nine."


def test_pages_on_a_chroma_server_are_shared_replaced_and_removed(make_assistant, paged, chroma_server):
    assistant = make_assistant(chroma_url=chroma_server.url)
    assistant.ingest_texts([("notes/long", "\n\n".join(SENTENCES))])
    other = make_assistant(chroma_url=chroma_server.url)  # another replica reads the pages too
    assert other.document("notes/long").text == "\n\n".join(SENTENCES)
    assistant.ingest_texts([("notes/long", "\n\n".join(SENTENCES[:20]))])
    assert other.document("notes/long").text == "\n\n".join(SENTENCES[:20])
    assert {sha for _, sha, _ in _pages(assistant).values()} == {assistant.document("notes/long").sha256}
    assistant.remove("notes/long")
    assert _pages(other) == {}
