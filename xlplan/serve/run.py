"""Running the server with uvicorn: the command line's ``xlplan serve``."""

from __future__ import annotations

from collections.abc import Sequence

import uvicorn

from xlplan.errors import ConfigurationError
from xlplan.findings import Finding, Language
from xlplan.result import say
from xlplan.serve.app import create_app, served
from xlplan.serve.auth import Network, parse_networks
from xlplan.serve.limits import MAX_REQUEST_BYTES
from xlplan.workspace.folder import Workspace


def networks_from(texts: Sequence[str]) -> tuple[Network, ...]:
    """The allow-list from ``--allow`` values.

    Raises:
        ConfigurationError: a value that is not an address or a network.
    """
    try:
        return parse_networks(texts)
    except ValueError:
        bad = next(text for text in texts if not _network_ok(text))
        raise ConfigurationError([Finding("serve-bad-network", {"value": bad})]) from None


def _network_ok(text: str) -> bool:
    try:
        parse_networks([text])
    except ValueError:
        return False
    return True


def run(
    workspaces: Sequence[Workspace],
    *,
    host: str,
    port: int,
    allow: Sequence[str] = (),
    imap_every: float | None = None,
    upload_limit: int = MAX_REQUEST_BYTES // (1024 * 1024),
    language: Language = "ja",
) -> None:
    """Serve ``workspaces`` on ``host:port`` until interrupted.

    Raises:
        ConfigurationError: a workspace cannot be read, two share a name, or ``allow`` is bad.

    With ``imap_every``, each workspace takes the returns mailed to the office every so many minutes.
    ``upload_limit`` caps one upload's body, in MB (counted as it arrives).
    """
    state = served(workspaces, networks=networks_from(allow), imap_every=imap_every, language=language)
    print(
        say(language, f"xlplan のサーバーを開始しました: http://{host}:{port}/（作業フォルダ: {'、'.join(state.workspaces)}）",
            f"The xlplan server has started: http://{host}:{port}/ (workspaces: {', '.join(state.workspaces)})"),
        flush=True,
    )  # fmt: skip
    # Behind the city's reverse proxy (TLS there), the client address comes from X-Forwarded-For.
    uvicorn.run(
        create_app(state, upload_limit * 1024 * 1024),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
    )
