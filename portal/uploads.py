"""Attachments: check size and count, decide the type from the content, clean, seal the original, store, serve.

Every kind we accept has its own cleaner (there is no "keep as sent"): images are decoded and re-encoded, so EXIF
(with GPS), comments and other metadata do not survive (portal/images.py); videos keep their pictures but lose
their metadata boxes, recording times and GPS tracks (portal/mp4.py); PDFs lose their document info, XMP, scripts
and embedded files (portal/pdf.py). The untouched original is kept beside the cleaned copy, encrypted under its
own key (crypto.seal), with the SHA-256 of the bytes as received, for chain of custody. Files are stored flat as
UPLOAD_DIR/<random name> and only ever leave through send_attachment (the cleaned copy) or send_original, after
an access check.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, send_file
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from . import crypto, images, mp4, pdf
from .errors import ServiceError

log = logging.getLogger(__name__)

MAX_FILES = 10
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif,application/pdf,video/mp4,video/quicktime"

HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


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
    # The original as received, sealed beside it: its own file, hash, size, type and key (base64url).
    original_stored_name: str
    original_sha256: str
    original_size: int
    original_content_type: str
    original_key: str


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


def _clean_image(data: bytes, fmt: str, name: str) -> bytes:
    """Decode and re-encode an image so that only its pixels remain (portal/images.py)."""
    try:
        return images.reencode(data, fmt)
    except images.ImageError as exc:
        if exc.too_large:
            raise _refused(str(_l("“%(name)s” is too large a picture. Send a smaller copy.", name=name))) from None
        raise _refused(str(_l("We could not open the picture “%(name)s”. It may be damaged. "
                                 "Try to send it again or take a screenshot of it.", name=name))) from None


def _image(fmt: str) -> Callable[[bytes, str], bytes]:
    return lambda data, name: _clean_image(data, fmt, name)


def _clean_video(data: bytes, name: str) -> bytes:
    """Blank every metadata box of an MP4 or QuickTime video (portal/mp4.py)."""
    try:
        return mp4.strip_metadata(data)
    except mp4.Mp4Error:
        raise _refused(str(_l("We could not read the video “%(name)s”. It may be damaged. "
                                 "Try to send it again.", name=name))) from None


def _clean_pdf(data: bytes, name: str) -> bytes:
    """Rewrite a PDF without document info, XMP, scripts or embedded files (portal/pdf.py)."""
    try:
        return pdf.strip_metadata(data)
    except pdf.PdfError as exc:
        if exc.locked:
            raise _refused(str(_l("“%(name)s” is locked with a password. Send a copy without the password, "
                                     "or take screenshots of its pages.", name=name))) from None
        raise _refused(str(_l("We could not open the PDF “%(name)s”. It may be damaged. "
                                 "Try to send it again or take a screenshot of it.", name=name))) from None


@dataclass(frozen=True)
class Kind:
    """A kind of file we accept: how it is stored once clean, and its cleaner (required: nothing is kept as sent)."""

    extension: str
    content_type: str
    clean: Callable[[bytes, str], bytes]  # (data, display name) -> clean bytes; raises ServiceError to refuse
    original_extension: str = ""  # of the file as received, when it differs (HEIC becomes JPEG)
    original_content_type: str = ""

    def original(self) -> tuple[str, str]:
        """(extension, content type) of the file as it was received."""
        return self.original_extension or self.extension, self.original_content_type or self.content_type


KINDS = {
    "jpeg": Kind("jpg", "image/jpeg", _image("JPEG")),
    "png": Kind("png", "image/png", _image("PNG")),
    "webp": Kind("webp", "image/webp", _image("WEBP")),
    # re-encoded as JPEG so every browser can show it
    "heic": Kind("jpg", "image/jpeg", _image("JPEG"), original_extension="heic", original_content_type="image/heic"),
    "pdf": Kind("pdf", "application/pdf", _clean_pdf),
    "mp4": Kind("mp4", "video/mp4", _clean_video),
    "mov": Kind("mov", "video/quicktime", _clean_video),
}


IMAGE_KINDS = frozenset({"jpeg", "png", "webp", "heic"})


def clean_file(data: bytes, name: str, *, only: frozenset[str] | None = None) -> tuple[bytes, Kind]:
    """(clean bytes, kind) for an accepted file (of the kinds in `only`, if given); raises ServiceError otherwise."""
    found = sniff(data[:64]) or ""
    kind = KINDS.get(found) if only is None or found in only else None
    if kind is None:
        raise _not_accepted(name)
    return kind.clean(data, name), kind


def _new_name() -> str:
    return secrets.token_hex(20)


def _write_private(stored_name: str, data: bytes) -> None:
    """Write bytes under their random name: owner-only, and on the disk (fsync) before we answer."""
    target = path_for(stored_name)
    temporary = target.with_name(stored_name + "-partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def original_context(original_stored_name: str) -> str:
    """What a sealed original is bound to: its own file name (a sealed file moved or swapped does not open)."""
    return f"lead_attachments.original:{original_stored_name}"


def store_file(file: FileStorage, *, anonymous_name: str | None = None) -> StoredFile:
    """Clean one uploaded file and write it under a new random name, its untouched original sealed beside it."""
    name = _display_name(file.filename)
    data = file.stream.read(MAX_FILE_BYTES + 1)
    return store_bytes(data, name, anonymous_name=anonymous_name)


def store_bytes(data: bytes, name: str, *, anonymous_name: str | None = None,
                only: frozenset[str] | None = None) -> StoredFile:
    """Clean a file's bytes (of the kinds in `only`, if given) and store them like an upload, original sealed."""
    name = _display_name(name)
    if len(data) > MAX_FILE_BYTES:
        raise _refused(str(_l("“%(name)s” is too big. Each file can be up to %(max)d MB.",
                                 name=name, max=_mb(MAX_FILE_BYTES))))
    if not data:
        raise _refused(str(_l("“%(name)s” is empty. Choose the file again.", name=name)))
    received_sha256 = hashlib.sha256(data).hexdigest()  # of the bytes as received, before anything touches them
    clean, kind = clean_file(data, name, only=only)
    stem = os.path.splitext(name)[0][:60] or "file"
    original = f"{anonymous_name}.{kind.extension}" if anonymous_name else f"{stem}.{kind.extension}"
    stored_name, original_stored_name = _new_name(), _new_name()
    sealed = crypto.seal(data, context=original_context(original_stored_name))
    _write_private(stored_name, clean)
    try:
        _write_private(original_stored_name, sealed.blob)
    except BaseException:
        _remove(stored_name)
        raise
    return StoredFile(stored_name=stored_name, original_name=original, content_type=kind.content_type,
                      size=len(clean), sha256=hashlib.sha256(clean).hexdigest(),
                      original_stored_name=original_stored_name, original_sha256=received_sha256,
                      original_size=len(data), original_content_type=kind.original()[1], original_key=sealed.key)


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


