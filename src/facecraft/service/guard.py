"""ASGI middleware in front of every route: the bearer token and the request body cap.

Both checks run before any route reads a byte of the body, so an unauthenticated or oversized upload
is refused without being stored.
"""

import hmac
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_API_PATHS = frozenset({"/api/health"})
QUERY_TOKEN_PATHS = re.compile(r"^/api/jobs/[^/]+/(events|result|target)$")
"""Routes a browser opens without headers (EventSource, <video src>, a download link): ?token= works."""
BODY_SLACK_BYTES = 1024 * 1024
"""Room for the multipart framing and the form fields on top of the files themselves."""

UNAUTHORIZED = (
    "this server needs a token: send the header 'Authorization: Bearer <token>' "
    "(ask whoever started `facecraft serve` for it)"
)
WRONG_TOKEN = "the token is wrong: check the 'Authorization: Bearer <token>' header"


class BodyTooLargeError(HTTPException):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            413,
            f"the request is larger than the limit of {limit_bytes:,} bytes. "
            "Trim or compress the file, or ask the operator to raise the limit.",
        )


def body_limit_for(max_upload_bytes: int) -> Callable[[str, str], int | None]:
    """The largest body each route accepts: three files for a new job, one for other uploads."""

    def limit(method: str, path: str) -> int | None:
        if method != "POST":
            return None
        if path == "/api/jobs":
            return 3 * max_upload_bytes + BODY_SLACK_BYTES
        return max_upload_bytes + BODY_SLACK_BYTES

    return limit


def token_matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class GuardMiddleware:
    """Refuses /api/* (except health) without the token (401), and bodies over the cap (413)."""

    def __init__(self, app: ASGIApp, token: str | None, body_limit: Callable[[str, str], int | None]) -> None:
        self._app = app
        self._token = token
        self._body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        problem = self._auth_problem(scope, path)
        if problem is not None:
            await _send_json(send, 401, problem, {"www-authenticate": "Bearer"})
            return
        limit = self._body_limit(scope["method"], path)
        if limit is None:
            await self._app(scope, receive, send)
            return
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, BodyTooLargeError(limit).detail, {})
            return
        await self._app(scope, _capped(receive, limit), send)

    def _auth_problem(self, scope: Scope, path: str) -> str | None:
        if self._token is None or not path.startswith("/api/") or path in PUBLIC_API_PATHS:
            return None
        given = _bearer(scope)
        if given is None and QUERY_TOKEN_PATHS.match(path):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [None])[0]
        if given is None:
            return UNAUTHORIZED
        return None if token_matches(given, self._token) else WRONG_TOKEN


def _capped(receive: Receive, limit_bytes: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit_bytes:
                raise BodyTooLargeError(limit_bytes)
        return message

    return wrapped


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, "authorization")
    if value is None:
        return None
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


async def _send_json(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("latin-1")),
        *((key.encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
