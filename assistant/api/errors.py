"""The two error shapes the API answers with (the statuses are assistant.errors.STATUS).

Native routes answer `{"error": "<one line>"}`; the OpenAI-compatible routes under /v1 answer
OpenAI's `{"error": {"message", "type", "param", "code"}}`, which OpenAI's clients turn into their
own exceptions. Nothing here imports FastAPI.
"""
from __future__ import annotations

from assistant.errors import Failure, failure

# OpenAI's error `type` for a status (its clients pick the exception class from the status itself).
OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
                422: "invalid_request_error", 429: "rate_limit_error"}


class ApiError(Exception):
    """An HTTP error a route raises itself (401, 403, an unknown model...); its message is one line."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers


def shown(exc: BaseException) -> Failure:
    """The status and one line of any error a route meets: a user-facing one's (assistant.errors.failure), else
    500 "internal error: <type>" (the client learns nothing more of a bug)."""
    return failure(exc) or Failure(500, f"internal error: {type(exc).__name__}")


def openai_type(status: int) -> str:
    return OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def is_openai_path(path: str) -> bool:
    """Whether a request path is one of the OpenAI-compatible routes (errors in OpenAI's shape)."""
    return path == "/v1" or path.startswith("/v1/")


def error_body(path: str, status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    """The JSON body of an error on this path: OpenAI's shape under /v1, else `{"error": message}`."""
    if is_openai_path(path):
        return {"error": {"message": message, "type": openai_type(status), "param": param, "code": code}}
    return {"error": message}


def validation_message(errors: list[dict]) -> str:
    """One line for a request body that does not fit the model; never echoes the input (it may be huge or NaN)."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":  # loc is ("body", position)
            parts.append(f"the body is not valid JSON (at position {error['loc'][-1]})")
            continue
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "Invalid request: " + "; ".join(parts)


def unparsable_body(cause: BaseException | None) -> str:
    """The one line for a JSON body FastAPI could not parse, from the exception it met (its 400's cause)."""
    if isinstance(cause, RecursionError):  # Python's json gives up past ~1,000 levels of arrays or objects
        return "Invalid request: the body's JSON is nested too deeply"
    return "Invalid request: the body is not valid UTF-8 JSON"


def validation_param(errors: list[dict]) -> str | None:
    """The first offending field of a request body, as OpenAI's `param` ("messages.0.content")."""
    for error in errors:
        if error.get("type") != "json_invalid":
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            if where:
                return where
    return None