def _remove(stored_name: str | None) -> bool:
    """Remove one stored file (cleaned copy or sealed original); False if it could not be removed."""
    if not stored_name:
        return True
    try:
        path_for(stored_name).unlink(missing_ok=True)
    except ValueError:  # not one of our names: nothing of ours to remove
        log.warning("an attachment names a file that is not one of ours; nothing removed")
    except OSError:
        log.warning("could not remove an attachment file")
        return False
    return True


def discard(files: list[StoredFile]) -> None:
    """Remove stored files that will not be used (a refused or duplicate submission): copies and originals."""
    for stored in files:
        _remove(stored.stored_name)
        _remove(stored.original_stored_name)


def delete_attachment_files(attachment) -> None:
    """Remove both files of an attachment, the cleaned copy and the sealed original; its row is the caller's.

    Missing files count as removed. OSError if a file is still there: a purge must not drop the row and leave the
    file behind (the caller's transaction rolls back and the next run tries again)."""
    cleaned = _remove(attachment.stored_name)
    original = _remove(attachment.original_stored_name)
    if not (cleaned and original):
        raise OSError(f"a file of attachment id={attachment.id} could not be removed")


DOWNLOAD_POLICY = "default-src 'none'; sandbox"


def _as_download(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.download_policy = DOWNLOAD_POLICY
    return response


def keep_download_policy(response):
    """After the app's security headers: a file download keeps its own sandbox policy (an after-request hook)."""
    policy = getattr(response, "download_policy", None)
    if policy:
        response.headers["Content-Security-Policy"] = policy
    return response


def send_attachment(attachment):
    """The cleaned file as a download: never shown inline, never sniffed, never cached; 404 if missing.

    Check access first."""
    try:
        path = path_for(attachment.stored_name)
    except ValueError:  # not one of our names (e.g. one that climbs out of the folder): never served
        abort(404)
    if not path.is_file():
        abort(404)
    return _as_download(send_file(path, mimetype=attachment.content_type or "application/octet-stream",
                                  as_attachment=True, download_name=attachment.original_name, max_age=0,
                                  conditional=False, etag=False))


def open_original(attachment) -> bytes:
    """The untouched original of an attachment, unsealed and checked against the SHA-256 taken at receipt.

    404 if there is none (received before originals were kept) or its file is gone; ServiceError if it does not
    open or its hash differs (altered): the caller says so and audits it. Check access first.
    """
    if not attachment.original_stored_name or not attachment.original_key:
        abort(404)
    try:
        path = path_for(attachment.original_stored_name)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    try:
        data = crypto.unseal(attachment.original_key, path.read_bytes(),
                             context=original_context(attachment.original_stored_name))
    except crypto.KeyringError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != attachment.original_sha256:
        log.error("sealed original of attachment %s did not open or does not match its hash", attachment.id)
        raise ServiceError(str(_l("The original of “%(name)s” could not be opened: it may have been altered. "
                                  "Tell an administrator.", name=attachment.original_name)))
    return data


def original_download_name(attachment) -> str:
    """The name the original downloads under: the cleaned copy's name, marked as the original, with its own type."""
    stem = os.path.splitext(attachment.original_name)[0] or "file"
    extension = next((k.original()[0] for k in KINDS.values() if k.original()[1] == attachment.original_content_type),
                     "bin")
    return f"{stem}-original.{extension}"


def send_original(attachment, data: bytes):
    """The unsealed original as a download, served like send_attachment."""
    return _as_download(send_file(io.BytesIO(data), mimetype=attachment.original_content_type or
                                  "application/octet-stream", as_attachment=True,
                                  download_name=original_download_name(attachment), max_age=0, conditional=False,
                                  etag=False))
