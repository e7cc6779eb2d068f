"""Articles added through the page: saved under `settings.uploads_dir`, never in the articles folder.

A name from a browser is untrusted: only a plain, visible file name with an article suffix is
accepted, and a file is written whole (temporary file, then rename) or not at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from index.articles import ARTICLE_SUFFIXES, ArticleError
from index.build import UPLOADS_PREFIX
from index.settings import Settings

# Most file systems refuse longer names; saying so beats an OSError.
MAX_NAME_BYTES = 255


class UploadError(ArticleError):
    """An upload newsdesk refuses to save or delete; the message says why, for the user."""


def upload_name(name: str) -> str:
    """`name` if it is a plain file name newsdesk can store an upload under; else UploadError."""
    shown = repr(name)[1:-1][:80] or "(empty)"
    if not name or not name.strip():
        raise UploadError("An uploaded file needs a name.")
    if "/" in name or "\\" in name or os.path.isabs(name) or name in (".", ".."):
        raise UploadError(f"{shown}: give a file name, not a path.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise UploadError(f"{shown}: the name holds control characters.")
    if name.startswith("."):
        raise UploadError(f"{shown}: hidden files (names starting with '.') are not articles.")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise UploadError(f"{shown}…: the name is longer than {MAX_NAME_BYTES} bytes.")
    if Path(name).suffix.lower() not in ARTICLE_SUFFIXES:
        raise UploadError(f"{shown}: only {', '.join(ARTICLE_SUFFIXES)} files can be articles.")
    return name


def save_upload(settings: Settings, name: str, data: bytes) -> str:
    """Store an uploaded article; return its article id. A same-named upload is replaced."""
    name = upload_name(name)
    if len(data) > settings.max_article_bytes:
        raise UploadError(
            f"{name}: {len(data) / 1e6:.1f} MB is over the {settings.max_article_bytes / 1e6:.1f} "
            "MB limit (NEWSDESK_MAX_ARTICLE_BYTES)."
        )
    if not data.strip():
        raise UploadError(f"{name}: the file is empty.")
    folder = settings.uploads_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UploadError(f"Cannot create the uploads folder {folder}: {error.strerror or error}") from None
    target = folder / name
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UploadError(f"{name}: {target} is a link or a folder; newsdesk will not replace it.")
    # A hidden temporary name: indexing skips it while it is being written.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise UploadError(f"{name}: cannot be saved in {folder} ({error.strerror or error}).") from None
    return UPLOADS_PREFIX + name


def is_upload(source: str) -> bool:
    """Whether article id `source` names an uploaded article (not one of the folder's)."""
    return source.startswith(UPLOADS_PREFIX)


def delete_upload(settings: Settings, source: str) -> None:
    """Delete uploaded article `source` from the uploads folder; the next index run drops it."""
    if not is_upload(source):
        raise UploadError(
            f"{source} is in the articles folder {settings.articles_dir}: only uploaded articles "
            "can be deleted here."
        )
    path = settings.uploads_dir / upload_name(source[len(UPLOADS_PREFIX) :])
    try:
        path.unlink()  # a link is removed itself, never what it points to
    except FileNotFoundError:
        raise UploadError(f"{source}: no such uploaded article (already deleted?).") from None
    except OSError as error:
        raise UploadError(f"{source}: cannot be deleted ({error.strerror or error}).") from None
