"""Saved conversations in a real Chromium against a real `assistant chat` process with users alice and bob: a turn
survives a reload and a server restart; rename, search, delete; a thumbs-down with a comment is stored; bob never
sees alice's conversations. One server for the module (restarted once, on the same port)."""
from __future__ import annotations

import re
import shutil

import pytest

from support import ChatServer, clean_env
from test_browser import ANSWER_TIMEOUT, LAST_ANSWER, _ask, browser  # noqa: F401  (browser: the fixture)

pytestmark = pytest.mark.browser

USERS = {"alice": "alice-long-password", "bob": "bob-long-password"}
ITEMS = "#conversations label"


@pytest.fixture(scope="module")
def chat(tmp_path_factory, sample_home):
    """`assistant chat` with users alice and bob on a private copy of the sample home (no conversations yet)."""
    from assistant.history import FILE_NAME

    home = tmp_path_factory.mktemp("talks") / "home"
    shutil.copytree(sample_home, home, ignore=shutil.ignore_patterns(f"{FILE_NAME}*"))
    users = ",".join(f"{name}:{password}" for name, password in USERS.items())
    server = ChatServer(home, env=clean_env(ASSISTANT_UI_USERS=users, GRADIO_ANALYTICS_ENABLED="False"))
    server.history_path = home / FILE_NAME
    yield server
    server.stop()


@pytest.fixture
def context(browser, chat):  # noqa: F811
    """A fresh browser profile (its own storage and cookies) that fails the test on any script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.errors = []
    yield context
    context.close()
    assert context.errors == []


def _login(context, chat, user: str, page=None):
    page = page or context.new_page()
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda e: context.errors.append(str(e)))
    page.goto(chat.url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(USERS[user])
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#chat")
    return page


def _history(chat):
    from assistant.history import History

    return History(chat.history_path)


def test_a_turn_survives_a_reload_and_a_server_restart(context, chat):
    from playwright.sync_api import expect

    page = _login(context, chat, "alice")
    answer = _ask(page, "Who denied involvement?")
    said = answer.locator(".answer > p.text").inner_text()
    expect(page.locator(ITEMS, has_text="Who denied involvement?")).to_have_count(1)

    page.reload()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(1)
    expect(page.locator(LAST_ANSWER).locator(".answer > p.text")).to_have_text(said)
    expect(page.locator(ITEMS, has_text="Who denied involvement?").locator("input")).to_be_checked()

    chat.restart()
    _login(context, chat, "alice", page)  # the login does not survive a restart; the conversation does
    expect(page.locator(LAST_ANSWER).locator(".answer > p.text")).to_have_text(said, timeout=ANSWER_TIMEOUT)
    cite = page.locator(LAST_ANSWER).locator("details.cite").first  # a saved citation opens its passage
    cite.locator("summary").click()
    sentence = cite.locator("blockquote mark").inner_text().strip()
    cite.locator("a.open-doc").click()
    expect(page.locator("#viewer mark")).to_have_text(sentence)
    [saved] = [c for c in _history(chat).conversations("alice") if c.title == "Who denied involvement?"]
    assert saved.count == 1


def test_rename_search_and_delete(context, chat):
    from playwright.sync_api import expect

    page = _login(context, chat, "alice")
    _ask(page, "What did Assange release?")
    expect(page.locator(ITEMS, has_text="What did Assange release?")).to_have_count(1)
    page.locator("#conversation-tools").get_by_text("This conversation").click()
    page.locator("#conversation-title input").fill("Zebra notes")
    page.locator("#rename-conversation").click()
    expect(page.locator(ITEMS, has_text="Zebra notes")).to_have_count(1)
    assert any(c.title == "Zebra notes" for c in _history(chat).conversations("alice"))

    search = page.locator("#conversation-search input")
    search.press_sequentially("zebra")  # as typed: each key asks again
    expect(page.locator(ITEMS)).to_have_count(1)
    expect(page.locator(ITEMS)).to_contain_text("Zebra notes")
    search.fill("")
    search.press("Enter")
    expect(page.locator(ITEMS, has_text="Who denied involvement?")).not_to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-conversation").click()
    expect(page.locator(ITEMS, has_text="Zebra notes")).to_have_count(0)
    expect(page.locator("#chat .message-row")).to_have_count(0)
    assert not any(c.title == "Zebra notes" for c in _history(chat).conversations("alice"))


def test_a_thumbs_down_with_a_comment_is_stored_with_the_turn(context, chat):
    from playwright.sync_api import expect

    page = _login(context, chat, "alice")
    page.locator("#new-conversation").click()
    _ask(page, "What did the Kremlin say about WikiLeaks?")
    page.locator("#chat button[aria-label=Dislike]").last.click()
    expect(page.locator("#feedback-line")).to_contain_text("Saved 👎")
    page.locator("#feedback-comment textarea").fill("It should quote Peskov.")
    page.locator("#feedback-save").click()
    expect(page.locator("#feedback-line")).to_contain_text("Comment saved")
    [saved] = [c for c in _history(chat).conversations("alice", "Kremlin WikiLeaks")
               if c.title == "What did the Kremlin say about WikiLeaks?"]
    [turn] = _history(chat).conversation("alice", saved.id).turns
    assert (turn.rating, turn.comment) == (-1, "It should quote Peskov.")


def test_bob_sees_none_of_alices_conversations_even_in_her_browser(context, chat):
    from playwright.sync_api import expect

    page = _login(context, chat, "alice")
    _ask(page, "Who is Peskov?")  # this browser now keeps alice's open conversation
    expect(page.locator(ITEMS, has_text="Who is Peskov?")).to_have_count(1)
    page.goto(chat.url + "logout")
    _login(context, chat, "bob", page)
    expect(page.locator("#conversations")).to_contain_text("None yet")
    expect(page.locator(ITEMS)).to_have_count(0)
    expect(page.locator("#chat .message-row")).to_have_count(0)  # her conversation did not open for him
    assert _history(chat).conversations("bob") == []
    assert re.search("Peskov", " ".join(c.title for c in _history(chat).conversations("alice")))
