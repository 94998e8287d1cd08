"""Uploaded lesson images: what is accepted, and where the bytes are kept.

An upload is accepted only if its bytes are a PNG, JPEG, GIF or WebP image (judged by
the bytes, never by the file name or the declared type), at most
``IMAGE_BYTES_MAX`` long and at most ``IMAGE_SIDE_MAX`` pixels on a side. SVG is not
accepted from uploads: it can carry script. (Shipped lesson SVG is checked by the
content loader instead.)

Accepted bytes are stored once, named by their SHA-256, under
``DATA/platform/blobs/sha256/<first two hex digits>/<digest>``, written to a temporary
file and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from oneteam.platform.errors import InputError

IMAGE_BYTES_MAX = 2 * 1024 * 1024
IMAGE_SIDE_MAX = 8192
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif",
                 "webp": "image/webp"}
SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
            "image/webp": ".webp"}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    size_bytes: int
    digest: str


def check_image(data: bytes, field: str = "file") -> ImageInfo:
    """The image's type, size and digest; InputError on ``field`` if it is not acceptable."""
    if not data:
        raise InputError(field, _("The file is empty."))
    if len(data) > IMAGE_BYTES_MAX:
        raise InputError(field, _("The image is larger than %(megabytes)d MB.")
                         % {"megabytes": IMAGE_BYTES_MAX // (1024 * 1024)})
    kind_and_size = _sniff(data)
    if kind_and_size is None:
        raise InputError(field, _("Upload a PNG, JPEG, GIF or WebP image; this file is "
                                  "none of them."))
    kind, width, height = kind_and_size
    if not (0 < width <= IMAGE_SIDE_MAX and 0 < height <= IMAGE_SIDE_MAX):
        raise InputError(field, _("The image must be at most %(pixels)d pixels on each side.")
                         % {"pixels": IMAGE_SIDE_MAX})
    return ImageInfo(CONTENT_TYPES[kind], width, height, len(data),
                     hashlib.sha256(data).hexdigest())


def blob_root() -> Path:
    return Path(settings.PLATFORM_DATA_DIR) / "blobs" / "sha256"


def blob_path(digest: str) -> Path:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
    return blob_root() / digest[:2] / digest


def store_blob(data: bytes, digest: str) -> Path:
    """Keep ``data`` under its digest (checked); storing the same bytes twice is harmless."""
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError("the digest does not match the data")
    path = blob_path(digest)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- sniffing


def _sniff(data: bytes) -> tuple[str, int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    return None


def _png(data: bytes) -> tuple[str, int, int] | None:
    # The first chunk must be IHDR: length 13, then width and height.
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return "png", width, height


_JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
                                 0xCD, 0xCE, 0xCF})


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    index = 2
    segments_max = 10_000
    for _segment in range(segments_max):
        if index + 4 > len(data) or data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2:index + 4])
        if length < 2:
            return None
        if marker in _JPEG_FRAME_MARKERS:
            if index + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            return "jpeg", width, height
        index += 2 + length
    return None


def _webp(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return "webp", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return "webp", width, height
    return None
