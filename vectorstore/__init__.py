"""Embeddings, the Chroma store and the BM25 index."""
from vectorstore.embedder import Embedder
from vectorstore.errors import ModelError, StoreError, StoreUnavailable
from vectorstore.lexical import LexicalIndex
from vectorstore.records import Chunk, DocumentRecord, Hit
from vectorstore.store import Store

__all__ = ["Chunk", "DocumentRecord", "Embedder", "Hit", "LexicalIndex", "ModelError", "Store",
           "StoreError", "StoreUnavailable"]
