"""The platform's data directory and the secrets it generates there on first run.

Imports nothing from Django, so ``oneteam up`` can lay the directory out before
Django starts. Layout under the data directory (``.oneteam`` by default,
``ONETEAM_DATA_DIR`` to move it)::

    ledger/                 the embedded validator's data directory
    platform/db.sqlite3     the database, unless DATABASE_URL names another
    platform/secret_key     Django's SECRET_KEY (mode 600)
    platform/kek            the key-encryption key that seals secrets at rest (mode 600)
    platform/demo_password  the demo people's password (mode 600)
    logs/                   the output of the processes ``oneteam up`` starts
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DATA_DIR_ENV = "ONETEAM_DATA_DIR"
DATA_DIR_DEFAULT = ".oneteam"
SECRET_KEY_FILE = "secret_key"
KEK_FILE = "kek"
DEMO_PASSWORD_FILE = "demo_password"
KEK_BYTES = 32


def data_dir() -> Path:
    """The data directory named by ``ONETEAM_DATA_DIR`` (default ``.oneteam``), absolute."""
    return Path(os.environ.get(DATA_DIR_ENV) or DATA_DIR_DEFAULT).resolve()


def platform_dir(root: Path | None = None) -> Path:
    """``ROOT/platform``, created (mode 700) if missing."""
    path = (root or data_dir()) / "platform"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def secret_file(path: Path, make: str) -> str:
    """The text of a secret file, written with ``make`` (mode 600, never overwritten) if missing.

    A file that group or others may read is refused, as the ledger refuses such key files.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(make + "\n")
            out.flush()
            os.fsync(out.fileno())
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(f"{path} is readable by others (mode {stat.filemode(mode)}); "
                              f"run: chmod 600 {path}")
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise ValueError(f"{path} is empty; delete it to have a new secret generated")
    return text


def secret_key(root: Path | None = None) -> str:
    """Django's SECRET_KEY, generated into the data directory on first use."""
    return secret_file(platform_dir(root) / SECRET_KEY_FILE, secrets.token_urlsafe(50))


def key_encryption_key(root: Path | None = None) -> bytes:
    """The 32-byte key that seals secrets stored by the platform, generated on first use."""
    text = secret_file(platform_dir(root) / KEK_FILE, secrets.token_hex(KEK_BYTES))
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEK_BYTES:
        raise ValueError(f"{platform_dir(root) / KEK_FILE} must hold {KEK_BYTES} bytes in hex")
    return key


DEMO_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def demo_password(root: Path | None = None) -> str:
    """The password of every demo person, generated per data directory on first use
    (letters and digits that are hard to confuse, easy to copy from a terminal)."""
    made = "".join(secrets.choice(DEMO_PASSWORD_ALPHABET) for _ in range(16))
    return secret_file(platform_dir(root) / DEMO_PASSWORD_FILE, made)
