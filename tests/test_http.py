"""The HTTP API on a real uvicorn server on 127.0.0.1."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest


@pytest.fixture(scope="module")
def api(sample_bot):
    import uvicorn

    from assistant.http import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(sample_bot), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_ask_returns_the_answer_contract(api):
    reply = httpx.post(f"{api}/ask", json={"question": "What did Peskov call the allegations?"}, timeout=60)
    assert reply.status_code == 200
    data = reply.json()
    assert "absolute nonsense" in data["answer"] and data["citations"][0]["n"] == 1


def test_follow_up_over_http(api):
    reply = httpx.post(f"{api}/ask", json={"question": "What did he say about WikiLeaks?",
                                           "history": [["Who is Sergey Markov?", "Sergey Markov is an adviser."]]},
                       timeout=60)
    assert "Markov" in reply.json()["query"]


@pytest.mark.parametrize("body, status, error", [
    ({"question": "  "}, 422, "The question is empty: type a question about your documents."),
    ({"question": "Who?", "sources": ["nope.txt"]}, 404,
     "No indexed source matches 'nope.txt'. Run `assistant sources` to list them."),
])
def test_errors_are_json(api, body, status, error):
    reply = httpx.post(f"{api}/ask", json=body, timeout=60)
    assert (reply.status_code, reply.json()) == (status, {"error": error})


def test_sources_and_openapi(api):
    assert len(httpx.get(f"{api}/sources").json()) == 5
    assert "/ask" in httpx.get(f"{api}/openapi.json").json()["paths"]
