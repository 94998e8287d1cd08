"""The state's keys and the types of the values stored under them.

Keys are strings with a contract prefix; values are msgpack-encoded. The
mapping from prefix to type lets storage decode any value without context.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

# \Z, not $: "$" would also match before a trailing newline.
ORG_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}\Z"
CHAIN_ID_PATTERN = ORG_ID_PATTERN
OrgId = Annotated[str, msgspec.Meta(pattern=ORG_ID_PATTERN)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Label = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:/-]{1,128}\Z")]
Digest = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
PublicKey = Annotated[bytes, msgspec.Meta(min_length=32, max_length=32)]
Amount = Annotated[int, msgspec.Meta(gt=0, le=2**62)]
Memo = Annotated[str, msgspec.Meta(max_length=256)]

ROLES = ("operator", "issuer", "provider", "validator")
Role = Annotated[str, msgspec.Meta(pattern=r"^(operator|issuer|provider|validator)\Z")]


class Organization(msgspec.Struct, array_like=True, frozen=True):
    name: str
    roles: list[str]
    keys: list[bytes]
    joined_height: int


class Proposal(msgspec.Struct, array_like=True, frozen=True):
    action: str
    org: str
    name: str
    roles: list[str]
    keys: list[bytes]
    proposer: str
    approvals: list[str]
    expiry_height: int
    epoch: int = 0


class UsageRecord(msgspec.Struct, array_like=True, frozen=True):
    consumer: str
    amount: int
    height: int
    txid: bytes


class AnchorRecord(msgspec.Struct, array_like=True, frozen=True):
    root: bytes
    count: int
    height: int
    txid: bytes


class StatusRecord(msgspec.Struct, array_like=True, frozen=True):
    digest: bytes
    height: int
    version: int
    txid: bytes


class NextValidators(msgspec.Struct, array_like=True, frozen=True):
    """The validator set from ``height`` on."""

    height: int
    validators: list[bytes]


def validators_at(get: Any, height: int) -> list[bytes]:
    """The validator set in force for the block at ``height``, given committed state
    before it (``get`` reads a state key)."""
    pending: NextValidators | None = get(NEXT_VALIDATORS_KEY)
    if pending is not None and pending.height <= height:
        return list(pending.validators)
    current: list[bytes] = get(VALIDATOR_SET_KEY)
    return list(current)


def org_key(org: str) -> str:
    return "m/org/" + org


def key_owner_key(public_key: bytes) -> str:
    return "m/key/" + public_key.hex()


MEMBER_COUNT_KEY = "m/count"
# Incremented whenever a member joins or leaves; approvals collected under an
# older member set no longer count (see membership.approve).
MEMBER_EPOCH_KEY = "m/epoch"


def proposal_key(org: str) -> str:
    return "m/prop/" + org


VALIDATOR_SET_KEY = "v/set"
# A validator-set change waiting for its height (see membership: validator changes).
NEXT_VALIDATORS_KEY = "v/next"


def nonce_key(public_key: bytes) -> str:
    return "n/" + public_key.hex()


def balance_key(org: str) -> str:
    return "c/bal/" + org


def allowance_key(consumer: str, provider: str) -> str:
    return f"c/allow/{consumer}/{provider}"


def usage_key(provider: str, ref: str) -> str:
    return f"c/usage/{provider}/{ref}"


def batch_key(org: str, batch_id: str) -> str:
    return f"a/batch/{org}/{batch_id}"


def status_list_key(org: str, list_id: str) -> str:
    return f"a/status/{org}/{list_id}"


_VALUE_TYPES: tuple[tuple[str, Any], ...] = (
    ("m/org/", Organization),
    ("m/key/", str),
    ("m/count", int),
    ("m/epoch", int),
    ("m/prop/", Proposal),
    ("n/", int),
    ("c/bal/", int),
    ("c/allow/", int),
    ("c/usage/", UsageRecord),
    ("a/batch/", AnchorRecord),
    ("a/status/", StatusRecord),
    ("v/set", list[bytes]),
    ("v/next", NextValidators),
)
_DECODERS = tuple((prefix, msgspec.msgpack.Decoder(kind)) for prefix, kind in _VALUE_TYPES)
_encoder = msgspec.msgpack.Encoder()


def encode_value(value: Any) -> bytes:
    return _encoder.encode(value)


def decode_value(key: str, data: bytes) -> Any:
    for prefix, decoder in _DECODERS:
        if key.startswith(prefix):
            return decoder.decode(data)
    raise KeyError(f"no value type for state key {key!r}")
