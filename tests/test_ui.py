"""The chat UI without a browser: upload safety, rendering, the chat handler and its failures."""
from __future__ import annotations

from html import escape
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant.answer import NOT_FOUND, Answer, Citation  # noqa: E402
from assistant.errors import StoreUnavailable  # noqa: E402
from assistant.settings import TOP_K_MAX  # noqa: E402
from ui import build_app, citations, panels, style, welcome  # noqa: E402
from ui.conversations import Thread  # noqa: E402
from ui.handlers import Handlers  # noqa: E402
from assistant.uploads import ingest_uploads, max_upload_bytes  # noqa: E402
from vectorstore.records import Chunk, DocumentRecord, Hit  # noqa: E402

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."


def _answer(text="Putin denied it. [1]", sentence="Putin denied it.", passage="Before. Putin denied it. After."):
    c = Citation(n=1, source="/docs/a.txt", title="A <b>title</b>", text=passage, sentence=sentence, start=10,
                 end=10 + len(passage), score=0.5, chunk_id="c1")
    hit = Hit(Chunk("c1", "d", "/docs/a.txt", "A", 0, 10, 10 + len(passage), passage), 0.03, 1, 2)
    return Answer(question="Who denied it?", text=text, citations=(c,), query="Who denied it?", hits=(hit,))


def _drain(gen):
    return list(gen)


@pytest.fixture(autouse=True)
def _own_history(own_history):
    """Every test here saves its conversations in a file of its own (conftest.own_history)."""


# ---- rendering ----------------------------------------------------------------------------
def test_answer_html_links_markers_and_highlights_the_sentence():
    html = citations.answer_html(_answer(), turn=3)
    assert '<a class="cite-ref" href="#cite-3-1"' in html and ">[1]</a>" in html
    assert '<details class="cite" id="cite-3-1">' in html
    assert "Before. <mark>Putin denied it.</mark> After." in html
    assert "A &lt;b&gt;title&lt;/b&gt;" in html and "<b>title</b>" not in html
    assert "open=%2Fdocs%2Fa.txt&amp;p=10-41&amp;s=18-34" in html  # the sentence's offsets in the document


def test_short_answer_is_a_bold_first_line_above_the_cited_sentences():
    from dataclasses import replace

    html = citations.answer_html(replace(_answer(), short="Putin <b>"), turn=0)
    first, text = html.index('<p class="short"><strong>Putin &lt;b&gt;</strong></p>'), html.index('<p class="text">')
    assert first < text and "Putin <b>" not in html  # escaped like all document text
    assert 'class="short"' not in citations.answer_html(_answer(), turn=0)  # none found: no line


def test_the_short_answer_is_bold_inside_the_highlighted_sentence_of_citation_1():
    from dataclasses import replace

    # The passage starts at document offset 10; "Putin" is at 18-23 in the document.
    html = citations.answer_html(replace(_answer(), short="Putin", short_start=18, short_end=23), turn=0)
    assert "Before. <mark><strong>Putin</strong> denied it.</mark> After." in html
    # Offsets outside the sentence (a stale answer) are not drawn.
    html = citations.answer_html(replace(_answer(), short="Before", short_start=10, short_end=16), turn=0)
    assert "<mark>Putin denied it.</mark>" in html and "<strong>Before</strong>" not in html.split('class="cites"')[1]


def test_document_text_is_escaped_everywhere():
    evil = '<img src=x onerror="alert(1)"> Putin denied it. [2] <script>x()</script>'
    answer = _answer(text=evil + " [1]", sentence="Putin denied it.", passage=evil)
    html = citations.answer_html(answer, turn=0) + panels.why_html(answer)
    html += panels.document_html(DocumentRecord("d", "/docs/<a>.txt", "<t>", "", 1, 0, 0, "x" * 10 + evil),
                                 (10, 10 + len(evil)), (40, 56))
    for raw in ("<img", "<script", "<t>", "<a>.txt"):
        assert raw not in html
    assert "[2]" in html and 'href="#cite-0-2"' not in html  # a marker with no citation stays text


