"""Passwords for the mail servers: from the environment, else the operating system's keyring.

Never from the master workbook, which colleagues open and mail around.
"""

from __future__ import annotations

import os


def password(environment_variable: str, keyring_service: str, user: str) -> str | None:
    """The password in ``environment_variable``, else the keyring's for (``keyring_service``, ``user``)."""
    found = os.environ.get(environment_variable)
    if found:
        return found
    try:
        import keyring  # optional: pip install keyring
    except ImportError:
        return None
    try:
        stored = keyring.get_password(keyring_service, user)
    except Exception:  # a keyring backend may fail in many ways (no D-Bus, locked store)
        return None
    return str(stored) if stored else None
