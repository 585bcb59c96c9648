"""The one hook built-ins and add-ons register through: the entry points of a group (importlib.metadata).

Answerers (`docs_assistant.answerers`, assistant/answerers) and commands (`docs_assistant.commands`,
assistant/cli) are both found here: the built-ins first, listed in code so a source checkout works
uninstalled, then every installed package's. One whose name is taken, that fails to load, or that is not
what the group holds is left out with a warning: it never stops the others.
"""
from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from importlib.metadata import EntryPoint, entry_points

log = logging.getLogger(__name__)


def load_group(group: str, builtins: Iterable[EntryPoint], what: str, taken: Collection[str] = (),
               kind: type | None = None) -> dict[str, object]:
    """Name -> loaded object, built-ins first, for the names not in `taken`; `what` names one in warnings
    ("answerer plugin", "command"), `kind` is the type each must be (None: anything)."""
    found: dict[str, object] = {}
    for point in (*builtins, *entry_points(group=group)):
        if point.name in found or point.name in taken:
            log.warning("%s %r (%s) is left out: that name is taken", what, point.name, point.value)
            continue
        try:
            loaded = point.load()
        except Exception as exc:  # a broken add-on: say so, go on with the rest  # noqa: BLE001
            log.warning("%s %r (%s) failed to load: %s: %s", what, point.name, point.value, type(exc).__name__, exc)
            continue
        if kind is not None and not isinstance(loaded, kind):
            log.warning("%s %r (%s) is not a %s", what, point.name, point.value, kind.__name__)
            continue
        found[point.name] = loaded
    return found
