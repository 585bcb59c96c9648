"""Whether a server may listen beyond this machine: the API only with a key, the chat UI only with users.

Both refuse with one line (ConfigError: the CLI exits 1) before the store is opened; `--insecure`
overrides (e.g. behind a proxy that authenticates). Nothing here imports FastAPI or Gradio.
"""
from __future__ import annotations

import ipaddress

from assistant.errors import ConfigError


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


def check_api(host: str, has_keys: bool, insecure: bool) -> None:
    """Refuse to serve the API beyond loopback without an API key, unless insecure."""
    if has_keys or insecure or is_loopback(host):
        return
    raise ConfigError(f"Refusing to serve on {host} without an API key: anyone who can reach it could read and "
                      "change your index. Set one (ASSISTANT_API_KEYS=some-long-secret, or [server] api_keys), "
                      "or pass --insecure")


def check_ui(host: str, has_users: bool, share: bool, insecure: bool) -> None:
    """Refuse to serve the chat UI beyond loopback, or through a Gradio share link, without users, unless insecure."""
    if has_users or insecure or (is_loopback(host) and not share):
        return
    where = "a public share link" if share else host
    raise ConfigError(f"Refusing to serve the chat UI on {where} without a login: anyone who can reach it could "
                      "read and change your index. Set users (ASSISTANT_UI_USERS=alice:some-long-password, or "
                      "[ui] users), or pass --insecure")
