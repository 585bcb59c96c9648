"""The chat UI without a browser: upload safety, rendering, the chat handler and its failures."""
from __future__ import annotations

from html import escape
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")

from assistant.answer import NOT_FOUND, Answer, Citation  # noqa: E402
from assistant.errors import StoreUnavailable  # noqa: E402
from ui import build_app, citations, panels, style, welcome  # noqa: E402
from ui.handlers import Handlers  # noqa: E402
from ui.uploads import (MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, destination, ingest_uploads, safe_name,  # noqa: E402
                        uploads_dir)
from vectorstore.records import Chunk, DocumentRecord, Hit  # noqa: E402

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."


def _answer(text="Putin denied it. [1]", sentence="Putin denied it.", passage="Before. Putin denied it. After."):
    c = Citation(n=1, source="/docs/a.txt", title="A <b>title</b>", text=passage, sentence=sentence, start=10,
                 end=10 + len(passage), score=0.5, chunk_id="c1")
    hit = Hit(Chunk("c1", "d", "/docs/a.txt", "A", 0, 10, 10 + len(passage), passage), 0.03, 1, 2)
    return Answer(question="Who denied it?", text=text, citations=(c,), query="Who denied it?", hits=(hit,))


def _drain(gen):
    return list(gen)


# ---- upload names and limits ------------------------------------------------------------
@pytest.mark.parametrize("given, expected", [
    ("../../etc/passwd", "passwd"),
    ("/etc/shadow.txt", "shadow.txt"),
    ("..\\..\\windows\\win.ini.txt", "win.ini.txt"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    (".bashrc.md", "bashrc.md"),
    ("..", "upload"),
    ("", "upload"),
    ("a\x00b\nc.txt", "abc.txt"),
    ("bad<>:|?*\"name.txt", "bad_name.txt"),
    ("résumé 2024 (final).docx", "résumé 2024 (final).docx"),
])
def test_safe_name(given, expected):
    assert safe_name(given) == expected


def test_upload_names_never_escape_the_uploads_folder(tmp_path):
    folder = uploads_dir(tmp_path).resolve()
    nasty = ["../x.txt", "../../../../tmp/evil.txt", "/abs/olute.txt", "a/../../b.txt", "....//....//c.txt",
             "\\..\\d.txt", "%2e%2e%2fe.txt", "~/.ssh/id_rsa", "con:.txt", "x" * 500 + ".txt", "\u202ertl.txt", " . "]
    for name in nasty:
        path = destination(tmp_path, name)
        assert path.parent.resolve() == folder, name
        assert len(path.name) <= 120 and not path.name.startswith(".")


def test_ingest_uploads_reports_each_file_and_loses_nothing(make_assistant, tmp_path):
    bot = make_assistant()
    keep = tmp_path / "keep.txt"
    keep.write_text("The lighthouse keeper of Varnholm collects blue glass bottles.")
    bot.ingest([keep])
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "zorblat.txt"
    good.write_text(ZORB)
    exe = incoming / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    pdf = incoming / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.4\nnot really a pdf")
    big = incoming / "huge.txt"
    with open(big, "wb") as f:  # sparse: costs no disk
        f.truncate(MAX_UPLOAD_BYTES + 1)

    results = ingest_uploads(bot, [(good, "../../zorblat.txt"), (exe, "tool.exe"), (pdf, "broken.pdf"),
                                   (big, "huge.txt")])

    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["zorblat.txt", "tool.exe", "broken.pdf", "huge.txt"]
    assert by_name["zorblat.txt"].status == "added"
    assert by_name["zorblat.txt"].source == (uploads_dir(bot.settings.home).resolve() / "zorblat.txt").as_posix()
    assert by_name["tool.exe"].status == "failed" and "unsupported file type '.exe'" in by_name["tool.exe"].error
    assert by_name["broken.pdf"].status == "failed" and "not a valid PDF" in by_name["broken.pdf"].error
    assert by_name["huge.txt"].status == "failed"
    assert f"over the {MAX_UPLOAD_MB} MB upload limit" in by_name["huge.txt"].error
    indexed = {r.source for r in bot.sources()}
    assert indexed == {keep.resolve().as_posix(), by_name["zorblat.txt"].source}
    # refused and failed files leave nothing behind in the uploads folder
    assert sorted(p.name for p in uploads_dir(bot.settings.home).iterdir() if not p.name.startswith(".")) == \
        ["zorblat.txt"]
    assert "March" in bot.ask("When is the zorblat festival held?").text


def test_a_failed_reupload_keeps_the_earlier_version(make_assistant, tmp_path):
    bot = make_assistant()
    first = tmp_path / "notes.txt"
    first.write_text(ZORB)
    [added] = ingest_uploads(bot, [(first, "notes.txt")])
    again = tmp_path / "again" / "notes.txt"
    again.parent.mkdir()
    again.write_bytes(b"")  # empty: fails to ingest

    [result] = ingest_uploads(bot, [(again, "notes.txt")])

    assert result.status == "failed" and "empty" in result.error
    assert Path(added.source).read_text() == ZORB  # the copy on disk is the earlier one again
    assert [r.source for r in bot.sources()] == [added.source]


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
def test_build_app_returns_unlaunched_blocks(sample_bot):
    app = build_app(sample_bot)
    assert isinstance(app, gr.Blocks) and not app.is_running
    assert app.title == welcome.TITLE and "Docs Assistant" in app.title
    assert not app.analytics_enabled


def test_empty_message_is_not_sent(sample_bot):
    on = Handlers(sample_bot)
    for empty in ("", "   ", "\n\t", None):
        with pytest.raises(gr.Error) as caught:
            on.accept(empty)
        assert not caught.value.visible  # no toast either: Enter on an empty box simply does nothing
        updates = _drain(on.respond(empty, [], [], []))
        assert len(updates) == 1 and all(u == gr.skip() for u in updates[0])
    assert on.accept("  Who denied involvement? ") == ("", "Who denied involvement?")


def test_a_turn_streams_then_keeps_history_for_follow_ups(sample_bot):
    on = Handlers(sample_bot)
    updates = _drain(on.respond("Who denied involvement?", [], [], [], 6, None, "extractive"))
    assert "Searching your documents" in updates[0][0][-1]["content"]
    messages, history, answers, why, viewer = updates[-1]
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
def test_answerer_failure_is_a_readable_message_and_the_chat_goes_on(sample_bot, exc, shown):
    on = Handlers(sample_bot)
    on.answerers._views = {sample_bot.settings.answer.kind: _Broken(sample_bot, exc)}
    updates = _drain(on.respond("Who denied involvement?", [], [], []))
    html = updates[-2][0][-1]["content"]
    assert shown in html and 'role="alert"' in html
    assert "Traceback" not in html and "secret internals" not in html
    assert updates[-1][1] == []  # a failed turn is not history
    on.answerers._views = {sample_bot.settings.answer.kind: sample_bot}
    again = _drain(on.respond("Who denied involvement?", updates[-2][0], updates[-1][1], updates[-1][2]))
    assert "cite-ref" in again[-2][0][-1]["content"]


def test_empty_store_explains_how_to_add_documents(make_assistant):
    bot = make_assistant()
    on = Handlers(bot)
    html = _drain(on.respond("Who denied involvement?", [], [], []))[-2][0][-1]["content"]
    assert "Nothing is indexed yet" in html and "Error" not in html
    header, sources, _, _, chat = on.refresh()
    assert "No documents indexed yet" in header and "assistant ingest PATH" in sources
    assert isinstance(build_app(bot), gr.Blocks)


def test_open_link_only_shows_indexed_documents(sample_bot):
    on = Handlers(sample_bot)
    source = sample_bot.sources()[0].source
    html = on.open(gr.EventData(None, {"link": citations.open_link(source, 0, 50)[1:]}))[0]
    assert 'class="passage"' in html and "doc-text" in html
    html = on.open(gr.EventData(None, {"link": "open=%2Fetc%2Fpasswd"}))[0]
    assert "no longer indexed" in html and "root:" not in html


def test_settings_passages_and_source_filter_reach_the_answerer(sample_bot):
    on = Handlers(sample_bot)
    only = next(r.source for r in sample_bot.sources() if r.source.endswith("001_0c9caba1aff1c6c0.txt"))
    answers = _drain(on.respond("Who denied involvement?", [], [], [], 2, [only], None))[-1][2]
    assert len(answers[0].hits) <= 2 and {h.chunk.source for h in answers[0].hits} == {only}


def test_answerer_choice_switches_the_answerer(sample_bot):
    on = Handlers(sample_bot)
    top = on.answerers.get("top-passage")
    assert top is not sample_bot and top.store is sample_bot.store
    answer = top.ask("Who denied involvement?")
    assert answer.citations[0].sentence == answer.citations[0].text  # the baseline cites whole passages


def test_remove_deletes_an_uploaded_copy(make_assistant, tmp_path):
    bot = make_assistant()
    src = tmp_path / "zorblat.txt"
    src.write_text(ZORB)
    [added] = ingest_uploads(bot, [(src, "zorblat.txt")])
    line = Handlers(bot).remove(added.source)[0]
    assert "removed" in line and not Path(added.source).exists() and src.exists()
    assert bot.sources() == []


def test_upload_handler_returns_per_file_results(make_assistant, tmp_path):
    bot = make_assistant()
    good, bad = tmp_path / "zorblat.txt", tmp_path / "x.exe"
    good.write_text(ZORB)
    bad.write_bytes(b"MZ")
    out = Handlers(bot).upload([str(good), str(bad)], progress=lambda *a, **k: None)
    assert out[0] is None  # the drop zone is emptied for the next files
    assert 'class="added"' in out[1] and 'class="failed"' in out[1] and "unsupported file type" in out[1]
    assert "1 document" in out[2]


def test_launch_defaults_refuse_big_uploads_and_keep_the_look(sample_bot, monkeypatch):
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, *a, **k: seen.update(k))
    build_app(sample_bot).launch(prevent_thread_lock=True)
    assert seen["max_file_size"] == MAX_UPLOAD_BYTES and seen["css"] == style.CSS
    assert seen["theme"].font == style.theme().font


