"""Users and scopes (docs/access.md): one test per cell of the scopes table, through the real API server and the
real chat app (gradio_client), plus bad `[access]` settings refused at start-up."""
from __future__ import annotations

import html
import subprocess
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.access import ROUTES, SCOPES, outcome, scopes_table
from support import VENV_BIN, clean_env, free_port
from test_http import serving

ADMIN = "plain-admin-key-0123456789"  # a plain [server] api_keys key: everything
NAMES = {"read": "reader", "change": "writer", "nothing": "stranger"}  # the principal of each column
KEYS = {name: f"key-of-{name}-0123456789" for name in [*NAMES.values(), "blind"]}
PASSWORD = "correct-horse-battery"
ACCESS = {"reader": {"read": ["shared", "scratch"]}, "writer": {"change": ["shared", "scratch"]},
          "stranger": {"read": ["default"]}, "blind": {"read": []}}
FERRY = "The Quentinville ferry leaves the harbour at nine every morning."
QUESTION = "When does the ferry leave the harbour?"


@pytest.fixture(scope="module")
def world(tmp_path_factory, embedder):
    """A home with the knowledge base "shared" (FERRY), served by the API and the chat app with keys, users and
    [access] rules; `.api`, `.call(scope, ...)`, `.admin(...)`, `.client(scope)`, `.docs` (an ingest root)."""
    from assistant import Assistant, kb
    from ui import build_app

    root = tmp_path_factory.mktemp("scopes")
    docs = root / "docs"
    docs.mkdir()
    for scope in SCOPES:
        (docs / f"ingest-{scope}.txt").write_text(f"The {scope} lighthouse is painted red and white.")
    assistant = Assistant.open(home=root / "home", embedder=embedder, access=ACCESS,
                         server={"api_keys": [ADMIN], "named_keys": KEYS, "ingest_roots": [str(docs)]},
                         ui={"users": [f"{name}:{PASSWORD}" for name in NAMES.values()]})
    kb.create(assistant.settings, "shared")
    assistant.with_kb("shared").ingest_texts([("ferry.txt", FERRY, "Ferry")])
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               auth=assistant.settings.ui.accounts())
    clients: dict[str, Client] = {}

    def client(scope: str) -> Client:
        if scope not in clients:
            clients[scope] = Client(f"http://127.0.0.1:{port}/", auth=(NAMES[scope], PASSWORD), verbose=False)
        return clients[scope]

    try:
        with serving(assistant) as api:
            def call(who: str, method: str, path: str, **kwargs) -> httpx.Response:
                key = ADMIN if who == "admin" else KEYS[NAMES.get(who, who)]
                return httpx.request(method, f"{api}{path}", headers={"Authorization": f"Bearer {key}"},
                                     timeout=300, **kwargs)

            yield SimpleNamespace(api=api, call=call, admin=lambda *a, **k: call("admin", *a, **k), client=client,
                                  docs=docs, assistant=assistant)
    finally:
        app.close()


def refused(reply: httpx.Response, scope: str, change: bool = False, kb: str = "shared") -> None:
    """A 403 whose one line names who, what and which knowledge base."""
    assert (reply.status_code, reply.json()) == (403, {"error": _message(scope, change, kb)})


def _message(scope: str, change: bool = False, kb: str = "shared") -> str:
    name, action = NAMES[scope], "change" if change else "read"
    return f"{name} may not {action} the knowledge base {kb!r} ([access.{name}] {action} does not list it)"


def _sources(w) -> list[str]:
    reply = w.admin("GET", "/kb/shared/sources")
    assert reply.status_code == 200, reply.text
    return [r["source"] for r in reply.json()]


def _bases(w) -> list[str]:
    return [b["name"] for b in w.admin("GET", "/kb").json()]


# ---- one function per row: it does the action as the column's principal and checks the outcome ------------

def ask(w, scope, allowed):
    reply = w.call(scope, "POST", "/kb/shared/ask", json={"question": QUESTION})
    if not allowed:
        return refused(reply, scope)
    assert reply.status_code == 200 and reply.json()["citations"][0]["source"] == "ferry.txt", reply.text


def list_bases(w, scope, listed):
    reply = w.call(scope, "GET", "/kb")
    assert reply.status_code == 200 and ("shared" in [b["name"] for b in reply.json()]) == listed, reply.text


def list_models(w, scope, listed):
    reply = w.call(scope, "GET", "/v1/models")
    assert reply.status_code == 200 and ("extractive@shared" in [m["id"] for m in reply.json()["data"]]) == listed


def list_sources(w, scope, allowed):
    reply = w.call(scope, "GET", "/kb/shared/sources")
    if not allowed:
        return refused(reply, scope)
    assert reply.status_code == 200 and "ferry.txt" in [r["source"] for r in reply.json()]


