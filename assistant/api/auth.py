"""API keys: when `[server] api_keys` holds any, every route but /health needs `Authorization: Bearer KEY`."""
from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import ApiError
from assistant.history import LOCAL

bearer = HTTPBearer(auto_error=False, description="One of `[server] api_keys` (needed only when any is set).")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """A dependency: passes when no key is configured or the request carries one of them; else 401."""
    keys: list[bytes] = request.app.state.service.api_keys
    if not keys:
        return
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "Missing API key: send the header `Authorization: Bearer KEY`", code="missing_api_key",
                       headers=CHALLENGE)
    given = credentials.credentials.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:  # every key is compared, so the time taken does not say which one came close
        matched |= hmac.compare_digest(given, key)
    if not matched:
        raise ApiError(401, "Invalid API key", code="invalid_api_key", headers=CHALLENGE)


def owner(request: Request) -> str:
    """Whose saved conversations a request reads and writes (a dependency, and the one place that decides it).

    LOCAL for every request for now: API keys have no names yet. When keys are named, it becomes the name of
    the key that asked, so that each key sees only its own conversations."""
    return LOCAL