# ---- uploads: duplicate and long names, runs that died ------------------------------------
def test_two_uploads_with_one_name_are_not_silently_merged(make_assistant, tmp_path):
    bot = make_assistant()
    first, second, third = (tmp_path / str(n) for n in range(3))
    for folder in (first, second, third):
        folder.mkdir()
    (first / "x.txt").write_text(ZORB)
    (second / "x.txt").write_text("The Quentinville ferry leaves at nine.")
    (third / "x.txt").write_text("A third note about the harbour.")
    results = ingest_uploads(bot, [(first / "x.txt", "x.txt"), (second / "x.txt", "x.txt"),
                                   (third / "x.txt", "notes/x.txt")])
    assert [(r.name, r.status) for r in results] == [("x.txt", "added"), ("x.txt", "failed"), ("x.txt", "failed")]
    assert results[1].error == ("x.txt: another file in this drop (x.txt) is also stored as x.txt; upload this one "
                                "on its own or rename it, so neither overwrites the other")
    assert Path(results[0].source).read_text() == ZORB
    assert [r.source for r in bot.sources()] == [results[0].source]


def test_a_name_too_long_for_the_file_system_is_shortened(make_assistant, tmp_path):
    bot = make_assistant()
    src = tmp_path / "note.txt"
    src.write_text(ZORB)
    name = "漢" * 300 + ".txt"  # 903 bytes: the file system allows 255
    [result] = ingest_uploads(bot, [(src, name)])
    assert result.status == "added", result.error
    stored = Path(result.source).name
    assert stored.endswith(".txt") and stored.startswith("漢") and len(stored.encode()) <= 200


