"""The native routes added for embedding: /ask with stream, /documents, ingest roots, API keys, body limits."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest

from support import ApiServer, clean_env, free_port
from test_http import serving

QUESTION = "What did Peskov call the allegations?"
KEY = "s3cret-key-for-tests-0123456789"
BIN = Path(sys.executable).parent / "assistant"


@pytest.fixture(scope="module")
def api(sample_assistant):
    with serving(sample_assistant) as url:
        yield url


def events(reply: httpx.Response) -> list[tuple[str, dict]]:
    """(event name, data) of each server-sent event of a reply."""
    out = []
    for block in reply.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if line)
        if lines:
            out.append((lines.get("event", "message"), json.loads(lines["data"])))
    return out


# ---- POST /ask with stream ----------------------------------------------------------------------------------

def test_ask_streams_deltas_then_the_answer(api):
    plain = httpx.post(f"{api}/ask", json={"question": QUESTION}, timeout=60).json()
    reply = httpx.post(f"{api}/ask", json={"question": QUESTION, "stream": True}, timeout=60)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    got = events(reply)
    names = [name for name, _ in got]
    assert names[-1] == "answer" and set(names[:-1]) == {"delta"} and len(names) >= 2
    assert "".join(data["text"] for _, data in got[:-1]) == got[-1][1]["answer"] == plain["answer"]
    final = got[-1][1]
    assert final["citations"] == plain["citations"] and set(final) == set(plain)


@pytest.mark.parametrize("body, status, error", [
    ({"question": " ", "stream": True}, 422, "The question is empty: type a question about your documents."),
    ({"question": "Who?", "sources": ["nope.txt"], "stream": True}, 404,
     "No indexed source matches 'nope.txt'. Run `assistant sources` to list them."),
    ({"question": "Who?", "stream": "yes please"}, 422, "Invalid request: stream: Input should be a valid boolean, "
                                                        "unable to interpret input"),
])
def test_a_streamed_ask_that_fails_at_once_is_a_plain_error(api, body, status, error):
    reply = httpx.post(f"{api}/ask", json=body, timeout=60)
    assert (reply.status_code, reply.headers["content-type"], reply.json()) == \
        (status, "application/json", {"error": error})


def test_the_openapi_schema_describes_requests_and_answers(api):
    schema = httpx.get(f"{api}/openapi.json", timeout=60).json()
    ask = schema["paths"]["/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AnswerOut")
    assert "text/event-stream" in ask["responses"]["200"]["content"]
    assert ask["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    models = schema["components"]["schemas"]
    assert {"citations", "hits", "answer"} <= set(models["AnswerOut"]["properties"])
    chat = schema["paths"]["/v1/chat/completions"]["post"]
    assert chat["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIErrorOut")
    # The response models are made from the records: their fields, in order, with the records' descriptions.
    from dataclasses import fields

    from assistant.answer import Answer, Citation
    from assistant.settings import TOP_K_MAX

    answer = models["AnswerOut"]["properties"]
    assert list(answer) == [Answer.JSON_NAMES.get(f.name, f.name) for f in fields(Answer)] + ["conversation", "turn"]
    assert list(models["CitationOut"]["properties"]) == [f.name for f in fields(Citation)]
    assert answer["short"]["description"].startswith("The exact phrase that answers")
    assert models["CitationOut"]["properties"]["page"]["description"].startswith("The page (slide, sheet), from 1")
    assert "score" not in models["ChatCitation"]["properties"]
    top_k = models["AskRequest"]["properties"]["top_k"]["anyOf"][0]
    assert (top_k["minimum"], top_k["maximum"]) == (1, TOP_K_MAX)


def test_the_api_answer_is_the_answer_records_json(api, sample_assistant):
    """POST /ask gives Answer.to_dict() byte for byte (same keys, same order), as `ask --json` prints it."""
    reply = httpx.post(f"{api}/ask", json={"question": QUESTION}, timeout=60)
    answer = sample_assistant.ask(QUESTION).to_dict()
    got = {**reply.json(), "timings_ms": None}
    assert json.dumps(got) == json.dumps({**answer, "timings_ms": None})
    assert got["citations"] and got["hits"]


# ---- /documents/{source} -----------------------------------------------------------------------------------

@pytest.fixture
def writable_bot(sample_home, embedder, tmp_path):
    from assistant import Assistant

    home = tmp_path / "home"
    shutil.copytree(sample_home, home)
    return Assistant.open(home=home, embedder=embedder)


def test_get_and_delete_a_document(writable_bot):
    source = writable_bot.sources()[0].source
    with serving(writable_bot) as api:
        record = httpx.get(f"{api}/documents/{source}", timeout=60)  # /documents//abs/path
        assert record.status_code == 200, record.text
        data = record.json()
        assert data["source"] == source and data["text"] == writable_bot.document(source).text
        assert {"doc_id", "title", "sha256", "chunks", "mtime", "indexed_at"} <= set(data)
        tail = source.rsplit("/", 1)[1]
        assert httpx.get(f"{api}/documents/{tail}", timeout=60).json()["source"] == source
        encoded = httpx.get(f"{api}/documents/{source.replace('/', '%2F')}", timeout=60)
        assert encoded.json()["source"] == source

        removed = httpx.delete(f"{api}/documents/{source}", timeout=60)
        assert (removed.status_code, removed.json()) == (200, {"removed": source})
        assert source not in [r["source"] for r in httpx.get(f"{api}/sources", timeout=60).json()]
        for gone in (httpx.get(f"{api}/documents/{source}", timeout=60),
                     httpx.delete(f"{api}/documents/{source}", timeout=60)):
            assert gone.status_code == 404 and gone.json()["error"].startswith(f"No indexed source matches '{source}'")
        assert len(httpx.get(f"{api}/sources", timeout=60).json()) == 4


def test_an_unknown_or_ambiguous_document_is_404(api, make_assistant):
    missing = httpx.get(f"{api}/documents/nope.txt", timeout=60)
    assert (missing.status_code, missing.json()) == (404, {
        "error": "No indexed source matches 'nope.txt'. Run `assistant sources` to list them."})
    assistant = make_assistant()
    assistant.ingest_texts([("notes/a/x.txt", "The ferry leaves at nine.", "A"),
                      ("notes/b/x.txt", "The ferry leaves at ten.", "B")])
    with serving(assistant) as two:
        for reply in (httpx.get(f"{two}/documents/x.txt", timeout=60), httpx.delete(f"{two}/documents/x.txt",
                                                                                   timeout=60)):
            assert (reply.status_code, reply.json()) == (404, {"error": "'x.txt' matches 2 sources; give the full "
                                                                        "source"})
        assert httpx.get(f"{two}/documents/a/x.txt", timeout=60).json()["text"] == "The ferry leaves at nine."


# ---- POST /documents: uploads through the chat UI's service -----------------------------------------------------

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."
FERRY = "The Quentinville ferry leaves the harbour at nine every morning."


@pytest.fixture
def uploads_api(make_assistant):
    """(API url, home): an empty index; uploads of at most 10 KB each, 2 files a request, bodies of 1 KB."""
    assistant = make_assistant(ingest={"max_upload_mb": 10 / 1024}, server={"max_upload_files": 2, "max_body_mb": 1 / 1024})
    with serving(assistant) as url:
        yield url, assistant.settings.home


def _upload(api, *files, **kwargs) -> httpx.Response:
    return httpx.post(f"{api}/documents", files=[("files", f) for f in files], timeout=300, **kwargs)


def test_upload_documents_and_ask_about_them(uploads_api):
    api, home = uploads_api
    reply = _upload(api, ("zorblat.txt", ZORB.encode()), ("../../etc/ferry.txt", FERRY.encode(), "text/plain"))
    assert reply.status_code == 200, reply.text
    report = reply.json()
    folder = (home / "uploads").resolve()
    stored = [(folder / "zorblat.txt").as_posix(), (folder / "ferry.txt").as_posix()]  # the folder part is dropped
    assert report["added"] == stored and report["failed"] == [] and report["chunks"] == 2
    assert [(f["name"], f["status"], f["source"]) for f in report["files"]] == [
        ("zorblat.txt", "added", stored[0]), ("ferry.txt", "added", stored[1])]
    assert [r["source"] for r in httpx.get(f"{api}/sources", timeout=60).json()] == sorted(stored)
    assert not (home.parent / "etc").exists()
    answer = httpx.post(f"{api}/ask", json={"question": "When is the zorblat festival held?"}, timeout=60).json()
    assert "March" in answer["answer"] and answer["citations"][0]["source"] == stored[0]

    again = _upload(api, ("zorblat.txt", ZORB.encode())).json()
    assert again["unchanged"] == [stored[0]] and again["added"] == []
    broken = _upload(api, ("broken.pdf", b"%PDF-1.4 not really"), ("zorblat.txt", (ZORB + " Again.").encode()))
    assert broken.status_code == 200  # a file that fails to ingest is reported; the others are still ingested
    assert broken.json()["updated"] == [stored[0]] and broken.json()["failed"][0]["source"] == "broken.pdf"


@pytest.mark.parametrize("files, status, error", [
    ([("tool.exe", b"MZ")], 415, "tool.exe: unsupported file type '.exe' (supported: .csv, .docx, .eml, .epub, .htm, "
                                 ".html, .jpeg, .jpg, .markdown, .md, .pdf, .png, .pptx, .tif, .tiff, .txt, .xlsx)"),
    ([("a.txt", ZORB.encode()), ("noext", b"text")], 415, "noext: unsupported file type 'none' (supported: .csv, "
                                                           ".docx, .eml, .epub, .htm, .html, .jpeg, .jpg, .markdown, "
                                                           ".md, .pdf, .png, .pptx, .tif, .tiff, .txt, .xlsx)"),
    ([("big.txt", b"a" * 15_000)], 413, "big.txt: 0.0 MB is over the 0.00976562 MB upload limit ([ingest] "
                                        "max_upload_mb); ingest big files with `assistant ingest PATH`"),
    ([("a.txt", ZORB.encode()), ("empty.md", b"")], 422, "empty.md: file is empty"),
    ([("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], 413, "3 files: POST /documents takes at most 2 at a time "
                                                               "([server] max_upload_files)"),
    ([("a.txt", b"a" * 9000), ("b.txt", b"b" * 9000), ("c.txt", b"c" * 9000)], 413,
     "The upload is larger than [server] max_upload_files x [ingest] max_upload_mb (0.0205078 MB with the form)"),
])
def test_a_refused_upload_changes_nothing(uploads_api, files, status, error):
    api, home = uploads_api
    reply = _upload(api, *files)
    assert (reply.status_code, reply.json()) == (status, {"error": error})
    assert httpx.get(f"{api}/sources", timeout=60).json() == []
    uploads = home / "uploads"
    assert not uploads.exists() or not [path for path in uploads.iterdir() if path.is_file()]


def test_a_chunked_upload_over_the_limit_is_413(uploads_api):
    api, home = uploads_api
    part = b"a" * 9000
    body = (b"--cut\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\n" + part * 3
            + b"\r\n--cut--\r\n")
    reply = httpx.post(f"{api}/documents", content=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
                       headers={"content-type": "multipart/form-data; boundary=cut"}, timeout=60)  # no Content-Length
    assert "content-length" not in reply.request.headers
    assert (reply.status_code, reply.json()) == (413, {"error": "The upload is larger than [server] max_upload_files x "
                                                                "[ingest] max_upload_mb (0.0205078 MB with the form)"})
    assert not (home / "uploads").exists() or not [path for path in (home / "uploads").iterdir() if path.is_file()]


@pytest.mark.parametrize("request_kwargs", [
    {"files": []},  # no body at all
    {"data": {"files": "not a file"}},  # a form field, not a file part
    {"files": [("other", ("a.txt", b"a"))]},  # a file under another name
    {"json": {"files": ["a.txt"]}},
])
def test_no_file_is_422(uploads_api, request_kwargs):
    api, _ = uploads_api
    reply = httpx.post(f"{api}/documents", timeout=60, **request_kwargs)
    assert (reply.status_code, reply.json()) == (422, {
        "error": "No file: send each file as a multipart/form-data file part named `files`"})
    assert httpx.get(f"{api}/sources", timeout=60).json() == []


def test_a_malformed_multipart_body_is_422(uploads_api):
    api, _ = uploads_api
    reply = httpx.post(f"{api}/documents", content=b"--x\r\nnot a part", timeout=60,
                       headers={"content-type": "multipart/form-data; boundary=x"})
    assert reply.status_code == 422 and reply.json()["error"].startswith("Invalid upload: ")


def test_the_openapi_schema_describes_the_upload(api):
    upload = httpx.get(f"{api}/openapi.json", timeout=60).json()["paths"]["/documents"]["post"]
    schema = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["files"]["items"]["format"] == "binary"
    assert upload["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/UploadReportOut")
    assert "415" in upload["responses"]


# ---- [server] ingest_roots -------------------------------------------------------------------------------------

@pytest.fixture
def rooted(make_assistant, tmp_path, sample_docs):
    """(API url, root, outside): POST /ingest may read only inside root; outside holds a readable document."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    shutil.copy(sample_docs / "004_7bdcd2d0aef0b556.txt", outside / "secret.txt")
    shutil.copy(sample_docs / "001_0c9caba1aff1c6c0.txt", root / "fine.txt")
    with serving(make_assistant(server={"ingest_roots": [str(root)]})) as url:
        yield url, root, outside


