"""API keys: when `[server] api_keys` or `named_keys` holds any, every route but /health needs
`Authorization: Bearer KEY`; the key that matched is the request's principal (assistant/access.py)."""
from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.access import EVERYTHING, Principal
from assistant.api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="One of `[server] api_keys` or `named_keys` (needed only when any "
                                                  "is set).")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """A dependency: who is asking (everything when no key is configured), kept on `request.state.principal`;
    401 without a key, or with one that is none of them."""
    access = request.app.state.service.access
    if not access.keys:
        who = EVERYTHING
    elif credentials is None or not credentials.credentials:
        raise ApiError(401, "Missing API key: send the header `Authorization: Bearer KEY`", code="missing_api_key",
                       headers=CHALLENGE)
    else:
        who = access.for_key(credentials.credentials)
        if who is None:
            raise ApiError(401, "Invalid API key", code="invalid_api_key", headers=CHALLENGE)
    request.state.principal = who
    return who


def owner(request: Request) -> str:
    """Whose saved conversations a request reads and writes: the name of the key that asked (`api` for a plain
    key, `local` when no key is configured); require_key has put it on the request. Each key sees only its own."""
    return request.state.principal.name
