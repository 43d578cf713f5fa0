"""Attachments: check size and count, decide the type from the content, clean, store outside static/, serve.

Images are decoded and re-encoded, so EXIF (with GPS), comments and other metadata do not survive. Videos keep
their pictures but lose their metadata boxes (where phones keep the place a video was taken). Files are stored
flat as UPLOAD_DIR/<random name> and only ever leave through send_attachment, after an access check.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener
from werkzeug.datastructures import FileStorage

from . import mp4
from .errors import ServiceError

register_heif_opener()
log = logging.getLogger(__name__)

MAX_FILES = 10
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_PIXELS = 60_000_000  # larger than any phone photo; stops "decompression bombs"
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf,video/mp4,video/quicktime"

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# (extension, content type, how to clean) for each kind we accept.
KINDS = {
    "jpeg": ("jpg", "image/jpeg", "image"),
    "png": ("png", "image/png", "image"),
    "webp": ("webp", "image/webp", "image"),
    "heic": ("jpg", "image/jpeg", "image"),  # re-encoded as JPEG so every browser can show it
    "pdf": ("pdf", "application/pdf", "keep"),
    "mp4": ("mp4", "video/mp4", "video"),
    "mov": ("mov", "video/quicktime", "video"),
}
PILLOW_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "JPEG"}


def _refused(message: str) -> ServiceError:
    """A file that cannot be accepted; the message is safe to show, says what to do, and goes by the file input."""
    return ServiceError(message, "files")


@dataclass(frozen=True)
class StoredFile:
    """A cleaned file, already on disk under its random name."""

    stored_name: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def upload_dir() -> Path:
    """The folder attachments live in (created if missing)."""
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(stored_name: str) -> Path:
    """Where a stored file is; refuses any name that is not one of ours."""
    if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
        raise ValueError("not a stored file name")
    return upload_dir() / stored_name


def sniff(head: bytes) -> str | None:
    """The kind of file from its first bytes (never from its name), or None if we do not accept it."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & HEIC_BRANDS and head[8:12] not in mp4.VIDEO_BRANDS:
            return "heic"
        if head[8:12] == b"qt  ":
            return "mov"
        if brands & mp4.VIDEO_BRANDS:
            return "mp4"
    return None


def _size_of(file: FileStorage) -> int:
    stream = file.stream
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _mb(n: int) -> int:
    return n // (1024 * 1024)


def chosen_files(files: list[FileStorage]) -> list[FileStorage]:
    """The file inputs that actually hold a file (an empty input sends a nameless part)."""
    return [f for f in files if f and f.filename]


def check_batch(files: list[FileStorage]) -> None:
    """Refuse too many files, a file that is too big, or too much in total, before any work is done."""
    if len(files) > MAX_FILES:
        raise _refused(str(_l("You can add up to %(n)d files. Remove some and try again.", n=MAX_FILES)))
    total = 0
    for file in files:
        size = _size_of(file)
        if size > MAX_FILE_BYTES:
            raise _refused(str(_l(
                "“%(name)s” is too big (%(size)d MB). Each file can be up to %(max)d MB. "
                "Send a smaller copy, or tell us about it in words.",
                name=_display_name(file.filename), size=_mb(size), max=_mb(MAX_FILE_BYTES))))
        if size == 0:
            raise _refused(str(_l("“%(name)s” is empty. Choose the file again.",
                                     name=_display_name(file.filename))))
        total += size
    if total > MAX_TOTAL_BYTES:
        raise _refused(str(_l("These files add up to %(size)d MB. All files together can be up to %(max)d MB.",
                                 size=_mb(total), max=_mb(MAX_TOTAL_BYTES))))


def _display_name(name: str | None) -> str:
    return (os.path.basename(name or "").strip() or "file")[:80]


def _not_accepted(name: str) -> ServiceError:
    return _refused(str(_l(
        "We cannot accept “%(name)s”. Send photos (JPEG, PNG, WebP, HEIC), PDF files or MP4 videos. "
        "If it is another kind of file, tell us about it in words.", name=name)))


