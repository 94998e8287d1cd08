"""Bitstring Status List v1.0 (W3C Recommendation, 15 May 2025).

A status list is a bitstring, GZIP-compressed, then multibase base64url without
padding (``u...``) in the ``encodedList`` of a ``BitstringStatusListCredential``.
Index 0 is the most significant bit of the first byte. A credential points at one
position with a ``BitstringStatusListEntry``: the list credential's URL, the index
(a decimal string) and the purpose (``revocation``: a set bit is permanent;
``suspension``: a set bit can be cleared again).

Lists are at least 131,072 entries long, the specification's floor for group privacy,
and indexes are assigned at random without repeats so a list position says nothing
about when or to whom a credential was issued.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import secrets
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oneteam.credentials.encoding import (
    MULTIBASE_BASE64URL,
    EncodingError,
    multibase_decode,
    multibase_encode,
)
from oneteam.credentials.jsonld import VC_V2_CONTEXT

MINIMUM_LIST_BITS = 131_072
LIST_BITS_MAX = 1 << 26  # 8 MiB uncompressed: far above any list the platform keeps
ENCODED_LIST_CHARS_MAX = 4 << 20
INFLATED_LISTS_MAX = 8  # decoded lists kept by the verifier: at most 64 MiB
PURPOSE_REVOCATION = "revocation"
PURPOSE_SUSPENSION = "suspension"
PURPOSE_MESSAGE = "message"
PURPOSES = (PURPOSE_REVOCATION, PURPOSE_SUSPENSION, PURPOSE_MESSAGE, "refresh")
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
ALLOCATION_FILL_MAX = (
    0.5  # past half full, random probing slows and privacy thins: start a new list
)


class StatusListError(ValueError):
    """A status list or entry is malformed; ``code`` follows the specification's names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class StatusList:
    """A mutable bitstring of ``length`` entries of ``status_size`` bits each."""

    def __init__(
        self, length: int = MINIMUM_LIST_BITS, *, status_size: int = 1, data: bytes | None = None
    ) -> None:
        if status_size < 1 or status_size > 8:
            raise StatusListError(
                "STATUS_LIST_SIZE_ERROR", f"statusSize {status_size} is outside 1..8"
            )
        if length < 1 or length * status_size > LIST_BITS_MAX:
            raise StatusListError(
                "STATUS_LIST_LENGTH_ERROR", f"a list of {length} entries is out of bounds"
            )
        self.length = length
        self.status_size = status_size
        bits = length * status_size
        size = (bits + 7) // 8
        if data is None:
            self._bits = bytearray(size)
        else:
            if len(data) != size:
                raise StatusListError(
                    "STATUS_LIST_LENGTH_ERROR", f"list data is {len(data)} bytes, expected {size}"
                )
            self._bits = bytearray(data)

    @property
    def bit_length(self) -> int:
        return self.length * self.status_size

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.length:
            raise StatusListError(
                "RANGE_ERROR", f"index {index} is outside a list of {self.length} entries"
            )

    def get(self, index: int) -> int:
        self._check_index(index)
        value = 0
        start = index * self.status_size
        for bit in range(start, start + self.status_size):
            value = (value << 1) | ((self._bits[bit // 8] >> (7 - bit % 8)) & 1)
        return value

    def set(self, index: int, value: int) -> None:
        self._check_index(index)
        if not 0 <= value < (1 << self.status_size):
            raise StatusListError(
                "RANGE_ERROR", f"value {value} does not fit in {self.status_size} bits"
            )
        start = index * self.status_size
        for offset in range(self.status_size):
            bit = start + offset
            mask = 1 << (7 - bit % 8)
            if (value >> (self.status_size - 1 - offset)) & 1:
                self._bits[bit // 8] |= mask
            else:
                self._bits[bit // 8] &= ~mask & 0xFF

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """``encodedList``: GZIP (mtime 0: reproducible bytes), then ``u`` + base64url."""
        return multibase_encode(
            gzip.compress(bytes(self._bits), compresslevel=9, mtime=0), MULTIBASE_BASE64URL
        )

    @classmethod
    def decode(
        cls, encoded: str, *, status_size: int = 1, minimum_bits: int = MINIMUM_LIST_BITS
    ) -> StatusList:
        if not isinstance(encoded, str) or len(encoded) > ENCODED_LIST_CHARS_MAX:
            raise StatusListError(
                "STATUS_LIST_DECODE_ERROR", "encodedList is not a string of acceptable size"
            )
        data = _inflate(encoded)
        bits = len(data) * 8
        if bits < minimum_bits:
            raise StatusListError(
                "STATUS_LIST_LENGTH_ERROR",
                f"the list has {bits} bits, fewer than the minimum {minimum_bits}",
            )
        return cls(
            bits // status_size,
            status_size=status_size,
            data=data[: (bits // status_size * status_size + 7) // 8],
        )


@functools.lru_cache(maxsize=INFLATED_LISTS_MAX)
def _inflate(encoded: str) -> bytes:
    """The bits of an ``encodedList`` (the few lists a verifier meets are kept decoded)."""
    try:
        compressed = multibase_decode(encoded, expected_base=MULTIBASE_BASE64URL)
    except EncodingError as error:
        raise StatusListError("STATUS_LIST_DECODE_ERROR", f"encodedList: {error}") from error
    return _gunzip_bounded(compressed, LIST_BITS_MAX // 8)


def _gunzip_bounded(compressed: bytes, size_max: int) -> bytes:
    """Decompress GZIP without letting a small input expand past ``size_max`` (a zip bomb)."""
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(compressed, size_max + 1)
    except zlib.error as error:
        raise StatusListError(
            "STATUS_LIST_DECODE_ERROR", f"encodedList is not GZIP: {error}"
        ) from error
    if len(data) > size_max or decompressor.unconsumed_tail:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR", f"the list decompresses to more than {size_max} bytes"
        )
    if not decompressor.eof:
        raise StatusListError(
            "STATUS_LIST_DECODE_ERROR", "encodedList ends before its GZIP stream does"
        )
    return data


class IndexAllocator:
    """Random, collision-free list positions for new credentials.

    ``used`` is what the caller has already handed out (from its database); each
    :meth:`allocate` draws uniformly from the free positions with ``secrets``. Past
    ``fill_max`` of the list it refuses, so the caller opens a new list instead.
    """

    def __init__(
        self,
        length: int = MINIMUM_LIST_BITS,
        used: Iterable[int] = (),
        *,
        fill_max: float = ALLOCATION_FILL_MAX,
    ) -> None:
        if length < MINIMUM_LIST_BITS:
            raise StatusListError(
                "STATUS_LIST_LENGTH_ERROR", f"lists are at least {MINIMUM_LIST_BITS} entries long"
            )
        self.length = length
        self.fill_max = fill_max
        self.used: set[int] = set()
        for index in used:
            if not 0 <= index < length:
                raise StatusListError("RANGE_ERROR", f"used index {index} is outside the list")
            self.used.add(index)

    @property
    def capacity_left(self) -> int:
        return max(0, int(self.length * self.fill_max) - len(self.used))

    def allocate(self) -> int:
        if self.capacity_left == 0:
            raise StatusListError(
                "STATUS_LIST_FULL", f"the list has {len(self.used)} of {self.length} positions used"
            )
        # At most half full, each draw is free with probability >= 1/2; 128 misses in a
        # row has probability 2**-128, so the bound is never the reason a draw fails.
        for _attempt in range(128):
            index = secrets.randbelow(self.length)
            if index not in self.used:
                self.used.add(index)
                return index
        raise StatusListError("STATUS_LIST_FULL", "no free position found")  # pragma: no cover


def status_list_entry(
    list_credential_url: str, index: int, purpose: str = PURPOSE_REVOCATION
) -> dict[str, Any]:
    """The ``credentialStatus`` a credential carries for position ``index`` of a list."""
    if purpose not in PURPOSES:
        raise StatusListError("STATUS_PURPOSE_ERROR", f"unknown statusPurpose {purpose!r}")
    if index < 0:
        raise StatusListError("RANGE_ERROR", "statusListIndex must not be negative")
    return {
        "id": f"{list_credential_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_credential_url,
    }


def build_status_list_credential(
    *,
    list_credential_url: str,
    issuer: str | Mapping[str, Any],
    purpose: str,
    status_list: StatusList,
    valid_from: str,
    valid_until: str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential``; sign it with the issuer's key."""
    if purpose not in PURPOSES:
        raise StatusListError("STATUS_PURPOSE_ERROR", f"unknown statusPurpose {purpose!r}")
    if status_list.bit_length < MINIMUM_LIST_BITS:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR", f"lists are at least {MINIMUM_LIST_BITS} bits long"
        )
    subject: dict[str, Any] = {
        "id": f"{list_credential_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": status_list.encode(),
    }
    if status_list.status_size != 1:
        subject["statusSize"] = status_list.status_size
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_credential_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": dict(issuer) if isinstance(issuer, Mapping) else issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


@dataclass(frozen=True)
class StatusResult:
    purpose: str
    index: int
    value: int
    message: str | None = None

    @property
    def is_set(self) -> bool:
        return self.value != 0


def _types(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def parse_entry(entry: Mapping[str, Any]) -> tuple[str, int, str, int]:
    """(list URL, index, purpose, status size) of a ``BitstringStatusListEntry``."""
    if ENTRY_TYPE not in _types(entry.get("type")):
        raise StatusListError(
            "STATUS_TYPE_UNSUPPORTED",
            f"credentialStatus type {entry.get('type')!r} is not {ENTRY_TYPE}",
        )
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or ":" not in url:
        raise StatusListError("MALFORMED_VALUE_ERROR", "statusListCredential must be a URL")
    raw_index = entry.get("statusListIndex")
    # The specification writes the index as a decimal string; integers are accepted too.
    if isinstance(raw_index, bool) or not isinstance(raw_index, (str, int)):
        raise StatusListError("MALFORMED_VALUE_ERROR", "statusListIndex must be a decimal string")
    text = str(raw_index)
    if not text.isdigit() or (len(text) > 1 and text[0] == "0") or len(text) > 12:
        raise StatusListError(
            "MALFORMED_VALUE_ERROR", f"statusListIndex {raw_index!r} is not a non-negative integer"
        )
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise StatusListError("STATUS_PURPOSE_ERROR", f"statusPurpose {purpose!r} is not known")
    raw_size = entry.get("statusSize", 1)
    if (
        isinstance(raw_size, bool)
        or not isinstance(raw_size, (int, str))
        or not str(raw_size).isdigit()
    ):
        raise StatusListError("MALFORMED_VALUE_ERROR", "statusSize must be a positive integer")
    return url, int(text), str(purpose), int(raw_size)


def check_status(
    entry: Mapping[str, Any],
    list_credential: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
) -> StatusResult:
    """The status a ``BitstringStatusListEntry`` points at, read from its list credential.

    The list credential's own proof, issuer and validity are checked by the verifier
    (:mod:`oneteam.credentials.verify`) before this is called.
    """
    url, index, purpose, status_size = parse_entry(entry)
    if list_credential.get("id") != url:
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR",
            f"the list credential is {list_credential.get('id')!r}, not {url!r}",
        )
    if LIST_CREDENTIAL_TYPE not in _types(list_credential.get("type")):
        raise StatusListError("STATUS_VERIFICATION_ERROR", f"{url} is not a {LIST_CREDENTIAL_TYPE}")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or LIST_TYPE not in _types(subject.get("type")):
        raise StatusListError("STATUS_VERIFICATION_ERROR", f"{url} has no {LIST_TYPE} subject")
    list_purposes = _types(subject.get("statusPurpose"))
    if purpose not in list_purposes:
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR",
            f"the entry's purpose {purpose!r} is not the list's {list_purposes!r}",
        )
    list_size = subject.get("statusSize", 1)
    if list_size != status_size:
        raise StatusListError(
            "STATUS_VERIFICATION_ERROR",
            f"statusSize {status_size} differs from the list's {list_size}",
        )
    if now is not None:
        for field_name, is_late in (("validFrom", False), ("validUntil", True)):
            value = list_credential.get(field_name)
            if isinstance(value, str):
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                if (now >= moment) if is_late else (now < moment):
                    raise StatusListError(
                        "STATUS_VERIFICATION_ERROR",
                        f"the list credential's {field_name} is {value}",
                    )
    status_list = StatusList.decode(str(subject.get("encodedList")), status_size=status_size)
    value = status_list.get(index)
    message = None
    messages = entry.get("statusMessage")
    if isinstance(messages, list):
        for item in messages:
            if isinstance(item, Mapping) and item.get("status") == f"0x{value:x}":
                message = str(item.get("message"))
    return StatusResult(purpose, index, value, message)
