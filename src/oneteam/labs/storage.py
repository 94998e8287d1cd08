"""Where the labs keep files: bundles and submissions, in the data directory.

``DATA/labs/bundles/<sha256>/``: an uploaded bundle's zip, extracted once under the
SHA-256 of the zip's bytes (a second upload of the same bytes finds it there). The
extraction goes to a temporary folder beside it, is checked by ``load_bundle`` and only
then renamed into place, so a bundle folder is always whole and valid. Files are mode
644 and folders 755: the jobs' steps run as users of their own and must read them.

``DATA/labs/submissions/<id>/``: a submission's files as uploaded, and the executed
notebook when there is one. Written before the submission's job is queued.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

from oneteam.labs.bundles import MANIFEST, Bundle, BundleError, Problem, load_bundle

CHUNK_BYTES = 1 << 20


def labs_dir() -> Path:
    path = Path(settings.ONETEAM_DATA_DIR) / "labs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundles_dir() -> Path:
    path = labs_dir() / "bundles"
    path.mkdir(mode=0o755, exist_ok=True)
    os.chmod(path, 0o755)
    return path


def submission_dir(submission_id: int) -> Path:
    return labs_dir() / "submissions" / str(submission_id)


def _root_of(directory: Path) -> Path:
    if (directory / MANIFEST).is_file():
        return directory
    entries = list(directory.iterdir())
    if len(entries) == 1 and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise BundleError([Problem(MANIFEST, "", "is missing from the stored bundle")])


def open_bundle(digest: str) -> Bundle:
    """The stored bundle with this digest, loaded (and so checked) again."""
    return load_bundle(_root_of(bundles_dir() / digest))


def hash_stream(stream: Any, destination: Any, max_bytes: int) -> tuple[str, int]:
    """Copy ``stream`` into ``destination``, hashing; ValueError past ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"more than {max_bytes} bytes")
        digest.update(chunk)
        destination.write(chunk)
    return digest.hexdigest(), size


def store_bundle(archive: Path) -> tuple[str, Bundle]:
    """Extract, check and keep a bundle zip; returns its digest and the loaded bundle.

    BundleError (every problem, each naming its file and field) leaves nothing behind.
    """
    with archive.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    final = bundles_dir() / digest
    if final.is_dir():
        return digest, load_bundle(_root_of(final))
    temporary = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=bundles_dir()))
    try:
        os.chmod(temporary, 0o755)
        load_bundle(archive, extract_to=temporary / "x")
        os.chmod(temporary / "x", 0o755)
        for directory, dirnames, filenames in os.walk(temporary / "x"):
            for name in dirnames:
                os.chmod(Path(directory) / name, 0o755)
            for name in filenames:
                os.chmod(Path(directory) / name, 0o644)
        try:
            os.rename(temporary / "x", final)
        except OSError:
            if not final.is_dir():      # not a concurrent upload of the same bytes
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return digest, load_bundle(_root_of(final))


def zip_folder(folder: Path, destination: Path) -> Path:
    """A zip of ``folder``'s contents (for bundles built from the shipped sources)."""
    import zipfile

    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_files(folder)):
            archive.write(path, path.relative_to(folder).as_posix())
    return destination


def _files(folder: Path) -> Iterator[Path]:
    for directory, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            yield Path(directory) / name
