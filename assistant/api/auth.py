"""API keys: when `[server] api_keys` holds any, every route but /health needs `Authorization: Bearer KEY`."""
from __future__ import annotations

import hmac
import ipaddress

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import ApiError
from assistant.errors import ConfigError

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


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


def check_exposure(host: str, has_keys: bool, insecure: bool) -> None:
    """Refuse to listen beyond loopback without an API key (ConfigError: one line, exit 1), unless insecure."""
    if has_keys or insecure or is_loopback(host):
        return
    raise ConfigError(f"Refusing to serve on {host} without an API key: anyone who can reach it could read and "
                      "change your index. Set one (ASSISTANT_API_KEYS=some-long-secret, or [server] api_keys), "
                      "or pass --insecure")
