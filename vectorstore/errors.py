"""Errors of the storage layer; messages are meant for the user."""


class StoreError(Exception):
    """The store cannot be opened or used."""


class StoreUnavailable(StoreError):
    """The store directory is unusable or the Chroma server is unreachable."""


class StoreBusy(StoreError):
    """Another ingest or remove (in this or another process) is writing to the store."""


class MissingNamespace(StoreError):
    """A namespace's collections do not exist: never created, or deleted (perhaps by another process)."""


class ModelError(Exception):
    """The embedding model is missing or its weights are not the expected ones."""


def unreachable(url: str) -> StoreUnavailable:
    """The one message for a Chroma server that does not answer."""
    return StoreUnavailable(f"Cannot reach the Chroma server at {url}: is `chroma run` running?")

