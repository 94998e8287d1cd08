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
from typing import Any

import rfc8785

INTEGER_MAX = 2**53 - 1
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True,
                            separators=(",", ":"), check_circular=True)


class JcsError(ValueError):
    """The value cannot be canonicalized as I-JSON."""


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is of the kind the standard library writes in the RFC's form."""
    if depth > 200:
        return False
    if isinstance(value, str) or value is None or value is True or value is False:
        return True
    if type(value) is int:
        return -INTEGER_MAX <= value <= INTEGER_MAX
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str or (key and max(key) > "\uffff"):
                return False
            if not _plain(item, depth + 1):
                return False
        return True
    if type(value) is list:
        return all(_plain(item, depth + 1) for item in value)
    return False


def canonicalize_json(value: Any) -> bytes:
    if _plain(value):
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
