"""The real app on the sample corpus, driven by Debian's Chromium through Playwright.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it unless REQUIRE_BROWSER=1 (CI).
bench/screenshots.py takes the README's screenshots.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
ANSWER_TIMEOUT = 180_000  # ms; a limit for a stuck test on a busy 2-core machine, not a speed assertion
ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama called Ferdinand."
LAST_ANSWER = '#chat [data-testid="bot"] >> nth=-1'


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(sample_home, embedder, tmp_path, request):
    """The real app on a private copy of the sample home, served on a free 127.0.0.1 port.

    Parametrized (indirect) with a name, the home also has a knowledge base of that name holding ZORB."""
    from assistant import Assistant, kb
    from ui import build_app

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    assistant = Assistant.open(home=home, embedder=embedder)
    if getattr(request, "param", None):
        kb.create(assistant.settings, request.param)
        assistant.with_kb(request.param).ingest_texts([("zorblat.txt", ZORB, "Zorblat")])
    app = build_app(assistant)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/", assistant=assistant, home=home)
    finally:
        app.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that records every request leaving 127.0.0.1 and every script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.outside, page.errors = [], []
    page.on("request", lambda r: page.outside.append(r.url)
            if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith(("data:", "blob:"))
            else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(server.url)
    page.wait_for_selector("#chat")
    yield page
    context.close()
    assert page.outside == [], "the UI must not reach the internet"
    assert page.errors == []


def _ask(page, question: str):
    """Type a question, press Enter, and wait until its answer is complete (citations or a notice)."""
    from playwright.sync_api import expect

    before = page.locator('#chat [data-testid="bot"]').count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(before + 1)
    answer = page.locator(LAST_ANSWER)
    answer.locator(".cites, .notice, .error").first.wait_for(timeout=ANSWER_TIMEOUT)
    return answer


def test_ask_streams_a_cited_answer_and_opens_the_citation(page, server):
    from playwright.sync_api import expect

    assert "Docs Assistant" in page.title()
    expect(page.get_by_role("button", name=re.compile("Who denied involvement"))).to_be_visible()
    # Enter on an empty box sends nothing: the only messages at the end are the real question's two
    with page.expect_response(lambda r: "/run/predict" in r.url and '[""]' in (r.request.post_data or "")):
        page.locator("#question textarea").press("Enter")
    page.evaluate("""() => { window.__seen = [];
        new MutationObserver(() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
          if (m.length) window.__seen.push(m[m.length - 1].innerText); })
        .observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")

    answer = _ask(page, "Who denied involvement?")

    expect(page.locator("#chat .message-row")).to_have_count(2)
    seen = page.evaluate("window.__seen")
    assert any("Searching your documents" in s for s in seen), "the answer arrives in steps, not all at once"
    text = answer.locator(".answer > p.text").inner_text()
    assert "[1]" in text and "denied" in text

    answer.locator("a.cite-ref", has_text="[1]").first.click()
    cite = answer.locator("details.cite").first
    expect(cite).to_have_attribute("open", "")
    sentence = cite.locator("blockquote mark").inner_text().strip()
    assert sentence and sentence in cite.locator("blockquote").inner_text()
    assert sentence in text  # the highlighted sentence is the one the answer cites

    cite.locator("a.open-doc").click()
    expect(page.locator("#viewer mark")).to_have_text(sentence)
    assert sentence in page.locator("#viewer .doc-text").inner_text()

    page.get_by_role("tab", name="Why this answer").click()
    expect(page.locator("#why table tbody tr").first).to_be_visible()
    assert "Dense" in page.locator("#why thead").text_content()


