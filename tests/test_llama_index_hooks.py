"""The assistant inside real llama-index pipelines: as a retriever, and as a query engine behind a tool.

The only LLM is llama-index's own offline MockLLM, which echoes its prompt: what the synthesizer
was given is what it answers, so the tests can see which passages reached the prompt.
"""
from __future__ import annotations

import asyncio

import pytest
from llama_index.core import get_response_synthesizer
from llama_index.core.llms.mock import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode
from llama_index.core.tools import QueryEngineTool

from assistant import ConfigError, EmptyIndex, EmptyQuestion
from assistant.answer import MARK, NOT_FOUND
from assistant.core import EMPTY_INDEX, EMPTY_QUESTION
from assistant.integrations.llama_index import as_query_engine, as_retriever

QUESTION = "Who denied involvement?"
ARTICLE = "003_e2e9fd2b9c1e80fc.txt"


def _located(assistant, node) -> bool:
    """The node's text is exactly its document's text at the node's offsets."""
    meta = node.node.metadata
    return assistant.document(meta["source"]).text[meta["start"]:meta["end"]] == node.node.get_content()


def test_retriever_feeds_a_retriever_query_engine(sample_assistant):
    engine = RetrieverQueryEngine(retriever=as_retriever(sample_assistant, top_k=5),
                                  response_synthesizer=get_response_synthesizer(llm=MockLLM(),
                                                                                response_mode="compact"))
    response = engine.query(QUESTION)
    nodes = response.source_nodes
    assert len(nodes) == 5
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
    assert any("denied" in n.node.get_content() for n in nodes[:2]), [n.node.get_content() for n in nodes]
    for n in nodes:
        meta = n.node.metadata
        assert set(meta) == {"source", "title", "chunk_index", "start", "end", "dense_rank", "bm25_rank"}
        assert _located(sample_assistant, n)
        assert (n.node.start_char_idx, n.node.end_char_idx) == (meta["start"], meta["end"])
        assert meta["dense_rank"] is not None or meta["bm25_rank"] is not None
        # The prompt names the document but leaves ranks and offsets to code.
        shown = n.node.get_content(MetadataMode.LLM)
        assert f"source: {meta['source']}" in shown and "dense_rank" not in shown and "start:" not in shown
        assert n.node.get_content() in response.response, "every passage reached the synthesizer's prompt"
    assert len({n.node.node_id for n in nodes}) == 5
    ids = {h.chunk.id for h in sample_assistant.ask(QUESTION, top_k=5).hits}
    assert {n.node.node_id for n in nodes} == ids, "the same passages the assistant answers from"


def test_retriever_keeps_to_its_sources_and_top_k(sample_assistant):
    nodes = as_retriever(sample_assistant, top_k=3, sources=[ARTICLE]).retrieve(QUESTION)
    assert len(nodes) == 3
    assert {n.node.metadata["source"].rsplit("/", 1)[-1] for n in nodes} == {ARTICLE}
    assert nodes[0].node.ref_doc_id, "each chunk points to its document"


def test_query_engine_behind_a_tool_answers_with_its_citations(sample_assistant):
    tool = QueryEngineTool.from_defaults(as_query_engine(sample_assistant), name="documents",
                                         description="Answers questions about the indexed news articles.")
    output = tool.call(input=QUESTION)
    response = output.raw_output
    assert output.content == response.response == sample_assistant.ask(QUESTION).text
    marks = sorted({int(m) for m in MARK.findall(response.response)})
    assert marks == list(range(1, len(response.source_nodes) + 1)), "every [n] is a source node, in order"
    cited = " ".join(n.node.metadata["sentence"] for n in response.source_nodes)
    assert response.metadata["short"] and response.metadata["short"] in cited, response.response
    for i, n in enumerate(response.source_nodes):
        meta = n.node.metadata
        assert meta["n"] == i + 1 and meta["sentence"] in n.node.get_content()
        assert _located(sample_assistant, n)
        assert n.node.node_id == f"{meta['chunk_id']}#{meta['n']}"
    assert response.metadata["abstained"] is False
    assert 0 < response.metadata["confidence"] <= 1 and isinstance(response.metadata["notes"], list)


def test_query_engine_declines_without_source_nodes(sample_assistant):
    response = as_query_engine(sample_assistant).query("Who won the 2016 Super Bowl?")
    assert response.response == NOT_FOUND and response.source_nodes == []
    assert response.metadata["abstained"] is True and response.metadata["short"] is None


def test_query_engine_with_another_answerer_and_async(sample_assistant):
    engine = as_query_engine(sample_assistant, answerer="top-passage", top_k=2, sources=[ARTICLE])
    response = asyncio.run(QueryEngineTool.from_defaults(engine).acall(QUESTION)).raw_output
    (node,) = response.source_nodes
    assert node.node.metadata["source"].endswith(ARTICLE) and _located(sample_assistant, node)
    assert response.metadata["confidence"] is None, "only the extractive answerer estimates it"
    with pytest.raises(ConfigError, match="^Unknown answerer 'oracle': choose one of extractive, llm, top-passage$"):
        as_query_engine(sample_assistant, answerer="oracle")


@pytest.mark.parametrize("query", ["", "  \n"])
def test_an_empty_query_raises_the_assistants_one_line_error(sample_assistant, query):
    pipeline = RetrieverQueryEngine.from_args(as_retriever(sample_assistant), llm=MockLLM())
    tool = QueryEngineTool.from_defaults(as_query_engine(sample_assistant))
    for call in (as_retriever(sample_assistant).retrieve, pipeline.query, tool.call):
        with pytest.raises(EmptyQuestion) as err:
            call(query)
        assert str(err.value) == EMPTY_QUESTION


def test_an_empty_index_raises_its_one_line_error(make_assistant):
    assistant = make_assistant()
    for call in (as_retriever(assistant).retrieve, as_query_engine(assistant).query):
        with pytest.raises(EmptyIndex) as err:
            call(QUESTION)
        assert str(err.value) == EMPTY_INDEX
