"""llama-index hooks: the assistant as a retriever or a query engine inside llama-index pipelines.

    from assistant.integrations.llama_index import as_query_engine, as_retriever

    retriever = as_retriever(assistant, top_k=5)  # hybrid search only: NodeWithScore per passage
    engine = as_query_engine(assistant)           # the cited answer: Response with citations as source_nodes

An adapter like the CLI or the HTTP API: it uses the Assistant's public methods, and the core never
imports it.

Both take the question from `QueryBundle.query_str` and ignore any embedding on the bundle: the
assistant embeds with its own model, which a caller's embedding would not match. The assistant's
errors (EmptyQuestion, EmptyIndex, UnknownSource, ...) propagate unchanged, with their one-line
message. The async methods run the sync ones in a worker thread, so an event loop is not blocked.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from assistant.answer import Answer, Citation
from vectorstore.records import Hit

if TYPE_CHECKING:
    from assistant.core import Assistant

# Keys kept out of the text an LLM or an embedding model sees (node.get_content(MetadataMode.LLM)):
# ids, offsets and ranks are for code; the source and title stay, so a prompt can name the document.
_FOR_CODE = ["n", "chunk_id", "chunk_index", "start", "end", "dense_rank", "bm25_rank", "sentence"]


def as_retriever(assistant: Assistant, top_k: int | None = None,
                 sources: Sequence[str] | None = None) -> AssistantRetriever:
    """The assistant's hybrid search as a llama-index retriever (nodes = chunks, scores = fused scores)."""
    return AssistantRetriever(assistant, top_k, sources)


def as_query_engine(assistant: Assistant, answerer: str | None = None, top_k: int | None = None,
                    sources: Sequence[str] | None = None) -> AssistantQueryEngine:
    """The assistant's cited answers as a llama-index query engine; `answerer` picks another kind."""
    return AssistantQueryEngine(assistant.with_answerer(answerer) if answerer else assistant, top_k, sources)


class AssistantRetriever(BaseRetriever):
    """The assistant's hybrid (dense + BM25, rank-fused) search as a llama-index retriever.

    Each node is one indexed chunk: id = the chunk id, text = the chunk text, score = the fused
    score, metadata = source, title, chunk_index, start, end (offsets into
    `assistant.document(source).text`, also as the node's start/end_char_idx), dense_rank and
    bm25_rank (None when that ranking did not return the chunk). A follow-up is not rewritten: a
    retriever sees one query, not a conversation.
    """

    def __init__(self, assistant: Assistant, top_k: int | None = None, sources: Sequence[str] | None = None,
                 callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.top_k = top_k  # None: the settings' [retrieval] top_k
        self.sources = list(sources) if sources else None  # resolved on each query, as the index may change

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [hit_node(hit) for hit in self.assistant.retrieve(query_bundle.query_str, self.top_k, self.sources)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


class AssistantQueryEngine(BaseQueryEngine):
    """The assistant's cited answer as a llama-index query engine (no LLM needed with the default answerer).

    `query(question)` returns a Response: `response` = the answer text with its [n] marks,
    `source_nodes` = the citations in order (node n-1 is [n]; none when the assistant declined),
    `metadata` = {abstained, short, confidence, notes}. A declined question is not an error: its
    response is the "could not find" text with abstained True.
    """

    def __init__(self, assistant: Assistant, top_k: int | None = None, sources: Sequence[str] | None = None,
                 callback_manager: CallbackManager | None = None):
        super().__init__(callback_manager=callback_manager)
        self.assistant = assistant
        self.top_k = top_k
        self.sources = list(sources) if sources else None

    def _get_prompt_modules(self) -> dict:
        return {}

    def _query(self, query_bundle: QueryBundle) -> Response:
        return answer_response(self.assistant.ask(query_bundle.query_str, top_k=self.top_k, sources=self.sources))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


def hit_node(hit: Hit) -> NodeWithScore:
    """A retrieved chunk as a node (see AssistantRetriever for its fields)."""
    chunk = hit.chunk
    node = TextNode(id_=chunk.id, text=chunk.text, start_char_idx=chunk.start, end_char_idx=chunk.end,
                    metadata={"source": chunk.source, "title": chunk.title, "chunk_index": chunk.chunk_index,
                              "start": chunk.start, "end": chunk.end, "dense_rank": hit.dense_rank,
                              "bm25_rank": hit.bm25_rank},
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
                    excluded_llm_metadata_keys=_FOR_CODE, excluded_embed_metadata_keys=_FOR_CODE)
    return NodeWithScore(node=node, score=hit.score)


def citation_node(citation: Citation) -> NodeWithScore:
    """Citation [n] as a node: text = the passage, which holds `sentence`; start/end locate it in the document.

    Its id is "<chunk id>#<n>": two citations may quote sentences of one chunk, and node ids must differ.
    """
    c = citation
    node = TextNode(id_=f"{c.chunk_id}#{c.n}", text=c.text, start_char_idx=c.start, end_char_idx=c.end,
                    metadata={"n": c.n, "source": c.source, "title": c.title, "sentence": c.sentence,
                              "start": c.start, "end": c.end, "chunk_id": c.chunk_id},
                    excluded_llm_metadata_keys=_FOR_CODE, excluded_embed_metadata_keys=_FOR_CODE)
    return NodeWithScore(node=node, score=c.score)


def answer_response(answer: Answer) -> Response:
    """An Answer as llama-index's Response (see AssistantQueryEngine)."""
    return Response(response=answer.text, source_nodes=[citation_node(c) for c in answer.citations],
                    metadata={"abstained": answer.abstained, "short": answer.short,
                              "confidence": answer.confidence, "notes": list(answer.notes)})