def test_upload_a_file_then_ask_what_only_it_answers(page, server, tmp_path):
    from playwright.sync_api import expect

    files = tmp_path / "files"
    files.mkdir()
    (files / "zorblat festival (2024).txt").write_text(ZORB)
    (files / "setup.exe").write_bytes(b"MZ\x90\x00")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in sorted(files.iterdir())])

    expect(page.locator("#upload-results li.added")).to_contain_text("zorblat festival (2024).txt",
                                                                     timeout=ANSWER_TIMEOUT)
    expect(page.locator("#upload-results li.failed")).to_contain_text("unsupported file type '.exe'")
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^6 documents"))
    expect(page.locator("#sources")).to_contain_text("zorblat festival (2024).txt")
    assert (server.home / "uploads" / "zorblat festival (2024).txt").read_text() == ZORB

    page.get_by_role("tab", name="Chat").click()
    answer = _ask(page, "When is the zorblat festival held?")
    assert "March" in answer.locator(".answer > p.text").inner_text()
    expect(answer.locator(".answer > p.short strong")).to_have_text(re.compile(r"^(every )?March$"))  # first
    expect(answer.locator("details.cite summary .src").first).to_contain_text("zorblat festival (2024).txt")

    # the sources list opens a whole document; removing the upload takes it out of the index
    page.get_by_role("tab", name="Documents").click()
    page.locator("#sources a.doc-title", has_text="zorblat").click()
    expect(page.locator("#viewer .doc-text")).to_contain_text("purple llama called Ferdinand")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#remove-box").get_by_text("Remove a document").click()
    page.locator("#remove-pick input").fill("zorblat")
    page.get_by_role("option", name=re.compile("zorblat")).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#remove").click()
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^5 documents"))
    assert not (server.home / "uploads" / "zorblat festival (2024).txt").exists()


def test_a_pdf_citation_shows_its_page_and_the_viewer_opens_there(page, server, tmp_path):
    """A PDF's citation says "p. 3" in the answer, and the document viewer opens on that page's mark."""
    from playwright.sync_api import expect
    from test_pages import QUESTION, REPORT, pdf_pages

    pdf = tmp_path / "harbour report.pdf"
    pdf.write_bytes(pdf_pages(REPORT))
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(pdf)])
    expect(page.locator("#upload-results li.added")).to_contain_text("harbour report.pdf", timeout=ANSWER_TIMEOUT)

    page.get_by_role("tab", name="Chat").click()
    answer = _ask(page, QUESTION)
    cite = answer.locator("details.cite").first
    expect(cite.locator("summary .src")).to_contain_text("harbour report.pdf")
    expect(cite.locator("summary .page")).to_have_text("p. 3")
    answer.locator("a.cite-ref", has_text="[1]").first.click()
    cite.locator("a.open-doc").click()
    expect(page.locator("#viewer #doc-page-3")).to_have_text("p. 3")
    sentence = cite.locator("blockquote mark").inner_text().strip()
    expect(page.locator("#viewer mark")).to_have_text(sentence)


