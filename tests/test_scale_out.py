"""Scale-out: two `assistant serve` processes, each with its own home, against one `chroma run` server.

The Chroma server is the shared state; each replica keeps its own model, BM25 cache and document-text
cache, and follows the store's generation (docs/deploy.md).
"""
from __future__ import annotations

import json
import time

import httpx

from assistant import Settings, kb
from support import ApiServer, clean_env

ZORB = "The zorblat festival is held every March in Quentinville. Its mascot is a purple llama."


def _ask(url: str, question: str) -> dict:
    reply = httpx.post(f"{url}/ask", json={"question": question}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _sources(url: str) -> list[str]:
    return [r["source"] for r in httpx.get(f"{url}/sources", timeout=60).json()]


def test_two_replicas_share_one_chroma_server(chroma_server, sample_docs, tmp_path):
    env = clean_env(ASSISTANT_CHROMA_URL=chroma_server.url,
                    ASSISTANT_SERVER__INGEST_ROOTS=json.dumps([str(sample_docs)]))
    replicas = []
    try:
        replicas = [ApiServer(tmp_path / name, env=env) for name in ("a", "b")]
        a, b = (replica.url for replica in replicas)
        for replica in replicas:
            assert replica.proc.poll() is None and httpx.get(f"{replica.url}/health", timeout=60).status_code == 200

        ingested = httpx.post(f"{a}/ingest", json={"paths": [str(sample_docs)]}, timeout=600)
        assert ingested.status_code == 200 and len(ingested.json()["added"]) == 5, ingested.text
        assert _sources(b) == _sources(a) and len(_sources(b)) == 5
        for url in (a, b):  # both answer, from the same passage
            answer = _ask(url, "What did Peskov call the allegations?")
            assert "absolute nonsense" in answer["answer"], (url, answer["answer"])

        uploaded = httpx.post(f"{a}/documents", files=[("files", ("zorblat.txt", ZORB.encode()))], timeout=300)
        assert uploaded.status_code == 200, uploaded.text
        [zorblat] = uploaded.json()["added"]

        # B reads the store's generation once per question: its next question answers from the new
        # document, with its own BM25 index rebuilt for the new generation.
        answer = _ask(b, "When is the zorblat festival held?")
        assert "March" in answer["answer"] and answer["citations"][0]["source"] == zorblat, answer
        hits = [h for h in answer["hits"] if h["source"] == zorblat]
        assert hits[0]["bm25_rank"] == 1 and hits[0]["dense_rank"] == 1, hits
        assert zorblat in _sources(b)

        # And back: a document removed through B is gone for A.
        assert httpx.delete(f"{b}/documents/{zorblat}", timeout=60).json() == {"removed": zorblat}
        assert zorblat not in _sources(a)
        assert zorblat not in [c["source"] for c in _ask(a, "When is the zorblat festival held?")["citations"]]

        # Knowledge bases are on the server too: one made by another process is served by both replicas,
        # one it deletes is a 404 on both, and one made again is served again.
        admin = Settings.load(home=tmp_path / "admin", chroma_url=chroma_server.url)
        kb.create(admin, "notes")
        assert [k["name"] for k in httpx.get(f"{b}/kb", timeout=60).json()] == ["default", "notes"]
        uploaded = httpx.post(f"{a}/kb/notes/documents", files=[("files", ("zorblat.txt", ZORB.encode()))],
                              timeout=300)
        assert uploaded.status_code == 200, uploaded.text
        assert "March" in _ask(f"{b}/kb/notes", "When is the zorblat festival held?")["answer"]
        assert "extractive@notes" in [m["id"] for m in httpx.get(f"{a}/v1/models", timeout=60).json()["data"]]
        kb.delete(admin, "notes")
        for url in (a, b):
            gone = httpx.get(f"{url}/kb/notes/sources", timeout=60)
            assert gone.status_code == 404 and "notes" in gone.json()["error"], gone.text
        kb.create(admin, "notes")
        assert httpx.get(f"{b}/kb/notes/sources", timeout=60).json() == []
    finally:
        for replica in replicas:
            replica.stop()
