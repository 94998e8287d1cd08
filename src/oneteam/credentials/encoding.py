"""Multibase and multicodec encodings used by Data Integrity and Bitstring Status List.

Only the two multibase alphabets the credential specifications use are supported:
``z`` (base58-btc, proof values and Multikeys) and ``u`` (base64url without padding,
the status list's ``encodedList``). Decoding is strict: a value that would decode to
the same bytes through a different spelling (padding, the standard base64 alphabet,
stray whitespace) is refused, because signatures and hashes are taken over exact bytes.
"""

from __future__ import annotations

import base64
import binascii

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {character: value for value, character in enumerate(BASE58_ALPHABET)}

MULTIBASE_BASE58BTC = "z"
MULTIBASE_BASE64URL = "u"

# A credential is small; anything this long is an attack on the decoder's quadratic loop.
BASE58_INPUT_CHARS_MAX = 4096


class EncodingError(ValueError):
    """A multibase or multicodec value is malformed."""


def base58btc_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    if len(text) > BASE58_INPUT_CHARS_MAX:
        raise EncodingError(
            f"base58 value is {len(text)} characters, over {BASE58_INPUT_CHARS_MAX}"
        )
    number = 0
    for position, character in enumerate(text):
        value = _BASE58_INDEX.get(character)
        if value is None:
            raise EncodingError(f"character {character!r} at {position} is not base58-btc")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def base64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def base64url_decode(text: str) -> bytes:
    if "=" in text or not text.isascii():
        raise EncodingError("base64url value must be ASCII without padding")
    if any(character in "+/" for character in text):
        raise EncodingError("base64url value uses the standard base64 alphabet (+ or /)")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise EncodingError(f"not base64url: {error}") from error
    if base64url_encode(decoded) != text:
        raise EncodingError("base64url value is not in its canonical spelling")
    return decoded


def multibase_encode(data: bytes, base: str) -> str:
    if base == MULTIBASE_BASE58BTC:
        return MULTIBASE_BASE58BTC + base58btc_encode(data)
    if base == MULTIBASE_BASE64URL:
        return MULTIBASE_BASE64URL + base64url_encode(data)
    raise EncodingError(f"unsupported multibase prefix {base!r}")


def multibase_decode(text: str, *, expected_base: str | None = None) -> bytes:
    """Decode a multibase string; ``expected_base`` refuses any other prefix."""
    if not isinstance(text, str) or not text:
        raise EncodingError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if expected_base is not None and prefix != expected_base:
        raise EncodingError(f"multibase prefix is {prefix!r}, expected {expected_base!r}")
    if prefix == MULTIBASE_BASE58BTC:
        return base58btc_decode(body)
    if prefix == MULTIBASE_BASE64URL:
        return base64url_decode(body)
    raise EncodingError(f"unsupported multibase prefix {prefix!r}")


def varint_encode(value: int) -> bytes:
    """Unsigned LEB128, as multicodec prefixes use."""
    if value < 0:
        raise EncodingError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Return (value, bytes used); minimal encodings of at most 9 bytes only."""
    value = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if index > 0 and byte == 0:
                raise EncodingError("varint is not minimally encoded")
            return value, index + 1
    raise EncodingError("varint is truncated or longer than 9 bytes")