def test_abstention_says_so_and_shows_the_closest_passages():
    hit = _answer().hits[0]
    html = citations.answer_html(Answer(question="q", text=NOT_FOUND, abstained=True, hits=(hit,) * 5), 0)
    assert "Not found" in html and escape(NOT_FOUND) in html
    assert html.count('class="cite closest"') == citations.CLOSEST
    assert "Closest passages" in html


def test_document_view_marks_the_passage_and_sentence():
    text = "Intro line.\nThe Kremlin denied involvement. More text.\nEnd."
    record = DocumentRecord("d", "/docs/k.txt", "K", "", 1, 0, 0, text)
    s0 = text.index("The Kremlin")
    html = panels.document_html(record, (s0, text.index("End.")), (s0, s0 + len("The Kremlin denied involvement.")))
    assert '<span class="passage" id="doc-passage"><mark>The Kremlin denied involvement.</mark> More text.\n</span>' \
        in html
    long = DocumentRecord("d", "/docs/l.txt", "L", "", 1, 0, 0, "word " * 50_000)
    html = panels.document_html(long, (200_000, 200_010))
    assert "characters above" in html and "characters below" in html
    assert len(html) < panels.VIEW_WINDOW * 2


def test_sources_panel_lists_what_is_indexed_and_empty_store_says_how_to_add():
    rec = DocumentRecord("d", "/data/sample/003_e2e9fd2b9c1e80fc.txt", "Kremlin Denies", "", 6, 0, 1000.0)
    html = panels.sources_html([rec], now=1000.0 + 300)
    assert "Kremlin Denies" in html and "003_e2e9fd2b9c1e80fc.txt" in html and "6 passages" in html
    assert "5 min ago" in html
    assert "assistant ingest PATH" in panels.sources_html([])
    assert welcome.examples([rec])[0] == {"text": "Who denied involvement?"}
    assert welcome.examples([]) == [] and "Nothing indexed yet" in welcome.placeholder([])


def test_theme_loads_no_web_fonts():
    theme = style.theme()
    assert not [s for s in theme._stylesheets if s]  # a GoogleFont would add a stylesheet URL
    css = theme._get_theme_css()
    assert "googleapis" not in css and "@import" not in css and "url(http" not in css


# ---- the app and its handlers ------------------------------------------------------------
def test_build_app_returns_unlaunched_blocks(sample_assistant):
    app = build_app(sample_assistant)
    assert isinstance(app, gr.Blocks) and not app.is_running
    assert app.title == welcome.TITLE and "Docs Assistant" in app.title
    assert not app.analytics_enabled
    slider = next(block for block in app.blocks.values() if getattr(block, "elem_id", None) == "top-k")
    assert (slider.minimum, slider.maximum) == (1, TOP_K_MAX)  # the bounds of [retrieval] top_k, not a cap of its own


def test_empty_message_is_not_sent(sample_assistant):
    on = Handlers(sample_assistant)
    for empty in ("", "   ", "\n\t", None):
        with pytest.raises(gr.Error) as caught:
            on.accept(empty)
        assert not caught.value.visible  # no toast either: Enter on an empty box simply does nothing
        updates = _drain(on.respond(empty, [], [], []))
        assert len(updates) == 1 and all(u == gr.skip() for u in updates[0])
    assert on.accept("  Who denied involvement? ") == ("", "Who denied involvement?")


