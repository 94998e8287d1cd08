"""Ed25519 keys in the Multikey encoding (Controlled Identifiers v1.0, Data Integrity EdDSA).

A public key is the multicodec ``ed25519-pub`` prefix (0xed, varint ``ed 01``) followed
by the 32 key bytes, written multibase base58-btc: ``z6Mk...``. A secret key is the
``ed25519-priv`` prefix (0x1300, varint ``80 26``) followed by the 32-byte seed:
``z3u2...``. Signatures come from libsodium through PyNaCl.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing

from oneteam.credentials.encoding import (
    MULTIBASE_BASE58BTC,
    EncodingError,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)

ED25519_PUB_CODEC = 0xED
ED25519_PRIV_CODEC = 0x1300
ED25519_KEY_BYTES = 32
ED25519_SIGNATURE_BYTES = 64

MULTIKEY_TYPE = "Multikey"
# The 2020 suite's key type carries the same publicKeyMultibase; verifiers accept it.
LEGACY_ED25519_KEY_TYPE = "Ed25519VerificationKey2020"


class KeyFormatError(ValueError):
    """A Multikey value is not an Ed25519 key in the expected encoding."""


def _decode_multicodec(value: str, codec: int, what: str) -> bytes:
    try:
        data = multibase_decode(value, expected_base=MULTIBASE_BASE58BTC)
        found, used = varint_decode(data)
    except EncodingError as error:
        raise KeyFormatError(f"{what} {value!r} is not multibase base58-btc: {error}") from error
    if found != codec:
        raise KeyFormatError(f"{what} {value!r} has multicodec 0x{found:x}, expected 0x{codec:x}")
    key = data[used:]
    if len(key) != ED25519_KEY_BYTES:
        raise KeyFormatError(
            f"{what} {value!r} holds {len(key)} bytes, expected {ED25519_KEY_BYTES}"
        )
    return key


@dataclass(frozen=True)
class Ed25519PublicKey:
    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != ED25519_KEY_BYTES:
            raise KeyFormatError(
                f"an Ed25519 public key is {ED25519_KEY_BYTES} bytes, got {len(self.raw)}"
            )

    @classmethod
    def from_multibase(cls, value: str) -> Ed25519PublicKey:
        return cls(_public_key_bytes(value))

    def multibase(self) -> str:
        return multibase_encode(varint_encode(ED25519_PUB_CODEC) + self.raw, MULTIBASE_BASE58BTC)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != ED25519_SIGNATURE_BYTES:
            return False
        try:
            nacl.signing.VerifyKey(self.raw).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
            return False
        return True


@dataclass(frozen=True)
class Ed25519KeyPair:
    """A signing key; its seed never appears in ``repr`` or logs."""

    seed: bytes = field(repr=False)
    public_key: Ed25519PublicKey = field(init=False)

    def __post_init__(self) -> None:
        if len(self.seed) != ED25519_KEY_BYTES:
            raise KeyFormatError(
                f"an Ed25519 seed is {ED25519_KEY_BYTES} bytes, got {len(self.seed)}"
            )
        verify_key = nacl.signing.SigningKey(self.seed).verify_key
        object.__setattr__(self, "public_key", Ed25519PublicKey(bytes(verify_key)))

    @classmethod
    def generate(cls) -> Ed25519KeyPair:
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def from_secret_multibase(cls, value: str) -> Ed25519KeyPair:
        return cls(_decode_multicodec(value, ED25519_PRIV_CODEC, "secret key"))

    def secret_multibase(self) -> str:
        """The ``z3u2...`` secret-key Multikey; store it encrypted, never log it."""
        return multibase_encode(varint_encode(ED25519_PRIV_CODEC) + self.seed, MULTIBASE_BASE58BTC)

    def sign(self, message: bytes) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).sign(message).signature)


@functools.lru_cache(maxsize=1024)
def _public_key_bytes(value: str) -> bytes:
    """The key bytes of a ``z6Mk…`` Multikey (a verifier meets the same few keys often)."""
    return _decode_multicodec(value, ED25519_PUB_CODEC, "public key")


def verification_method(
    method_id: str, controller: str, public_key: Ed25519PublicKey
) -> dict[str, str]:
    """A Multikey verification method object, as a controller document lists it."""
    return {
        "id": method_id,
        "type": MULTIKEY_TYPE,
        "controller": controller,
        "publicKeyMultibase": public_key.multibase(),
    }
