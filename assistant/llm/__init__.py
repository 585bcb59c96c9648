"""Chat models for the LLM answerer: an OpenAI-compatible endpoint, or a local GGUF file.

    from assistant.llm import make_chat_model
    with make_chat_model(settings.llm) as chat:
        for delta in chat.stream([{"role": "user", "content": "Hi"}]): ...

Importing this package is light: llama-index, openai and xllamacpp load when a model is built.
"""
from assistant.llm.client import ChatModel, make_chat_model
from assistant.llm.gguf import LocalServer, check_gguf

__all__ = ["ChatModel", "LocalServer", "check_gguf", "make_chat_model"]