def test_a_turn_streams_then_keeps_history_for_follow_ups(sample_assistant):
    on = Handlers(sample_assistant)
    updates = _drain(on.respond("Who denied involvement?", [], [], [], 6, None, "extractive"))
    assert "Searching your documents" in updates[0][0][-1]["content"]
    messages, history, answers, why, viewer, thread, note = updates[-1]
    final_html = updates[-2][0][-1]["content"]
    assert '<a class="cite-ref" href="#cite-0-1"' in final_html and "<mark>" in final_html
    assert messages == gr.skip() and history[0][0] == "Who denied involvement?" and "[1]" in history[0][1]
    assert isinstance(answers[0], Answer) and "Dense" in why and "<mark>" in viewer
    follow = _drain(on.respond("Why did they deny it?", updates[-2][0], history, answers))
    assert len(follow[-1][1]) == 2 and follow[-1][2][1].query != "Why did they deny it?"  # rewritten
    assert 'href="#cite-1-1"' in follow[-2][0][-1]["content"]  # a second turn gets its own citation ids


class _Broken:
    """An assistant whose store went away (or that hits a bug) mid-question."""

    def __init__(self, real, exc):
        self._real, self._exc = real, exc
        self.settings = real.settings

    def stream(self, *a, **k):
        raise self._exc

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.mark.parametrize("exc, shown", [
    (StoreUnavailable("Cannot reach the Chroma server at http://127.0.0.1:1: start it with `chroma run`"),
     "Cannot reach the Chroma server at http://127.0.0.1:1"),
    (RuntimeError("secret internals"), "Something went wrong while answering (RuntimeError)"),
])
def test_answerer_failure_is_a_readable_message_and_the_chat_goes_on(sample_assistant, exc, shown):
    on = Handlers(sample_assistant)
    key = (sample_assistant.kb.name, sample_assistant.settings.answer.kind)
    on.bases._views[key] = _Broken(sample_assistant, exc)
    updates = _drain(on.respond("Who denied involvement?", [], [], []))
    html = updates[-2][0][-1]["content"]
    assert shown in html and 'role="alert"' in html
    assert "Traceback" not in html and "secret internals" not in html
    assert updates[-1][1] == []  # a failed turn is not history
    del on.bases._views[key]
    again = _drain(on.respond("Who denied involvement?", updates[-2][0], updates[-1][1], updates[-1][2]))
    assert "cite-ref" in again[-2][0][-1]["content"]


def test_empty_store_explains_how_to_add_documents(make_assistant):
    assistant = make_assistant()
    on = Handlers(assistant)
    html = _drain(on.respond("Who denied involvement?", [], [], []))[-2][0][-1]["content"]
    assert "Nothing is indexed yet" in html and "Error" not in html
    header, sources, _, _, chat, picker = on.refresh()
    assert "No documents indexed yet" in header and "assistant ingest PATH" in sources
    assert picker.choices == [("default", "default")] and not picker.visible  # one knowledge base: no picker
    assert isinstance(build_app(assistant), gr.Blocks)


def test_open_link_only_shows_indexed_documents(sample_assistant):
    on = Handlers(sample_assistant)
    source = sample_assistant.sources()[0].source
    html = on.open(gr.EventData(None, {"link": citations.open_link(source, 0, 50)[1:]}))[0]
    assert 'class="passage"' in html and "doc-text" in html
    html = on.open(gr.EventData(None, {"link": "open=%2Fetc%2Fpasswd"}))[0]
    assert "no longer indexed" in html and "root:" not in html


def test_settings_passages_and_source_filter_reach_the_answerer(sample_assistant):
    on = Handlers(sample_assistant)
    only = next(r.source for r in sample_assistant.sources() if r.source.endswith("001_0c9caba1aff1c6c0.txt"))
    answers = _drain(on.respond("Who denied involvement?", [], [], [], 2, [only], None))[-1][2]
    assert len(answers[0].hits) <= 2 and {h.chunk.source for h in answers[0].hits} == {only}


def test_answerer_choice_switches_the_answerer(sample_assistant):
    from assistant.access import EVERYTHING

    on = Handlers(sample_assistant)
    top = on.bases.get(kind="top-passage", who=EVERYTHING)
    assert top is not sample_assistant and top.store is sample_assistant.store
    answer = top.ask("Who denied involvement?")
    assert answer.citations[0].sentence == answer.citations[0].text  # the baseline cites whole passages