def read_document(w, scope, allowed):
    reply = w.call(scope, "GET", "/kb/shared/documents/ferry.txt")
    if not allowed:
        return refused(reply, scope)
    assert reply.status_code == 200 and reply.json()["text"].startswith("The Quentinville ferry")


def openai_chat(w, scope, allowed):
    reply = w.call(scope, "POST", "/v1/chat/completions",
                   json={"model": "extractive@shared", "messages": [{"role": "user", "content": QUESTION}]})
    if not allowed:
        error = {"message": _message(scope), "type": "permission_error", "param": None, "code": None}
        assert (reply.status_code, reply.json()) == (403, {"error": error})
        return
    assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["citations"][0]["source"] == "ferry.txt"


def gradio_ask(w, scope, allowed):
    if not allowed:
        with pytest.raises(AppError) as err:
            w.client(scope).predict(question=QUESTION, kb="shared", api_name="/ask")
        assert str(err.value) == _message(scope)
        return
    answer = w.client(scope).predict(question=QUESTION, kb="shared", api_name="/ask")
    assert answer["citations"][0]["source"] == "ferry.txt"


def gradio_sources(w, scope, allowed):
    if not allowed:
        with pytest.raises(AppError) as err:
            w.client(scope).predict(kb="shared", api_name="/sources")
        assert str(err.value) == _message(scope)
        return
    assert "ferry.txt" in [r["source"] for r in w.client(scope).predict(kb="shared", api_name="/sources")]


def ingest(w, scope, allowed):
    path = str(w.docs / f"ingest-{scope}.txt")
    reply = w.call(scope, "POST", "/kb/shared/ingest", json={"paths": [path]})
    if not allowed:
        refused(reply, scope, change=True)
        assert path not in _sources(w)
        return
    assert reply.status_code == 200 and reply.json()["added"] == [path] and path in _sources(w)


def upload(w, scope, allowed):
    name = f"upload-{scope}.txt"
    reply = w.call(scope, "POST", "/kb/shared/documents",
                   files=[("files", (name, f"The {scope} bridge opens at noon.".encode(), "text/plain"))])
    if not allowed:
        refused(reply, scope, change=True)
        assert not [s for s in _sources(w) if s.endswith(name)]
        return
    assert reply.status_code == 200 and reply.json()["added"][0].endswith(name) and reply.json()["added"][0] in \
        _sources(w)


def remove(w, scope, allowed):
    added = w.admin("POST", "/kb/shared/documents",
                    files=[("files", (f"remove-{scope}.txt", b"The tower clock is slow.", "text/plain"))])
    source = added.json()["added"][0]
    reply = w.call(scope, "DELETE", f"/kb/shared/documents/{source}")
    if not allowed:
        refused(reply, scope, change=True)
        assert source in _sources(w)
        return
    assert (reply.status_code, reply.json()) == (200, {"removed": source}) and source not in _sources(w)


def create_base(w, scope, allowed):
    w.admin("DELETE", "/kb/scratch")  # 404 when it is not there: either way, it is not
    assert "scratch" not in _bases(w)
    reply = w.call(scope, "POST", "/kb", json={"name": "scratch"})
    if not allowed:
        refused(reply, scope, change=True, kb="scratch")
        assert "scratch" not in _bases(w)
        return
    assert (reply.status_code, reply.json()) == (201, {"name": "scratch", "documents": 0}) and "scratch" in _bases(w)


def delete_base(w, scope, allowed):
    w.admin("POST", "/kb", json={"name": "scratch"})  # 409 when it is there: either way, it is
    assert "scratch" in _bases(w)
    reply = w.call(scope, "DELETE", "/kb/scratch")
    if not allowed:
        refused(reply, scope, change=True, kb="scratch")
        assert "scratch" in _bases(w)
        return
    assert (reply.status_code, reply.json()) == (200, {"deleted": "scratch"}) and "scratch" not in _bases(w)


DO = {"ask": ask, "list bases": list_bases, "list models": list_models, "list sources": list_sources,
      "read a document": read_document, "OpenAI chat": openai_chat, "gradio_client ask": gradio_ask,
      "gradio_client sources": gradio_sources, "ingest": ingest, "upload": upload, "remove": remove,
      "create base": create_base, "delete base": delete_base}


@pytest.mark.parametrize("route, scope", [(route, scope) for route in ROUTES for scope in SCOPES],
                         ids=[f"{route.action}-{scope}" for route in ROUTES for scope in SCOPES])
def test_scopes_table_cell(world, route, scope):
    DO[route.action](world, scope, outcome(route, scope) in ("allowed", "listed"))


def test_the_docs_table_is_the_tested_one():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "access.md").read_text(encoding="utf-8")
    assert scopes_table() in docs, "docs/access.md is stale: paste assistant.access.scopes_table()"
    assert set(DO) == {route.action for route in ROUTES}, "each row of the table has its test"


# ---- around the table ------------------------------------------------------------------------------------------

