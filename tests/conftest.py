"""Shared fixtures: the real MiniLM model (loaded once), real Chroma stores in temp dirs."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def embedder():
    """The packaged all-MiniLM-L6-v2, loaded once for the whole session."""
    from vectorstore.embedder import Embedder

    emb = Embedder()
    emb.model  # load now, so no test pays for it alone
    return emb


@pytest.fixture
def make_assistant(tmp_path_factory, embedder):
    """make_assistant(home=None, **setting_overrides): an Assistant on a fresh (or given) home."""
    from assistant import Assistant

    def build(home: Path | None = None, **overrides):
        return Assistant.open(home=home or tmp_path_factory.mktemp("home"), embedder=embedder, **overrides)

    return build


@pytest.fixture(scope="session")
def sample_docs(tmp_path_factory) -> Path:
    """A private copy of the sample corpus (its sources are paths inside this copy)."""
    docs = tmp_path_factory.mktemp("sample-docs") / "sample"
    shutil.copytree(SAMPLE, docs)
    return docs


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory, embedder, sample_docs) -> Path:
    """A home with the sample corpus ingested once per session; copy it before changing it."""
    from assistant import Assistant

    home = tmp_path_factory.mktemp("sample-home")
    report = Assistant.open(home=home, embedder=embedder).ingest([sample_docs])
    assert len(report.sources("added")) == 5, report
    return home


@pytest.fixture
def own_history(tmp_path, monkeypatch):
    """Conversations go to a file of the test's own, never into the shared sample home (a UI or API over
    sample_home saves every answered turn there)."""
    from assistant import bases
    from assistant.history import History

    monkeypatch.setattr(bases.History, "of", classmethod(lambda cls, settings: History(tmp_path / "talks.sqlite3")))


@pytest.fixture(scope="session")
def sample_assistant(sample_home, embedder):
    """A read-only Assistant over the sample corpus (do not ingest into it)."""
    from assistant import Assistant

    return Assistant.open(home=sample_home, embedder=embedder)


@pytest.fixture(scope="session")
def realdocs_docs(tmp_path_factory) -> Path:
    """The real-documents corpus (evals/realdocs/build.py), built once a session; skips (fails in CI) saying why
    when a package cannot be fetched or Tesseract, which reads its scanned PDF, is missing."""
    from evals.realdocs.build import build
    from evals.realdocs.sources import CorpusUnavailable
    from support import skip_or_fail

    if shutil.which("tesseract") is None:
        skip_or_fail("the real-documents corpus has a scanned PDF and tesseract is not installed "
                     "(apt-get install tesseract-ocr; `make install` does it as root)")
    root = tmp_path_factory.mktemp("realdocs")
    try:
        build(root / "docs", root / "cache")
    except CorpusUnavailable as exc:
        skip_or_fail(f"the real-documents corpus cannot be built: {exc}")
    return root / "docs"


@pytest.fixture(scope="session")
def realdocs_bot(tmp_path_factory, embedder, realdocs_docs):
    """A read-only Assistant over the real-documents corpus, ingested once a session."""
    from assistant import Assistant

    home = tmp_path_factory.mktemp("realdocs-home")
    report = Assistant.open(home=home, embedder=embedder).ingest([realdocs_docs])
    assert not report.failed, report.failed
    return Assistant.open(home=home, embedder=embedder)


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on 127.0.0.1; `.url`, and `.stop()` to take it down mid-test."""
    from support import ChromaServer

    server = ChromaServer(tmp_path / "chroma-server")
    yield server
    server.stop()


@pytest.fixture
def tampered_model(tmp_path):
    """(model dir, weights path, sha256) of a MiniLM copy whose weights are not the official ones."""
    from support import tampered_model as make

    return make(tmp_path / "tampered-model")


@pytest.fixture(scope="session")
def llm_server():
    """A real llama.cpp server (xllamacpp, in this process) on 127.0.0.1 serving the tiny test model.

    Yields an LLMServer: `.base_url` (ends in /v1), `.model`, `.api_key` (the server requires it: a wrong
    one gets 401), `.context_tokens` (512), `.path`, and `.settings(**overrides) -> LLMSettings` that
    points at it (max_tokens 16 unless overridden). Stopped at the end of the session.
    """
    from llm_support import LLMServer, TinyModelMissing, tiny_model
    from support import skip_or_fail

    try:
        import xllamacpp  # noqa: F401
        import llama_index.llms.openai_like  # noqa: F401
    except ImportError as exc:
        skip_or_fail(f"LLM tests: the [llm] extras are not installed ({exc.name}): "
                     "pip install -e '.[llm]' in the repository")
    try:
        path = tiny_model()
    except TinyModelMissing as exc:
        skip_or_fail(f"LLM tests: {exc}")
    from assistant.llm import LocalServer

    server = LocalServer(path, context_tokens=512, threads=1, api_key="test-key-not-secret")
    yield LLMServer(base_url=server.base_url, model=server.model, api_key=server.api_key,
                    context_tokens=server.context_tokens, path=path)
    server.close()