def _refused(api, paths: list[str]) -> dict:
    reply = httpx.post(f"{api}/ingest", json={"paths": paths}, timeout=60)
    assert reply.status_code == 403, reply.text
    assert httpx.get(f"{api}/sources", timeout=60).json() == []  # nothing was read
    return reply.json()


def test_ingest_outside_the_roots_is_403(rooted):
    api, root, outside = rooted
    secret = str(outside / "secret.txt")
    assert _refused(api, [secret]) == {"error": f"{secret} is outside [server] ingest_roots"}
    assert _refused(api, [str(root / "fine.txt"), secret]) == {"error": f"{secret} is outside [server] ingest_roots"}
    dotdot = f"{root}/../outside/secret.txt"
    assert _refused(api, [dotdot]) == {"error": f"{dotdot} is outside [server] ingest_roots"}
    assert _refused(api, ["/etc"]) == {"error": "/etc is outside [server] ingest_roots"}
    assert _refused(api, ["relative/path.txt"])["error"].endswith("is outside [server] ingest_roots")
    assert _refused(api, [f"{root}/a\u0000b"]) == {"error": f"'{root}/a\\x00b' is not a path inside "
                                                            "[server] ingest_roots"}
    (root / "photo.gif").write_bytes(b"GIF89a")
    inside = httpx.post(f"{api}/ingest", json={"paths": [str(root)]}, timeout=300)
    assert inside.status_code == 200 and inside.json()["added"] == [str((root / "fine.txt").resolve())]
    assert inside.json()["skipped"] == [str((root / "photo.gif").resolve())]


