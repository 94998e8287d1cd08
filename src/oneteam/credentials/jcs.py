"""JSON Canonicalization Scheme (RFC 8785), through the ``rfc8785`` library.

Object members sorted by UTF-16 code units, no whitespace, ECMAScript number
formatting, minimal string escaping, UTF-8. Integers beyond 2**53 and non-finite
floats are refused, as I-JSON requires.
"""

from __future__ import annotations

from typing import Any

import rfc8785


class JcsError(ValueError):
    """The value cannot be canonicalized as I-JSON."""


def canonicalize_json(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        raise JcsError(f"value cannot be canonicalized (RFC 8785): {error}") from error
    except (TypeError, UnicodeEncodeError) as error:
        raise JcsError(f"value cannot be canonicalized (RFC 8785): {error}") from error
