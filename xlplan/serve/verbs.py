"""The actions the server runs for ``POST …/{name}/{verb}``: each a command of the CLI, its options
read from the query string (``?send=1`` as ``--send``), answering with the command's result."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from xlplan.result import Result
from xlplan.workspace.folder import Workspace

Verb = Callable[[Workspace, Mapping[str, str], bool], Result]


def flag(params: Mapping[str, str], key: str, default: bool = False) -> bool:
    """A query parameter as a yes/no switch (``?send=1``, ``true``, ``yes``, ``on``); ``default`` when absent."""
    value = params.get(key)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _distribute(workspace: Workspace, params: Mapping[str, str], button: bool) -> Result:
    import xlplan

    only = [name for name in params.get("only", "").split(",") if name.strip()] or None
    return xlplan.distribute(workspace, only=only, send=flag(params, "send"), resend=flag(params, "resend"))


def _collect(workspace: Workspace, params: Mapping[str, str], button: bool) -> Result:
    import xlplan

    return xlplan.collect(workspace, send=flag(params, "send"), imap=flag(params, "imap"))


def _consolidate(workspace: Workspace, params: Mapping[str, str], button: bool) -> Result:
    import xlplan

    # A button asks for all three outputs, as the RunPython button does; the HTML page on request.
    return xlplan.consolidate(
        workspace,
        pdf=flag(params, "pdf", button),
        csv=flag(params, "csv", button),
        html=flag(params, "html"),
    )


def _remind(workspace: Workspace, params: Mapping[str, str], button: bool) -> Result:
    import xlplan

    return xlplan.remind(workspace, send=flag(params, "send"))


def _rollover(workspace: Workspace, params: Mapping[str, str], button: bool) -> Result:
    import xlplan

    return xlplan.rollover(workspace, force=flag(params, "force"))


VERBS: dict[str, tuple[str, Verb]] = {
    "distribute": ("配布", _distribute),
    "collect": ("回収・検証", _collect),
    "consolidate": ("集約", _consolidate),
    "remind": ("督促", _remind),
    "rollover": ("次年度へ", _rollover),
}
