"""Uploaded images: judged by their bytes, limited in size, stored by their digest."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest
from django.utils import translation

from oneteam.academy.images import (
    IMAGE_BYTES_MAX,
    blob_path,
    check_image,
    store_blob,
)
from oneteam.platform.errors import InputError


@pytest.fixture(autouse=True)
def in_english() -> object:
    with translation.override("en"):
        yield


def png_bytes(width: int = 3, height: int = 2) -> bytes:
    """A real, tiny PNG (grey pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x80" * width for _row in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01\x00" + b"\x00" * 6
    sof0 = (b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1)
            + b"\x01\x11\x00")
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def test_png_jpeg_gif_and_webp_are_recognised_by_their_bytes() -> None:
    png = check_image(png_bytes(3, 2))
    assert (png.content_type, png.width, png.height) == ("image/png", 3, 2)
    assert png.digest == hashlib.sha256(png_bytes(3, 2)).hexdigest()
    jpeg = check_image(jpeg_header(640, 480))
    assert (jpeg.content_type, jpeg.width, jpeg.height) == ("image/jpeg", 640, 480)
    gif = check_image(b"GIF89a" + struct.pack("<HH", 10, 20) + b"\x00" * 10)
    assert (gif.content_type, gif.width, gif.height) == ("image/gif", 10, 20)
    vp8x = (b"RIFF" + struct.pack("<I", 30) + b"WEBP" + b"VP8X" + struct.pack("<I", 10)
            + b"\x00" * 4 + (99).to_bytes(3, "little") + (49).to_bytes(3, "little"))
    webp = check_image(vp8x)
    assert (webp.content_type, webp.width, webp.height) == ("image/webp", 100, 50)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "PNG, JPEG"),
    (b"<script>alert(1)</script>", "PNG, JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 4, "PNG, JPEG"),  # a PNG signature and nothing else
    (b"GIF89a" + struct.pack("<HH", 0, 10), "pixels"),
    (b"GIF89a" + struct.pack("<HH", 9000, 10), "pixels"),
    (b"\x00" * (IMAGE_BYTES_MAX + 1), "larger"),
])
def test_anything_else_is_refused_naming_the_file_field(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        check_image(data)
    assert error.value.field == "file"


def test_blobs_are_stored_once_under_their_digest() -> None:
    data = png_bytes(5, 5)
    digest = hashlib.sha256(data).hexdigest()
    path = store_blob(data, digest)
    assert path == blob_path(digest) and path.read_bytes() == data
    assert path.parent.name == digest[:2]
    assert store_blob(data, digest) == path
    with pytest.raises(ValueError):
        store_blob(b"other bytes", digest)
    with pytest.raises(ValueError):
        blob_path("../../etc/passwd")