def test_on_a_phone_the_conversations_sidebar_starts_closed_and_the_chat_works(browser, server):
    """At phone width the sidebar would cover the chat: it starts closed, and opens with its toggle."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#chat")
        expect(page.locator("#conversations-bar")).not_to_have_class(re.compile(r"\bopen\b"))
        answer = _ask(page, "Who denied involvement?")
        answer.locator("a.cite-ref", has_text="[1]").first.click()  # nothing covers the chat
        expect(answer.locator("details.cite").first).to_have_attribute("open", "")
        page.locator("#conversations-bar .toggle-button").click()
        expect(page.locator("#conversations-bar")).to_have_class(re.compile(r"\bopen\b"))
    finally:
        context.close()


def test_an_upload_over_the_size_limit_is_refused(page, server, tmp_path):
    from playwright.sync_api import expect

    from assistant.settings import IngestSettings

    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (int(IngestSettings().max_upload_mb * 1024 * 1024) + 1))
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(big))
    expect(page.get_by_text(re.compile("exceed the maximum allowed size"))).to_be_visible()
    assert not (server.home / "uploads" / "big.txt").exists()
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^5 documents"))


@pytest.mark.parametrize("server", ["notes"], indirect=True)
def test_the_knowledge_base_picker_moves_the_chat_and_the_documents(page, server, tmp_path):
    from playwright.sync_api import expect

    expect(page.locator("#index-status")).to_have_text(re.compile(r"^5 documents"))
    page.locator("#kb input").click()
    page.get_by_role("option", name="notes").click()
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^1 document · 1 passage"))
    answer = _ask(page, "When is the zorblat festival held?")
    expect(answer.locator(".answer > p.short strong")).to_have_text(re.compile(r"^(every )?March$"))
    answer.locator("details.cite").first.locator("summary").click()
    answer.locator("details.cite").first.locator("a.open-doc").click()
    expect(page.locator("#viewer .doc-text")).to_contain_text("purple llama called Ferdinand")

    (tmp_path / "ferry.txt").write_text("The Quentinville ferry leaves the harbour at nine every morning.")
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#sources")).to_contain_text("Zorblat")
    page.locator("#upload input[type=file]").set_input_files(str(tmp_path / "ferry.txt"))
    expect(page.locator("#upload-results li.added")).to_contain_text("ferry.txt", timeout=ANSWER_TIMEOUT)
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^2 documents"))
    assert (server.home / "kb" / "notes" / "uploads" / "ferry.txt").is_file()

    page.locator("#kb input").click()
    page.get_by_role("option", name="default").click()  # back: the chat starts again, on the sample
    expect(page.locator("#index-status")).to_have_text(re.compile(r"^5 documents"))
    expect(page.locator("#chat .message-row")).to_have_count(0)
    expect(page.locator("#sources")).not_to_contain_text("ferry.txt")


def test_with_users_the_login_page_loads_and_the_app_works_after_it(browser, sample_home, embedder, own_history):
    """The login gate (ui/login.py) leaves open all the login page needs: not one request of it is refused."""
    from assistant import Assistant
    from ui import build_app

    app = build_app(Assistant.open(home=sample_home, embedder=embedder))
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               auth=[("alice", "correct-horse-battery")])
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        refused, errors = [], []
        page = _login(context, f"http://127.0.0.1:{port}/", "alice", "correct-horse-battery", refused, errors)
        assert "denied" in _ask(page, "Who denied involvement?").locator(".answer > p.text").inner_text()
        assert (refused, errors) == ([], [])
    finally:
        context.close()
        app.close()


def _login(context, url: str, user: str, password: str, refused: list, errors: list):
    """A new page of `context` logged in as `user`; every refused response and script error is recorded."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#chat")
    return page


@pytest.mark.parametrize("server", ["notes"], indirect=True)
def test_a_second_user_does_not_see_a_base_it_may_not_read(browser, server, embedder):
    """alice (no rule) sees both bases; bob, whose rule reads "notes" only, never sees the default one."""
    from playwright.sync_api import expect

    from assistant import Assistant
    from ui import build_app

    assistant = Assistant.open(home=server.home, embedder=embedder, ui={"users": ["alice:pw-a", "bob:pw-b"]},
                         access={"bob": {"read": ["notes"]}})
    titles = [r.title for r in assistant.sources()]  # the default base's (the sample's)
    app = build_app(assistant)
    port = _free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               auth=assistant.settings.ui.accounts())
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
    try:
        refused, errors = [], []
        alice = _login(contexts[0], f"http://127.0.0.1:{port}/", "alice", "pw-a", refused, errors)
        expect(alice.locator("#index-status")).to_have_text(re.compile(r"^5 documents"))
        alice.locator("#kb input").click()
        expect(alice.get_by_role("option")).to_have_text([re.compile(r"default$"), re.compile(r"notes$")])

        bob = _login(contexts[1], f"http://127.0.0.1:{port}/", "bob", "pw-b", refused, errors)
        expect(bob.locator("#index-status")).to_have_text(re.compile(r"^1 document · 1 passage"))
        expect(bob.locator("#kb")).to_be_hidden()  # one base to read: no picker
        answer = _ask(bob, "When is the zorblat festival held?")
        expect(answer.locator(".answer > p.short strong")).to_have_text(re.compile(r"^(every )?March$"))
        bob.get_by_role("tab", name="Documents").click()
        expect(bob.locator("#sources")).to_contain_text("Zorblat")
        config = contexts[1].request.get(f"http://127.0.0.1:{port}/config")  # the page as built, with bob's login
        assert config.ok and "Zorblat" not in config.text(), "the page is built empty, filled as it loads"
        for html in (bob.content(), config.text()):
            assert titles and not [title for title in titles if title in html], "bob sees nothing of the default base"
        assert (refused, errors) == ([], [])
    finally:
        for context in contexts:
            context.close()
        app.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
