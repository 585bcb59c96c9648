"""Text that arrives from outside (a terminal, a JSON body) checked before it reaches the answerer."""
from __future__ import annotations

import re

from assistant.errors import InvalidText

# Lone surrogates: what undecodable bytes become in sys.argv (surrogateescape), or a JSON "\ud800".
_SURROGATE = re.compile("[\ud800-\udfff]")


def require_text(text: str, what: str = "question") -> str:
    """text unchanged, or InvalidText when it holds something that is not Unicode text."""
    bad = _SURROGATE.search(text)
    if bad:
        raise InvalidText(f"The {what} is not valid UTF-8 text (U+{ord(bad.group()):04X} at character "
                          f"{bad.start() + 1}): send or type it as UTF-8")
    return text
