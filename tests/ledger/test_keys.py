"""Key files: owner-only permissions, no overwriting, and clear refusals of bad files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from oneteam.ledger import keys
from oneteam.ledger.keys import KeyPair, read_key_file, write_key_file

from .conftest import keypair_for


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_key_file_is_mode_600_and_reads_back(tmp_path: Path) -> None:
    """A new key file (in a new directory) is readable by its owner only and round-trips."""
    keypair = keypair_for("keys-a")
    path = tmp_path / "nested" / "dir" / "member.json"
    old_umask = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        write_key_file(path, keypair, label="member alpha")
    finally:
        os.umask(old_umask)
    assert mode_of(path) == 0o600
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {"type": "ed25519", "label": "member alpha",
                        "public_key": keypair.public_key.hex(), "seed": keypair.seed.hex()}
    loaded = read_key_file(path)
    assert loaded.public_key == keypair.public_key
    assert loaded.seed == keypair.seed


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing key file is never replaced; its contents stay those of the first key."""
    path = tmp_path / "k.json"
    first, second = keypair_for("keys-first"), keypair_for("keys-second")
    write_key_file(path, first)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_key_file(path, second)
    assert path.read_bytes() == before
    assert read_key_file(path).public_key == first.public_key


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610, 0o602, 0o666])
def test_read_refuses_file_others_may_access(tmp_path: Path, mode: int) -> None:
    """A key file with any group or world permission bit is refused, saying how to fix it."""
    path = tmp_path / "k.json"
    write_key_file(path, keypair_for("keys-open"))
    path.chmod(mode)
    with pytest.raises(PermissionError) as info:
        read_key_file(path)
    message = str(info.value)
    assert f"mode {mode:o}" in message
    assert f"chmod 600 {path}" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_read_accepts_owner_only_modes(tmp_path: Path, mode: int) -> None:
    """Owner-only modes (including read-only 400) are accepted."""
    path = tmp_path / "k.json"
    keypair = keypair_for("keys-owner")
    write_key_file(path, keypair)
    path.chmod(mode)
    assert read_key_file(path).public_key == keypair.public_key


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A missing key file raises FileNotFoundError naming the path."""
    path = tmp_path / "absent.json"
    with pytest.raises(FileNotFoundError, match=r"absent\.json does not exist"):
        read_key_file(path)


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b"{}",
        b'{"seed": 5}',
        b'{"seed": "zz"}',
        b'{"seed": "00"}',
        b'{"seed": "' + b"00" * 33 + b'"}',
    ],
)
def test_malformed_file_is_refused_with_value_error(tmp_path: Path, content: bytes) -> None:
    """Every malformed key file raises ValueError saying it is malformed, nothing else."""
    path = _write_private(tmp_path / "k.json", content)
    with pytest.raises(ValueError, match="is malformed"):
        read_key_file(path)


def test_seed_public_key_mismatch_is_refused(tmp_path: Path) -> None:
    """A file whose public key is not the one its seed derives is refused."""
    keypair, other = keypair_for("keys-seed"), keypair_for("keys-other")
    document = {"type": "ed25519", "label": "", "seed": keypair.seed.hex(),
                "public_key": other.public_key.hex()}
    path = _write_private(tmp_path / "k.json", json.dumps(document).encode())
    with pytest.raises(ValueError, match="public key does not match its seed"):
        read_key_file(path)


def test_file_without_public_key_derives_it(tmp_path: Path) -> None:
    """The public key field is optional: the seed alone determines the key pair."""
    keypair = keypair_for("keys-seed-only")
    path = _write_private(tmp_path / "k.json", json.dumps({"seed": keypair.seed.hex()}).encode())
    assert read_key_file(path).public_key == keypair.public_key


def test_seed_must_have_32_bytes() -> None:
    """KeyPair.from_seed refuses seeds of any other length."""
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        KeyPair.from_seed(bytes(31))


def test_sign_and_verify() -> None:
    """Signatures verify for their key and message only; malformed inputs return False."""
    keypair = keypair_for("keys-sign")
    signature = keypair.sign(b"message")
    assert len(signature) == keys.SIGNATURE_BYTES
    assert keys.verify(keypair.public_key, b"message", signature)
    assert not keys.verify(keypair.public_key, b"messagE", signature)
    assert not keys.verify(keypair_for("keys-x").public_key, b"message", signature)
    assert not keys.verify(keypair.public_key[:31], b"message", signature)
    assert not keys.verify(keypair.public_key, b"message", signature[:63])
    assert not keys.verify(bytes(32), b"message", bytes(64))
    assert KeyPair.generate().public_key != KeyPair.generate().public_key


def test_an_encrypted_key_file_holds_no_seed_and_opens_with_its_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a passphrase the seed is encrypted at rest (Argon2id + secretbox)."""
    from oneteam.ledger.keys import PASSPHRASE_ENV, KeyFileLocked

    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    pair = KeyPair.generate()
    path = tmp_path / "sealed.json"
    write_key_file(path, pair, passphrase="correct horse")
    text = path.read_text()
    assert pair.seed.hex() not in text and '"seed"' not in text
    assert read_key_file(path, passphrase="correct horse").public_key == pair.public_key
    with pytest.raises(KeyFileLocked, match="encrypted; set ONETEAM_KEY_PASSPHRASE"):
        read_key_file(path)
    with pytest.raises(KeyFileLocked, match="wrong passphrase"):
        read_key_file(path, passphrase="wrong")
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert read_key_file(path).seed == pair.seed
