"""Errors of the storage layer; messages are meant for the user."""


class StoreError(Exception):
    """The store cannot be opened or used."""


class StoreUnavailable(StoreError):
    """The store directory is unusable or the Chroma server is unreachable."""


class ModelError(Exception):
    """The embedding model is missing or its weights are not the expected ones."""
