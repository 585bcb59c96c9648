"""nltk's punkt sentence tokenizer, loaded without the rest of nltk."""
from __future__ import annotations

from functools import cache


def import_punkt():
    """nltk's punkt module without running `nltk/__init__`, which imports all of nltk (seconds, 150 MB).

    punkt itself needs only a few small nltk modules. While it is imported, `nltk` and
    `nltk.tokenize` are bare packages; afterwards every nltk module loaded this way leaves
    `sys.modules` again (the returned module keeps working), so a later `import nltk` elsewhere
    loads the real, complete package as if this never happened.
    """
    import sys

    if "nltk" in sys.modules:
        import nltk.tokenize.punkt as punkt

        return punkt
    import importlib.util
    import types

    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        import nltk.tokenize.punkt as punkt  # raises the usual ImportError

        return punkt
    root = list(spec.submodule_search_locations)[0]
    for name, path in (("nltk", root), ("nltk.tokenize", f"{root}/tokenize")):
        stub = types.ModuleType(name)
        stub.__path__ = [path]
        stub.__package__ = name
        sys.modules[name] = stub
    try:
        import nltk.tokenize.punkt as punkt
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]
    return punkt


def split_sentences(text: str) -> list[str]:
    """text cut into sentences exactly as llama-index's default `split_by_sentence_tokenizer` cuts it (an
    untrained `PunktSentenceTokenizer`, each piece running to the start of the next), without its import
    of all of nltk and its stopwords (~130 MB and seconds, for the same splits)."""
    spans = [start for start, _ in _untrained().span_tokenize(text)]
    return [text[start:end] for start, end in zip(spans, spans[1:] + [len(text)])]


@cache
def _untrained():
    return import_punkt().PunktSentenceTokenizer()
