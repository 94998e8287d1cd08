"""JSON Canonicalization Scheme (RFC 8785), through the ``rfc8785`` library.

Object members sorted by UTF-16 code units, no whitespace, ECMAScript number
formatting, minimal string escaping, UTF-8. Integers beyond 2**53 and non-finite
floats are refused, as I-JSON requires.

Most documents the platform canonicalizes (its own credentials, proof configurations,
batch leaves) hold only strings, integers, booleans and null, with keys inside the
Basic Multilingual Plane. For those, the standard library's ``json`` writes exactly
the RFC's form at a fraction of the cost: for such keys code-point order is UTF-16
order, integers within I-JSON's range print alike, and it escapes the same characters
the same way (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other controls as lower-case
``\\u00xx``). Any other value (a float, a key beyond the plane, a lone surrogate, a
non-JSON type) goes to the library.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

INTEGER_MAX = 2**53 - 1
DEPTH_MAX = 200
_BEYOND_PLANE = re.compile("[\U00010000-\U0010ffff]")
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True,
                            separators=(",", ":"), check_circular=True)


class JcsError(ValueError):
    """The value cannot be canonicalized as I-JSON."""


def _plain(value: Any) -> bool:
    """Whether ``value`` is of the kind the standard library writes in the RFC's form."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        kind = type(item)
        if kind is str or item is None or item is True or item is False:
            continue
        if kind is int:
            if not -INTEGER_MAX <= item <= INTEGER_MAX:
                return False
        elif kind is dict:
            if depth >= DEPTH_MAX or _BEYOND_PLANE.search("".join(item)) is not None:
                return False  # a key that is not a str fails the join: see below
            pending.extend((child, depth + 1) for child in item.values())
        elif kind is list:
            if depth >= DEPTH_MAX:
                return False
            pending.extend((child, depth + 1) for child in item)
        else:
            return False
    return True


def canonicalize_json(value: Any) -> bytes:
    try:
        plain = _plain(value)
    except TypeError:  # a dict key that is not a string
        plain = False
    if plain:
        try:
            return _encoder.encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the library says what is wrong with it
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        raise JcsError(f"value cannot be canonicalized (RFC 8785): {error}") from error
    except (TypeError, UnicodeEncodeError) as error:
        raise JcsError(f"value cannot be canonicalized (RFC 8785): {error}") from error