def test_a_symlink_out_of_the_roots_is_403(rooted):
    api, root, outside = rooted
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside)
    for path in (root / "link.txt", root / "linkdir", root / "linkdir" / "secret.txt"):
        assert _refused(api, [str(path)]) == {"error": f"{path} is outside [server] ingest_roots"}


def test_ingest_with_no_roots_is_refused(api, sample_docs):
    reply = httpx.post(f"{api}/ingest", json={"paths": [str(sample_docs)]}, timeout=60)
    assert reply.status_code == 403
    assert reply.json() == {"error": "Ingesting over HTTP is off: set [server] ingest_roots to the folders it may "
                                     "read (ASSISTANT_SERVER__INGEST_ROOTS='[\"/srv/docs\"]')"}


# ---- API keys and body limits ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def locked(sample_home, embedder):
    """An API that needs KEY (or the second key), with a 4 KB body limit."""
    from assistant import Assistant

    assistant = Assistant.open(home=sample_home, embedder=embedder,
                         server={"api_keys": [KEY, "another-key"], "max_body_mb": 4 / 1024})
    with serving(assistant) as url:
        yield url


def test_every_route_but_health_needs_a_key(locked):
    assert httpx.get(f"{locked}/health", timeout=60).status_code == 200
    calls = [("GET", "/sources", None), ("POST", "/ask", {"question": QUESTION}), ("POST", "/ingest", {"paths": []}),
             ("GET", "/documents/x.txt", None), ("DELETE", "/documents/x.txt", None), ("POST", "/documents", None),
             ("GET", "/conversations", None), ("POST", "/conversations", {}), ("GET", "/conversations/x", None),
             ("PATCH", "/conversations/x", {"title": "t"}), ("DELETE", "/conversations/x", None),
             ("GET", "/conversations/x/export", None), ("POST", "/turns/1/feedback", {"rating": 1}),
             ("GET", "/v1/models", None),
             ("POST", "/v1/chat/completions", {"model": "extractive", "messages": [{"role": "user", "content": "Hi"}]})]
    for method, path, body in calls:
        for headers, message in (({}, "Missing API key: send the header `Authorization: Bearer KEY`"),
                                 ({"Authorization": "Bearer wrong"}, "Invalid API key"),
                                 ({"Authorization": f"Bearer {KEY}x"}, "Invalid API key"),
                                 ({"Authorization": f"Basic {KEY}"}, "Missing API key: send the header "
                                                                     "`Authorization: Bearer KEY`")):
            reply = httpx.request(method, f"{locked}{path}", json=body, headers=headers, timeout=60)
            assert reply.status_code == 401, (method, path, headers)
            assert reply.headers["www-authenticate"] == "Bearer"
            error = reply.json()["error"]
            if path.startswith("/v1"):
                assert error["message"] == message and error["type"] == "authentication_error"
            else:
                assert error == message
            assert KEY not in reply.text
    good = {"Authorization": f"Bearer {KEY}"}
    upload = httpx.post(f"{locked}/documents", files=[("files", ("z.txt", b"The zorblat."))], timeout=60)
    assert upload.status_code == 401 and len(httpx.get(f"{locked}/sources", headers=good, timeout=60).json()) == 5
    assert httpx.get(f"{locked}/sources", headers=good, timeout=60).status_code == 200
    other = {"Authorization": "Bearer another-key"}
    assert httpx.get(f"{locked}/sources", headers=other, timeout=60).status_code == 200
    assert httpx.post(f"{locked}/ask", json={"question": QUESTION}, headers=good, timeout=60).json()["citations"]