def test_remove_deletes_an_uploaded_copy(make_assistant, tmp_path):
    assistant = make_assistant()
    src = tmp_path / "zorblat.txt"
    src.write_text(ZORB)
    [added] = ingest_uploads(assistant, [(src, "zorblat.txt")]).files
    line = Handlers(assistant).remove(added.source)[0]
    assert "removed" in line and not Path(added.source).exists() and src.exists()
    assert assistant.sources() == []


def test_upload_handler_returns_per_file_results(make_assistant, tmp_path):
    assistant = make_assistant()
    good, bad = tmp_path / "zorblat.txt", tmp_path / "x.exe"
    good.write_text(ZORB)
    bad.write_bytes(b"MZ")
    out = Handlers(assistant).upload([str(good), str(bad)], progress=lambda *a, **k: None)
    assert out[0] is None  # the drop zone is emptied for the next files
    assert 'class="added"' in out[1] and 'class="failed"' in out[1] and "unsupported file type" in out[1]
    assert "1 document" in out[2]


def test_launch_defaults_refuse_big_uploads_and_keep_the_look(sample_assistant, monkeypatch):
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, *a, **k: seen.update(k))
    build_app(sample_assistant).launch(prevent_thread_lock=True)
    assert seen["max_file_size"] == max_upload_bytes(sample_assistant.settings) == 25 * 1024 * 1024
    assert seen["css"] == style.CSS
    assert seen["theme"].font == style.theme().font


def test_the_knowledge_base_picker_moves_the_chat_sources_and_uploads(make_assistant, tmp_path):
    from assistant import kb

    assistant = make_assistant()
    assistant.ingest_texts([("ferry.txt", "The Quentinville ferry leaves the harbour at nine every morning.", "Ferry")])
    kb.create(assistant.settings, "notes")
    on = Handlers(assistant)
    picker = on.refresh()[-1]
    assert picker.visible and picker.choices == [("default", "default"), ("notes", "notes")] and \
        picker.value == "default"
    header, sources, _, source_filter, chat, history, answers, _, _, thread = on.switch("notes")
    assert "No documents indexed yet" in header and "Nothing indexed yet" in sources
    assert (chat.value, source_filter.value, history, answers, thread) == ([], [], [], [], Thread())  # a new one

    dropped = tmp_path / "zorblat.txt"
    dropped.write_text(ZORB)
    out = on.upload([str(dropped)], "notes", progress=lambda *a, **k: None)
    copy = assistant.settings.home / "kb" / "notes" / "uploads" / "zorblat.txt"
    assert 'class="added"' in out[1] and "1 document" in out[2] and copy.read_text() == ZORB
    assert [r.source for r in assistant.sources()] == ["ferry.txt"]  # the default base did not get it
    answer = _drain(on.respond("When is the zorblat festival held?", [], [], [], None, None, None, "notes"))[-1][2][0]
    assert "March" in answer.text and answer.citations[0].source == copy.as_posix()
    html = on.open(gr.EventData(None, {"link": citations.open_link(copy.as_posix(), 0, 10)[1:]}), "notes")[0]
    assert "purple llama" in html
    assert "no longer indexed" in on.open(gr.EventData(None, {"link": "open=ferry.txt"}), "notes")[0]
    assert "removed" in on.remove(copy.as_posix(), "notes")[0] and not copy.exists()

    kb.delete(assistant.settings, "notes")  # by another process, say: the page still shows it
    html = _drain(on.respond("When is the zorblat festival held?", [], [], [], None, None, None, "notes"))[-2][0]
    assert "The knowledge base &#x27;notes&#x27; no longer exists" in html[-1]["content"]
    assert "Traceback" not in str(html)
    html = _drain(on.respond("Anything?", [], [], [], None, None, None, "notes"))[-1][0][-1]["content"]
    assert "No knowledge base named &#x27;notes&#x27;" in html
    picker = on.refresh("notes")[-1]
    assert (picker.value, picker.visible) == ("default", False)  # back to the only one left
