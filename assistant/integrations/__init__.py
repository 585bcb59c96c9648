"""Adapters that let other frameworks use an Assistant; each module imports its framework itself.

They sit with the other front ends (.importlinter): nothing here is imported by `import assistant`, and
the core imports none of it. `from assistant.integrations.llama_index import as_retriever` loads llama-index.
"""