def test_the_openai_client_with_and_without_the_key(locked):
    good = openai.OpenAI(base_url=f"{locked}/v1", api_key=KEY, max_retries=0, timeout=120)
    assert [m.id for m in good.models.list().data] == ["extractive", "top-passage"]
    reply = good.chat.completions.create(model="extractive", messages=[{"role": "user", "content": QUESTION}])
    assert "absolute nonsense" in reply.choices[0].message.content
    bad = openai.OpenAI(base_url=f"{locked}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        bad.chat.completions.create(model="extractive", messages=[{"role": "user", "content": QUESTION}], stream=True)
    assert err.value.body == {"message": "Invalid API key", "type": "authentication_error", "param": None,
                              "code": "invalid_api_key"}


def test_a_body_over_the_limit_is_413(locked):
    good = {"Authorization": f"Bearer {KEY}"}
    big = {"question": "word " * 2000}
    reply = httpx.post(f"{locked}/ask", json=big, headers=good, timeout=60)
    assert (reply.status_code, reply.json()) == (413, {"error": "The request body is larger than [server] "
                                                                "max_body_mb (0.00390625 MB)"})
    chat = httpx.post(f"{locked}/v1/chat/completions", headers=good, timeout=60,
                      json={"model": "extractive", "messages": [{"role": "user", "content": "word " * 2000}]})
    assert chat.status_code == 413 and chat.json()["error"]["type"] == "invalid_request_error"

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(10):
            yield b" " * 1024

    streamed = httpx.post(f"{locked}/ask", content=chunks(), headers={**good, "content-type": "application/json"},
                          timeout=60)
    assert streamed.status_code == 413 and streamed.json()["error"].startswith("The request body is larger")


def test_a_long_question_is_still_answered_with_a_note(api):
    answer = httpx.post(f"{api}/ask", json={"question": QUESTION + " x" * 600}, timeout=60).json()
    assert answer["notes"][0].startswith("The question is 1,237 characters long; only the first 1,000")


def test_api_keys_from_the_environment(monkeypatch, tmp_path):
    from assistant import ConfigError, Settings

    monkeypatch.setenv("ASSISTANT_API_KEYS", " one, two ,")
    keys = Settings.load(home=tmp_path).server.api_keys
    assert [k.get_secret_value() for k in keys] == ["one", "two"] and "one" not in repr(keys)
    monkeypatch.setenv("ASSISTANT_SERVER__API_KEYS", '["three"]')  # the nested variable wins
    assert [k.get_secret_value() for k in Settings.load(home=tmp_path).server.api_keys] == ["three"]
    monkeypatch.setenv("ASSISTANT_SERVER__API_KEYS", '[" "]')
    with pytest.raises(ConfigError, match=r"^Invalid settings: server\.api_keys: Value error, an API key is empty$"):
        Settings.load(home=tmp_path)


# ---- `assistant serve` beyond loopback -------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_serve_beyond_loopback_needs_a_key(tmp_path, host):
    done = subprocess.run([str(BIN), "--home", str(tmp_path), "serve", "--host", host, "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, env=clean_env())
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: Refusing to serve on {host} without an API key: anyone who can reach it could read and change "
        "your index. Set one (ASSISTANT_API_KEYS=some-long-secret, or [server] api_keys), or pass --insecure"]
    assert not (tmp_path / "chroma").exists(), "refused before the store was opened"


def test_serve_beyond_loopback_with_a_key_or_insecure(sample_home):
    server = ApiServer(sample_home, "--host", "0.0.0.0", env=clean_env(ASSISTANT_API_KEYS=KEY))
    url = server.url
    try:
        assert httpx.get(f"{url}/sources", timeout=60).status_code == 401
        assert httpx.get(f"{url}/sources", headers={"Authorization": f"Bearer {KEY}"}, timeout=60).status_code == 200
        assert httpx.get(f"{url}/sources", headers={"Authorization": "Bearer wrong-guess"}, timeout=60).status_code \
            == 401
    finally:
        log = server.stop()
    assert "GET /sources" in log and KEY not in log and "wrong-guess" not in log  # keys are never logged

    server = ApiServer(sample_home, "--host", "0.0.0.0", "--insecure", env=clean_env())
    try:
        assert httpx.get(f"{server.url}/sources", timeout=60).status_code == 200
    finally:
        server.stop()


# ---- a failure after the first event ------------------------------------------------------------------------

async def _failing(*items):
    from assistant.errors import StoreUnavailable

    for item in items:
        yield item
    raise StoreUnavailable("The store went away")


def _drain(agen) -> list[bytes]:
    import asyncio

    async def run():
        return [chunk async for chunk in agen]

    return asyncio.run(run())


def test_an_error_mid_stream_is_the_last_event():
    from assistant.api.routes.native import _ask_events
    from assistant.api.routes.openai import _chunks
    from assistant.api.streaming import AppendOnly

    native = b"".join(_drain(_ask_events(_failing("Peskov ", "said so."))))
    assert native == (b'event: delta\ndata: {"text": "Peskov "}\n\nevent: delta\ndata: {"text": "said so."}\n\n'
                      b'event: error\ndata: {"error": "The store went away", "status": 503}\n\n')
    chunks = _drain(_chunks(_failing("Peskov said so."), {"id": "chatcmpl-1"}, AppendOnly(revises=False)))
    assert chunks[-1] == (b'data: {"error": {"message": "The store went away", "type": "server_error", '
                          b'"param": null, "code": null}}\n\n')
    assert b"[DONE]" not in b"".join(chunks)
