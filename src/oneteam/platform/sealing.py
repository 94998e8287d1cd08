"""Secrets at rest: sealed with the platform's key-encryption key (XSalsa20-Poly1305).

The key-encryption key (KEK) is generated into the data directory on first run
(``platform/kek``, mode 600) and given to Django as ``settings.ONETEAM_KEK``. An app
that stores a secret (a member organization's private key, say) keeps only
``seal(secret)`` in the database and calls ``unseal`` at the moment it signs. The
purpose string binds a sealed value to its use, so a value sealed for one purpose
cannot be passed off as another.
"""

from __future__ import annotations

import hashlib

import nacl.exceptions
import nacl.secret
import nacl.utils
from django.conf import settings

VERSION = b"\x01"


class SealBroken(Exception):
    """A sealed value was altered, sealed for another purpose, or under another key."""


def _box(purpose: str) -> nacl.secret.SecretBox:
    kek: bytes = settings.ONETEAM_KEK
    key = hashlib.blake2b(purpose.encode(), key=kek, digest_size=nacl.secret.SecretBox.KEY_SIZE,
                          person=b"oneteam-seal").digest()
    return nacl.secret.SecretBox(key)


def seal(secret: bytes, *, purpose: str) -> bytes:
    """Encrypt and authenticate ``secret`` for ``purpose``; the result is safe to store."""
    if not purpose:
        raise ValueError("purpose must name what the secret is for")
    return VERSION + bytes(_box(purpose).encrypt(secret))


def unseal(sealed: bytes, *, purpose: str) -> bytes:
    """The secret inside ``sealed``; raises :class:`SealBroken` if it does not open."""
    if not sealed or sealed[:1] != VERSION:
        raise SealBroken("unknown sealed-value format")
    try:
        return bytes(_box(purpose).decrypt(bytes(sealed[1:])))
    except nacl.exceptions.CryptoError:
        raise SealBroken("sealed value does not open with this key and purpose") from None
