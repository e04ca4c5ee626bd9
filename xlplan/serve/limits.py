"""A cap on the size of a request's body, counted as it arrives, before anything is spooled.

Starlette writes an upload to temporary files as it parses it; the per-file limit can only be
checked once a file is there. This ASGI middleware stops a body that announces more than the cap
(``Content-Length``) before a byte of it is read, and a body sent without a length (chunked) as
soon as its count passes the cap: the endpoint is then told the client left, and
:func:`over_limit` says why, so that it can answer 413 in the user's language.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xlplan.findings import Finding

MAX_REQUEST_BYTES = 256 * 1024 * 1024  # one upload in all: many returns at once, never a disk's worth
_FLAG = "xlplan.body_too_large"


class BodyLimit:
    """Stop any request body over ``limit`` bytes (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, with a ``receive`` that counts its body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            scope[_FLAG] = self.limit
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if scope.get(_FLAG):
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    scope[_FLAG] = self.limit
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)


def over_limit(request: Request) -> Finding | None:
    """``serve-request-too-large`` if ``request``'s body was stopped for being over the cap."""
    limit = int(request.scope.get(_FLAG) or 0)
    return Finding("serve-request-too-large", {"limit": limit // (1024 * 1024)}) if limit else None
