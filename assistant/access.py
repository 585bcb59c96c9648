"""Who may read and change which knowledge bases: the one place the scopes are decided (docs/access.md).

A principal is who is asking: a chat UI user (`[ui] users`), an API key (a plain `[server] api_keys`
entry, or a `[server] named_keys` one), or "local" when no login and no key is configured (the CLI, a
chat UI or API on this machine without them). `[access.NAME]` rules give a user or a named key the
bases it may read (ask, list, read documents) and change (ingest, upload, remove, create, delete);
NAME without a rule, and a plain key, may do everything, as before there were rules.

`assistant.bases.OpenBases` checks a principal before it opens any base, so every front end (chat UI,
gradio_client endpoints, native API, OpenAI route) goes through the same check. A principal's `name`
is also who owns what it saves (conversations).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import Forbidden

if TYPE_CHECKING:
    from assistant.settings import Settings

EVERY = "*"  # in a rule: every knowledge base, those made later too
LOCAL = "local"  # the principal when no login or key is configured
PLAIN_KEY = "api"  # the principal of a plain `[server] api_keys` key
RESERVED = (LOCAL, PLAIN_KEY)


@dataclass(frozen=True)
class Principal:
    """Who is asking, and the knowledge bases it may read and change (EVERY: all of them)."""

    name: str
    read: frozenset[str] = frozenset({EVERY})
    change: frozenset[str] = frozenset({EVERY})

    def may(self, kb: str, change: bool = False) -> bool:
        """Whether it may read (or, with `change`, change) knowledge base `kb`; change implies read."""
        allowed = self.change if change else self.read | self.change
        return EVERY in allowed or kb in allowed

    def check(self, kb: str, change: bool = False) -> None:
        """Forbidden, with one line, unless it may read (or change) `kb`."""
        if not self.may(kb, change):
            action = "change" if change else "read"
            raise Forbidden(f"{self.name} may not {action} the knowledge base {kb!r} ([access.{self.name}] {action} "
                            "does not list it)")

    def nothing_readable(self) -> Forbidden:
        return Forbidden(f"{self.name} may read no knowledge base ([access.{self.name}] lists none)")


EVERYTHING = Principal(LOCAL)
NOBODY = Principal("anonymous", frozenset(), frozenset())  # no login on an app that has users: nothing


class Access:
    """The principals of one process's settings: by UI user name, and by API key."""

    def __init__(self, settings: Settings):
        self.rules = settings.access
        self.has_users = bool(settings.ui.users)
        server = settings.server
        self.keys = [(key.get_secret_value().encode("utf-8"), PLAIN_KEY) for key in server.api_keys] + \
                    [(key.get_secret_value().encode("utf-8"), name) for name, key in server.named_keys.items()]

    def principal(self, name: str) -> Principal:
        """A user's or named key's principal: what its [access.NAME] rule gives, everything without one."""
        rule = self.rules.get(name)
        if rule is None:
            return Principal(name)
        return Principal(name, frozenset(rule.read), frozenset(rule.change))

    def for_user(self, name: str | None) -> Principal:
        """The principal of a chat UI user (Gradio's `request.username`); None: not logged in."""
        if name is None:
            return NOBODY if self.has_users else EVERYTHING
        return self.principal(name)

    def for_key(self, given: str) -> Principal | None:
        """The principal of the API key a request carries; None when it is no key of these settings.

        Every key is compared, in constant time, so the time taken does not say which one came close."""
        data = given.encode("utf-8", "surrogateescape")
        found = None
        for key, name in self.keys:
            if hmac.compare_digest(data, key):
                found = name
        return None if found is None else self.principal(found)


def check_rules(settings: Settings) -> None:
    """ValueError (one line) for an [access] rule that names nobody, or a user or key with a reserved name."""
    names = {name for name, _ in settings.ui.accounts()} | set(settings.server.named_keys)
    if reserved := sorted(names & set(RESERVED)):
        name = reserved[0]
        raise ValueError(f"{name!r} is a reserved name ({LOCAL}: no login; {PLAIN_KEY}: a plain api_keys key): "
                         "give the user or named key another one")
    for name in settings.access:
        if not name.strip():
            raise ValueError("an [access] rule has an empty name")
        if name not in names:
            raise ValueError(f"[access.{name}] names nobody: no [ui] users entry or [server] named_keys name is "
                             f"{name!r}")


# ---- the scopes table: each way to reach a knowledge base, and what it needs on it --------------------------

@dataclass(frozen=True)
class Route:
    action: str
    where: str  # the route or endpoint, {kb} the knowledge base
    needs: str  # "read" or "change"
    refusal: str  # what a principal that may not gets


SCOPES = ("read", "change", "nothing")  # what a principal's rule gives it on {kb}: the table's columns
REFUSED = "403, one line"
ROUTES = (
    Route("ask", "`POST /kb/{kb}/ask`", "read", REFUSED),
    Route("list bases", "`GET /kb`", "read", "not listed"),
    Route("list models", "`GET /v1/models` (`extractive@{kb}`)", "read", "not listed"),
    Route("list sources", "`GET /kb/{kb}/sources`", "read", REFUSED),
    Route("read a document", "`GET /kb/{kb}/documents/{source}`", "read", REFUSED),
    Route("OpenAI chat", "`POST /v1/chat/completions`, model `extractive@{kb}`", "read", REFUSED),
    Route("gradio_client ask", "`/ask` with `kb={kb}`", "read", "AppError, one line"),
    Route("gradio_client sources", "`/sources` with `kb={kb}`", "read", "AppError, one line"),
    Route("ingest", "`POST /kb/{kb}/ingest`", "change", REFUSED),
    Route("upload", "`POST /kb/{kb}/documents`", "change", REFUSED),
    Route("remove", "`DELETE /kb/{kb}/documents/{source}`", "change", REFUSED),
    Route("create base", "`POST /kb` with `{\"name\": \"{kb}\"}`", "change", REFUSED),
    Route("delete base", "`DELETE /kb/{kb}`", "change", REFUSED),
)


def scope_principal(scope: str, kb: str) -> Principal:
    """A principal whose rule gives it `scope` (one of SCOPES) on knowledge base `kb`."""
    return Principal(scope, frozenset({kb}) if scope == "read" else frozenset(),
                     frozenset({kb}) if scope == "change" else frozenset())


def outcome(route: Route, scope: str) -> str:
    """A cell of the table: what a principal with `scope` on {kb} gets from `route`, as Principal.may decides."""
    listing = route.refusal == "not listed"
    if scope_principal(scope, "kb").may("kb", change=route.needs == "change"):
        return "listed" if listing else "allowed"
    return route.refusal


def scopes_table() -> str:
    """The Markdown table of who may do what (docs/access.md holds a copy; tests/test_scopes.py tests each cell)."""
    rows = ["| action | route | needs | " + " | ".join(f"with {scope}" for scope in SCOPES) + " |",
            "|---" * (3 + len(SCOPES)) + "|"]
    for route in ROUTES:
        cells = " | ".join(outcome(route, scope) for scope in SCOPES)
        rows.append(f"| {route.action} | {route.where} | {route.needs} | {cells} |")
    return "\n".join(rows)
