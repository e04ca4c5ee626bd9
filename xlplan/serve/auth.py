"""Who may use the server: bearer tokens, browser sessions and an optional allow-list of networks.

A workspace's token is ``XLPLAN_TOKEN`` when that is set (one token for every workspace served),
otherwise the one in the workspace's ``.xlplan/server-token``, made at the first start (mode
0600) and printed once. A request carries it as ``Authorization: Bearer TOKEN``; the status page
takes it once in a form and keeps a session cookie (HttpOnly, SameSite=Strict) instead, with a
per-session token that every form posts back (so another site cannot make the browser act).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding
from xlplan.workspace.folder import Workspace

TOKEN_ENV = "XLPLAN_TOKEN"
TOKEN_FILE = "server-token"
SESSION_COOKIE = "xlplan_session"
TOKEN_MIN = 16  # characters of a token set by hand; a made one has 43
SESSION_SECONDS = 8 * 3600  # a working day: the page asks for the token again the next morning

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def token_path(workspace: Workspace) -> Path:
    """Where the workspace's generated token is kept."""
    return workspace.key_path.parent / TOKEN_FILE


def workspace_token(workspace: Workspace, environ: Mapping[str, str] = os.environ) -> tuple[str, bool]:
    """The workspace's token and whether it was made just now (so the caller prints it, once).

    Raises:
        ConfigurationError: ``XLPLAN_TOKEN`` is shorter than :data:`TOKEN_MIN` characters (a token
            that can be guessed opens the ledger to anyone on the network).
    """
    shared = environ.get(TOKEN_ENV, "").strip()
    if shared:
        if len(shared) < TOKEN_MIN:
            raise ConfigurationError([Finding("serve-weak-token", {"name": TOKEN_ENV, "minimum": TOKEN_MIN})])
        return shared, False
    path = token_path(workspace)
    try:
        kept = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        kept = None
    if kept:
        return kept, False
    if kept is not None:  # empty: a start killed between making the file and writing it
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # O_EXCL: two servers starting at once never overwrite each other's printed token.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip(), False
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return token, True


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``192.168.1.5`` … as networks.

    Raises:
        ValueError: a text that is not an address or a network.
    """
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts if text.strip())


def allowed_client(host: str | None, networks: Sequence[Network]) -> bool:
    """Whether a client address may use the server at all (every address when no list is given)."""
    if not networks:
        return True
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


@dataclass
class Session:
    """A browser that gave a token: the workspaces it opens and the token its forms carry."""

    names: frozenset[str]
    csrf: str
    expires: float
    notice: str | None = None  # what the last decision made on the page said, shown once


@dataclass
class Gate:
    """The tokens of the workspaces served, and the browser sessions opened with them."""

    tokens: dict[str, str]  # workspace name → its token
    networks: tuple[Network, ...] = ()
    sessions: dict[str, Session] = field(default_factory=dict)

    def names_for(self, token: str | None) -> frozenset[str]:
        """The workspaces a token opens (none for a wrong or missing token)."""
        if not token:
            return frozenset()
        given = token.encode()
        return frozenset(
            name for name, own in self.tokens.items() if hmac.compare_digest(given, own.encode())
        )

    def open_session(self, names: frozenset[str]) -> str:
        """A new session for ``names``; returns its cookie value."""
        self._expire()
        key = secrets.token_urlsafe(32)
        self.sessions[key] = Session(names, secrets.token_urlsafe(24), time.monotonic() + SESSION_SECONDS)
        return key

    def session(self, key: str | None) -> Session | None:
        """The live session of a cookie value, or None."""
        if not key:
            return None
        found = self.sessions.get(key)
        if found is None or found.expires < time.monotonic():
            self.sessions.pop(key, None)
            return None
        return found

    def close_session(self, key: str | None) -> None:
        """Forget a session (ログアウト)."""
        if key:
            self.sessions.pop(key, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [key for key, session in self.sessions.items() if session.expires < now]:
            del self.sessions[key]


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
