"""Adapters that let other frameworks use an Assistant; each module imports its framework itself.

Nothing here is imported by `import assistant`: `Assistant.as_retriever()` and friends load their
adapter (and the framework) on first call.
"""