DIE_MID_UPLOAD = """
import os, signal, sys
from assistant import Assistant
from ingest.progress import IngestProgress
from ui.uploads import ingest_uploads

class Die(IngestProgress):
    def file_started(self, source, chunks):  # copied and backed up, not yet committed
        os.kill(os.getpid(), signal.SIGKILL)

ingest_uploads(Assistant.open(home=sys.argv[1]), [(sys.argv[2], "notes.txt"), (sys.argv[3], "fresh.txt")],
               progress=Die())
"""


def test_uploads_of_a_run_that_died_are_cleaned_up(make_assistant, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    home = tmp_path / "home"
    bot = make_assistant(home=home)
    v1, v2, fresh, other = (tmp_path / name for name in ("v1.txt", "v2.txt", "fresh.txt", "other.txt"))
    v1.write_text(ZORB)
    v2.write_text("A second version of the notes that never got indexed.")
    fresh.write_text("A new upload the dying run never indexed.")
    other.write_text("The lighthouse keeper of Varnholm collects blue glass bottles.")
    [notes] = ingest_uploads(bot, [(v1, "notes.txt")])

    child = subprocess.run([sys.executable, "-c", DIE_MID_UPLOAD, str(home), str(v2), str(fresh)],
                           capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert child.returncode == -signal.SIGKILL, child.stderr
    folder = uploads_dir(home)
    assert (folder / "fresh.txt").exists() and (folder / "notes.txt").read_text() != ZORB  # what the crash left

    [added] = ingest_uploads(bot, [(other, "other.txt")])
    assert added.status == "added"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["notes.txt", "other.txt"]
    assert Path(notes.source).read_text() == ZORB  # the indexed version is the one on disk again
    assert list((folder / ".incoming").iterdir()) == []
    assert sorted(r.source for r in bot.sources()) == sorted([notes.source, added.source])
