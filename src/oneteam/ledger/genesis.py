"""The genesis document: the chain id, the first members, their credits, the validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from oneteam.ledger.blocks import ZERO_HASH, Block, Header
from oneteam.ledger.contracts.credits import BALANCE_MAX
from oneteam.ledger.contracts.membership import KEYS_PER_ORG_MAX
from oneteam.ledger.contracts.schema import (
    CHAIN_ID_PATTERN,
    MEMBER_COUNT_KEY,
    ORG_ID_PATTERN,
    ROLES,
    VALIDATOR_SET_KEY,
    Organization,
    balance_key,
    key_owner_key,
    org_key,
)
from oneteam.ledger.execution import encode_write_set, next_state_root
from oneteam.ledger.merkle import EMPTY_ROOT


class GenesisMember(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    name: str
    keys: list[str]
    roles: list[str] = []
    credits: int = 0


class Genesis(msgspec.Struct, forbid_unknown_fields=True):
    chain_id: str
    members: list[GenesisMember]
    validators: list[str]
    genesis_time_ms: int = 0

    def state_writes(self) -> dict[str, Any]:
        """The state at height 0, validated; raises ValueError naming the first fault."""
        import re

        if not re.match(CHAIN_ID_PATTERN, self.chain_id):
            raise ValueError(f"chain id {self.chain_id!r} is not a valid identifier")
        if not self.members:
            raise ValueError("genesis needs at least one member")
        if not self.validators:
            raise ValueError("genesis needs at least one validator")
        writes: dict[str, Any] = {}
        seen_keys: set[bytes] = set()
        for member in self.members:
            if not re.match(ORG_ID_PATTERN, member.org):
                raise ValueError(f"organization id {member.org!r} is not valid")
            if org_key(member.org) in writes:
                raise ValueError(f"organization {member.org} is listed twice")
            if not 1 <= len(member.name) <= 200:
                raise ValueError(f"{member.org}: a name has 1 to 200 characters")
            unknown = set(member.roles) - set(ROLES)
            if unknown:
                raise ValueError(f"{member.org}: unknown roles {sorted(unknown)}")
            if len(set(member.roles)) != len(member.roles):
                raise ValueError(f"{member.org}: a role is listed twice")
            if not 1 <= len(member.keys) <= KEYS_PER_ORG_MAX:
                raise ValueError(f"{member.org} needs 1 to {KEYS_PER_ORG_MAX} keys")
            member_keys = [_public_key(k, member.org) for k in member.keys]
            for key in member_keys:
                if key in seen_keys:
                    raise ValueError(f"key {key.hex()} is listed twice")
                seen_keys.add(key)
                writes[key_owner_key(key)] = member.org
            writes[org_key(member.org)] = Organization(
                member.name, sorted(member.roles), member_keys, 0
            )
            if not 0 <= member.credits <= BALANCE_MAX:
                raise ValueError(f"{member.org}: credits must be within 0..{BALANCE_MAX}")
            if member.credits:
                writes[balance_key(member.org)] = member.credits
        writes[MEMBER_COUNT_KEY] = len(self.members)
        validators = [_public_key(v, "validators") for v in self.validators]
        if len(set(validators)) != len(validators):
            raise ValueError("a validator key is listed twice")
        writes[VALIDATOR_SET_KEY] = validators
        return writes

    def block(self) -> tuple[Block, dict[str, Any]]:
        """The genesis block (height 0, unsigned) and the state it sets."""
        writes = self.state_writes()
        state_root = next_state_root(ZERO_HASH, encode_write_set(writes))
        header = Header(
            chain_id=self.chain_id,
            height=0,
            time_ms=self.genesis_time_ms,
            prev_hash=ZERO_HASH,
            tx_root=EMPTY_ROOT,
            receipts_root=EMPTY_ROOT,
            state_root=state_root,
            tx_count=0,
            proposer=b"",
        )
        return Block(header=header, signature=b"", txs=[], receipts=[]), writes


def _public_key(text: str, owner: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{owner}: key {text!r} is not hex") from None
    if len(key) != 32:
        raise ValueError(f"{owner}: key {text!r} is not 32 bytes")
    return key


def load_genesis(path: Path) -> Genesis:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"genesis file {path} does not exist") from None
    try:
        genesis = msgspec.json.decode(raw, type=Genesis)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise ValueError(f"genesis file {path} is malformed: {error}") from None
    genesis.state_writes()
    return genesis


def write_genesis(path: Path, genesis: Genesis) -> None:
    Path(path).write_text(
        json.dumps(msgspec.to_builtins(genesis), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
