"""The chat UI's login: `[ui] users` becomes Gradio's auth; without users it stays on this machine."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support import clean_env, free_port

gr = pytest.importorskip("gradio")

BIN = Path(sys.executable).parent / "assistant"
REFUSAL = ("without a login: anyone who can reach it could read and change your index. Set users "
           "(ASSISTANT_UI_USERS=alice:some-long-password, or [ui] users), or pass --insecure")


@pytest.mark.parametrize("args, where", [(["--host", "0.0.0.0"], "0.0.0.0"), (["--host", "192.168.1.10"],
                                                                               "192.168.1.10"),
                                         (["--share"], "a public share link")])
def test_chat_beyond_loopback_needs_users(tmp_path, args, where):
    done = subprocess.run([str(BIN), "--home", str(tmp_path), "chat", "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=120, env=clean_env(GRADIO_ANALYTICS_ENABLED="False"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"Error: Refusing to serve the chat UI on {where} {REFUSAL}"]
    assert not (tmp_path / "chroma").exists(), "refused before the store was opened"


def test_users_from_the_environment(monkeypatch, tmp_path):
    from assistant import ConfigError, Settings

    monkeypatch.setenv("ASSISTANT_UI_USERS", " alice:pw:with:colons , bob:x,")
    ui = Settings.load(home=tmp_path).ui
    assert ui.accounts() == [("alice", "pw:with:colons"), ("bob", "x")] and "pw" not in repr(ui)
    monkeypatch.setenv("ASSISTANT_UI__USERS", '["carol:a,b"]')  # the nested variable wins
    assert Settings.load(home=tmp_path).ui.accounts() == [("carol", "a,b")]
    for bad in ('["nopassword"]', '["carol:"]', '[":pw"]'):
        monkeypatch.setenv("ASSISTANT_UI__USERS", bad)
        with pytest.raises(ConfigError, match=r'^Invalid settings: ui\.users: Value error, each user is '
                                              r'"name:password", with neither part empty$'):
            Settings.load(home=tmp_path)


def test_launch_passes_the_users_to_gradio(sample_assistant, sample_home, embedder, monkeypatch):
    import ui
    from assistant import Assistant, ConfigError

    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, *a, **k: seen.update(k))
    ui.launch(sample_assistant, prevent_thread_lock=True)
    assert seen["auth"] is None and seen["server_name"] == "127.0.0.1"
    with pytest.raises(ConfigError, match="^Refusing to serve the chat UI on 0.0.0.0 without a login"):
        ui.launch(sample_assistant, host="0.0.0.0")
    ui.launch(sample_assistant, host="0.0.0.0", insecure=True, prevent_thread_lock=True)
    assert seen["auth"] is None and seen["server_name"] == "0.0.0.0"
    locked = Assistant.open(home=sample_home, embedder=embedder, ui={"users": ["alice:secret", "bob:a:b"]})
    ui.launch(locked, host="0.0.0.0", prevent_thread_lock=True)
    assert seen["auth"] == [("alice", "secret"), ("bob", "a:b")]


# Gradio itself checks the login on the first two only (see ui/login.py).
CLOSED = [("GET", "/config"), ("GET", "/gradio_api/info"), ("POST", "/gradio_api/reset"),
          ("POST", "/gradio_api/cancel"), ("GET", "/gradio_api/heartbeat/made-up-session"),
          ("GET", "/gradio_api/app_id"), ("GET", "/gradio_api/user"), ("GET", "/gradio_api/token")]


def test_a_login_is_required_when_users_are_set(sample_home, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(BIN), "--home", str(sample_home), "chat", "--host", "0.0.0.0", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=clean_env(ASSISTANT_UI_USERS="alice:correct-horse-battery",
                                          GRADIO_ANALYTICS_ENABLED="False"))
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            try:
                httpx.get(url, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        with httpx.Client(base_url=url, timeout=60) as client:
            for method, path in CLOSED:
                refused = client.request(method, path, json={})
                assert refused.status_code == 401, path
                assert refused.json()["detail"]["error"] == "Not authenticated"
            assert client.get("/").status_code == 200  # the login page, and what it loads, answer
            wrong = client.post("/login", data={"username": "alice", "password": "guess-not-this-one"})
            assert (wrong.status_code, wrong.json()) == (400, {"detail": "Incorrect credentials."})
            assert client.get("/config").status_code == 401
            right = client.post("/login", data={"username": "alice", "password": "correct-horse-battery"})
            assert (right.status_code, right.json()) == (200, {"success": True})
            config = client.get("/config")  # the login cookie now opens the app
            assert config.status_code == 200 and config.json()["components"]
            assert client.get("/gradio_api/info").status_code == 200
            for method, path in CLOSED:  # Gradio's own answers once logged in (the heartbeat is a stream: not read)
                with client.stream(method, path, json={}) as reply:
                    assert reply.status_code != 401, path
    finally:
        proc.terminate()
        log = proc.communicate(timeout=60)[0]
    assert "correct-horse-battery" not in log and "guess-not-this-one" not in log
    # Our own address line: Gradio's would tell a CLI user to set share=True in code.
    assert "Chat UI on http://" in log and "assistant chat --share" in log and "share=True" not in log
