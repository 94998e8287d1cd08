"""Ed25519 keys (libsodium through PyNaCl) and key files with restrictive permissions."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_FILE_MODE = 0o600
PASSPHRASE_ENV = "ONETEAM_KEY_PASSPHRASE"


class KeyFileLocked(ValueError):
    """An encrypted key file without its passphrase, or with a wrong one."""


def _decrypt_seed(path: Path, sealed: dict[str, object], passphrase: str | None) -> bytes:
    if not passphrase:
        raise KeyFileLocked(f"key file {path} is encrypted; set {PASSPHRASE_ENV}")
    salt = bytes.fromhex(str(sealed["salt"]))
    box = nacl.secret.SecretBox(_passphrase_key(
        passphrase, salt, int(str(sealed["opslimit"])), int(str(sealed["memlimit"]))))
    try:
        return box.decrypt(bytes.fromhex(str(sealed["box"])))
    except nacl.exceptions.CryptoError:
        raise KeyFileLocked(f"wrong passphrase for key file {path}") from None


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 signing key and its public key."""

    signing_key: nacl.signing.SigningKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        if len(seed) != 32:
            raise ValueError(f"an Ed25519 seed has 32 bytes, got {len(seed)}")
        return cls(nacl.signing.SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def seed(self) -> bytes:
        return bytes(self.signing_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of ``message``."""
        return self.signing_key.sign(message).signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    libsodium releases the GIL, so calls from several threads verify in parallel.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def _passphrase_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode(), salt,
                                    opslimit=opslimit, memlimit=memlimit)


def write_key_file(path: Path, keypair: KeyPair, *, label: str = "",
                   passphrase: str | None = None) -> None:
    """Write a key file readable by its owner only; refuse to overwrite an existing one.

    With a ``passphrase`` the seed is encrypted at rest: XSalsa20-Poly1305
    (libsodium's secretbox) under a key derived by Argon2id.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict[str, object] = {
        "type": "ed25519",
        "label": label,
        "public_key": keypair.public_key.hex(),
    }
    if passphrase:
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        opslimit = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
        memlimit = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
        box = nacl.secret.SecretBox(_passphrase_key(passphrase, salt, opslimit, memlimit))
        document["encrypted_seed"] = {
            "cipher": "xsalsa20poly1305",
            "kdf": "argon2id",
            "opslimit": opslimit,
            "memlimit": memlimit,
            "salt": salt.hex(),
            "box": bytes(box.encrypt(keypair.seed)).hex(),
        }
    else:
        document["seed"] = keypair.seed.hex()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, KEY_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_key_file(path: Path, passphrase: str | None = None) -> KeyPair:
    """Read a key file; refuse one that others may read, or one that is malformed.

    An encrypted key file needs its passphrase: ``passphrase``, or else the
    environment variable ``ONETEAM_KEY_PASSPHRASE``.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"key file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(
            f"key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if "encrypted_seed" in document:
            seed = _decrypt_seed(path, document["encrypted_seed"],
                                 passphrase or os.environ.get(PASSPHRASE_ENV))
        else:
            seed = bytes.fromhex(document["seed"])
        keypair = KeyPair.from_seed(seed)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        if isinstance(error, KeyFileLocked):
            raise
        raise ValueError(f"key file {path} is malformed: {error}") from None
    if document.get("public_key") and document["public_key"] != keypair.public_key.hex():
        raise ValueError(f"key file {path}: public key does not match its seed")
    return keypair
