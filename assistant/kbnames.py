"""What a knowledge base may be called: the one rule, checked the same by settings, the service and every front end."""
from __future__ import annotations

import re

from assistant.errors import InvalidKnowledgeBaseName

NAME_RULE = "lowercase letters, digits, - and _, 1 to 40 characters, starting with a letter or digit"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def is_name(name: str) -> bool:
    """Whether `name` is a valid knowledge base name."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: str) -> str:
    """`name` when it is a valid knowledge base name; InvalidKnowledgeBaseName otherwise."""
    if is_name(name):
        return name
    shown = str(name) if len(str(name)) <= 60 else str(name)[:60] + "…"
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate prints as \udcxx
    raise InvalidKnowledgeBaseName(f"Invalid knowledge base name {shown!r}: use {NAME_RULE}")