def _clean_image(data: bytes, kind: str, name: str) -> bytes:
    """Decode and re-encode an image so that only its pixels remain: no EXIF, GPS, comments or profiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                if source.width * source.height > MAX_PIXELS:
                    raise _refused(str(_l("“%(name)s” is too large a picture. Send a smaller copy.", name=name)))
                source.seek(0)  # only the first frame of an animated image
                image = ImageOps.exif_transpose(source)  # keep photos upright once the EXIF tag is gone
                image.load()
    except ServiceError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused(str(_l("We could not open the picture “%(name)s”. It may be damaged. "
                                 "Try to send it again or take a screenshot of it.", name=name))) from None
    fmt = PILLOW_FORMAT[kind]
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if fmt == "JPEG" and image.mode in ("RGBA", "LA"):
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    # Built from the raw pixels alone, the new image carries no info, EXIF, XMP, ICC or text chunks.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    options = {"quality": 90} if fmt in ("JPEG", "WEBP") else {}
    clean.save(out, format=fmt, **options)
    return out.getvalue()


def clean_file(data: bytes, name: str) -> tuple[bytes, str, str]:
    """(clean bytes, extension, content type) for an accepted file; raises ServiceError otherwise."""
    kind = sniff(data[:64])
    if kind is None:
        raise _not_accepted(name)
    extension, content_type, how = KINDS[kind]
    if how == "image":
        return _clean_image(data, kind, name), extension, content_type
    if how == "video":
        try:
            return mp4.strip_metadata(data), extension, content_type
        except mp4.Mp4Error:
            raise _refused(str(_l("We could not read the video “%(name)s”. It may be damaged. "
                                     "Try to send it again.", name=name))) from None
    return data, extension, content_type


def store_file(file: FileStorage, *, anonymous_name: str | None = None) -> StoredFile:
    """Clean one uploaded file and write it under a new random name."""
    name = _display_name(file.filename)
    data = file.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _refused(str(_l("“%(name)s” is too big. Each file can be up to %(max)d MB.",
                                 name=name, max=_mb(MAX_FILE_BYTES))))
    clean, extension, content_type = clean_file(data, name)
    stem = os.path.splitext(name)[0][:60] or "file"
    original = f"{anonymous_name}.{extension}" if anonymous_name else f"{stem}.{extension}"
    stored_name = secrets.token_hex(20)
    target = upload_dir() / stored_name
    temporary = target.with_name(stored_name + "-partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(clean)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return StoredFile(stored_name=stored_name, original_name=original, content_type=content_type,
                      size=len(clean), sha256=hashlib.sha256(clean).hexdigest())


def store_files(files: list[FileStorage], *, anonymous: bool = False) -> list[StoredFile]:
    """Check and store every chosen file, or none of them: a refusal removes the ones already written."""
    files = chosen_files(files)
    check_batch(files)
    stored: list[StoredFile] = []
    try:
        for index, file in enumerate(files, start=1):
            stored.append(store_file(file, anonymous_name=f"file-{index}" if anonymous else None))
    except BaseException:
        discard(stored)
        raise
    log.info("stored %d attachment(s)", len(stored))
    return stored


def discard(files: list[StoredFile]) -> None:
    """Remove stored files that will not be used (a refused or duplicate submission)."""
    for stored in files:
        try:
            path_for(stored.stored_name).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove an unused attachment file")


def delete_attachment_files(attachment) -> None:
    """Remove every file stored for an attachment (the cleaned copy; its row is the caller's to delete).

    An OSError (the file is there but cannot be removed) is raised: a purge must not drop the row and leave the
    file behind."""
    try:
        path_for(attachment.stored_name).unlink(missing_ok=True)
    except ValueError:  # not one of our names: nothing of ours to remove
        log.warning("attachment id=%s has no stored name of ours; no file removed", attachment.id)
    except OSError:
        log.warning("could not remove the file of attachment id=%s", attachment.id)
        raise


def send_attachment(attachment):
    """The file as a download: never shown inline, never sniffed, never cached; 404 if missing. Check access first."""
    try:
        path = path_for(attachment.stored_name)
    except ValueError:  # not one of our names (e.g. one that climbs out of the folder): never served
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type or "application/octet-stream", as_attachment=True,
                         download_name=attachment.original_name, max_age=0, conditional=False, etag=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response