def test_a_base_one_may_not_read_is_403_whether_it_exists_or_not(world):
    for kb in ("shared", "no-such-base"):
        refused(world.call("nothing", "GET", f"/kb/{kb}/sources"), "nothing", kb=kb)
    assert world.admin("GET", "/kb/no-such-base/sources").status_code == 404  # a plain key may do everything
    reply = world.call("blind", "GET", "/kb")
    assert (reply.status_code, reply.json()) == (403, {"error": "blind may read no knowledge base ([access.blind] "
                                                                "lists none)"})


def test_the_page_offers_a_user_only_the_bases_it_may_read(world):
    """The page's load and picker events, as Gradio calls them with the logged-in user's request."""
    import gradio as gr

    from ui.handlers import Handlers

    on = Handlers(world.assistant)
    picker = on.refresh("shared", SimpleNamespace(username="stranger"))[-1]
    assert (picker.choices, picker.value, picker.visible) == ([("default", "default")], "default", False)
    with pytest.raises(gr.Error) as err:
        on.switch("shared", SimpleNamespace(username="stranger"))
    assert err.value.message == _message("nothing")
    picker = on.refresh(None, SimpleNamespace(username="reader"))[-1]  # "scratch" too, when a cell above left it
    names = [name for name, _ in picker.choices]
    assert "shared" in names and "default" not in names and picker.value == names[0]  # not the process's own
    dropped = world.docs.parent / "dropped.txt"
    dropped.write_text("The old mill grinds wheat on Sundays.")
    results = on.upload([str(dropped)], "shared", progress=lambda *a, **k: None,
                        request=SimpleNamespace(username="reader"))[1]
    assert _message("read", change=True) in html.unescape(results)
    assert not [source for source in _sources(world) if source.endswith("dropped.txt")]


def test_who_owns_what_it_saves(world):
    from assistant.access import Access
    from assistant.settings import Settings

    access = Access(Settings(access=ACCESS, server={"api_keys": [ADMIN], "named_keys": KEYS},
                             ui={"users": [f"{name}:{PASSWORD}" for name in NAMES.values()]}))
    assert [access.for_key(key).name for key in (ADMIN, KEYS["reader"])] == ["api", "reader"]
    assert access.for_key("not-a-key") is None
    assert [access.for_user(name).name for name in ("writer", None)] == ["writer", "anonymous"]
    assert not access.for_user(None).may("default")
    assert Access(Settings()).for_user(None).name == "local"


@pytest.mark.parametrize("toml, error", [
    ('[ui]\nusers = ["alice:pw"]\n[access.carol]\nread = ["*"]\n',
     "[access.carol] names nobody: no [ui] users entry or [server] named_keys name is 'carol'"),
    ('[ui]\nusers = ["alice:pw"]\n[access.alice]\ndelete = ["notes"]\n',
     "access.alice: Value error, unknown action 'delete': a rule has read and change (docs/access.md)"),
    ('[ui]\nusers = ["alice:pw"]\n[access.""]\nread = ["notes"]\n', "an [access] rule has an empty name"),
])
def test_a_bad_rule_is_one_line_at_start_up(tmp_path, toml, error):
    config = tmp_path / "settings.toml"
    config.write_text(toml)
    done = subprocess.run([str(VENV_BIN / "assistant"), "--home", str(tmp_path), "--config", str(config), "serve",
                           "--port", str(free_port())], capture_output=True, text=True, timeout=120, env=clean_env())
    assert done.returncode == 1 and done.stderr.splitlines() == [f"Error: Invalid settings: {error}"
                                                                 if error.startswith("access.")
                                                                 else f"Error: Invalid settings: Value error, {error}"]
    assert not (tmp_path / "chroma").exists(), "refused before the store was opened"


@pytest.mark.parametrize("settings, error", [
    ({"ui": {"users": ["alice:pw"]}, "access": {"alice": {"read": ["Notes!"]}}},
     "access.alice.read: Value error, Invalid knowledge base name 'Notes!'"),
    ({"ui": {"users": ["local:pw"]}}, "Value error, 'local' is a reserved name"),
    ({"server": {"named_keys": {"api": "k"}}}, "Value error, 'api' is a reserved name"),
    ({"server": {"named_keys": {" ": "k"}}}, "server.named_keys: Value error, a named key's name is empty"),
    ({"server": {"named_keys": {"ci": " "}}}, "server.named_keys: Value error, an API key is empty"),
    ({"server": {"api_keys": ["k"], "named_keys": {"ci": "k"}}},
     "server: Value error, the same API key is given twice (api_keys, named_keys): each key is one caller"),
])
def test_other_bad_access_settings_are_one_line(tmp_path, settings, error):
    from assistant import ConfigError, Settings

    with pytest.raises(ConfigError) as err:
        Settings.load(home=tmp_path, **settings)
    assert str(err.value).startswith(f"Invalid settings: {error}") and "\n" not in str(err.value)
