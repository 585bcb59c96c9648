"""With `[ui] users` set, nothing but the login page answers before a login.

Gradio checks the login on most of its routes but leaves others open (`/gradio_api/reset`, `/gradio_api/cancel`,
`/gradio_api/heartbeat/...`, `/gradio_api/app_id`, ...). This gate sits in front of all of them: a request
without the login cookie gets Gradio's own 401 unless it is for the login page itself or what that page loads.
A route a later Gradio adds is closed too.
"""
from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

# The login page and what it loads (scripts, styles, icons), its form's POST, and the logout link: none holds
# anything of the index or acts on a session. And startup-events, which Gradio's launch() calls itself, without
# a login, to run the app's start-up events once (there are none; any later call does nothing).
OPEN_PATHS = frozenset({"/", "/login", "/login/", "/logout", "/favicon.ico", "/theme.css", "/gradio_api/theme.css",
                        "/manifest.json", "/robots.txt", "/gradio_api/startup-events"})
OPEN_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon")


def is_open(path: str) -> bool:
    """Whether a path answers before a login."""
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class LoginGate:
    """ASGI middleware for the Gradio app: 401 for any closed path until the browser has logged in."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        gradio = scope.get("app")  # the Gradio App (Starlette sets it before any middleware runs)
        if scope["type"] == "http" and getattr(gradio, "auth", None) is not None and not is_open(scope["path"]) \
                and _user(gradio, HTTPConnection(scope)) is None:
            body = {"detail": {"error": "Not authenticated", "auth_message": gradio.get_blocks().auth_message}}
            return await JSONResponse(body, status_code=401)(scope, receive, send)
        await self.app(scope, receive, send)


def _user(gradio, connection: HTTPConnection) -> str | None:
    """The logged-in user of a request, as Gradio's own login check finds it (its login cookie), or None."""
    cookies = connection.cookies
    token = cookies.get(f"access-token-{gradio.cookie_id}") or cookies.get(f"access-token-unsecure-{gradio.cookie_id}")
    return gradio.tokens.get(token)
