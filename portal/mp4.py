"""Removing metadata from MP4 and QuickTime videos without re-encoding them.

Phones keep the place and device a video was recorded with in `udta`, `meta` and `uuid` boxes. Each such box is
turned into a `free` box of the same size with its contents zeroed: the pictures and every offset stay valid, but
the metadata is gone.
"""
from __future__ import annotations

VIDEO_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
                b"M4VP", b"dash", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"qt  "}
METADATA_BOXES = {b"udta", b"meta", b"uuid"}
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts"}


class Mp4Error(ValueError):
    """The file is not a well-formed MP4/QuickTime file."""


def _boxes(data: bytearray, start: int, end: int):
    """Yield (type, box start, payload start, box end) for each box between start and end."""
    position = start
    while position < end:
        if end - position < 8:
            raise Mp4Error("truncated box header")
        size = int.from_bytes(data[position:position + 4], "big")
        kind = bytes(data[position + 4:position + 8])
        header = 8
        if size == 1:
            if end - position < 16:
                raise Mp4Error("truncated large box header")
            size = int.from_bytes(data[position + 8:position + 16], "big")
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise Mp4Error("box size out of range")
        yield kind, position, position + header, position + size
        position += size


def _blank(data: bytearray, start: int, payload: int, end: int) -> None:
    data[start + 4:start + 8] = b"free"
    data[payload:end] = bytes(end - payload)


def _walk(data: bytearray, start: int, end: int, depth: int) -> None:
    if depth > 8:
        raise Mp4Error("boxes nested too deeply")
    for kind, box_start, payload, box_end in _boxes(data, start, end):
        if kind in METADATA_BOXES:
            _blank(data, box_start, payload, box_end)
        elif kind in CONTAINERS:
            _walk(data, payload, box_end, depth + 1)


def strip_metadata(raw: bytes) -> bytes:
    """The same video with every metadata box blanked; raises Mp4Error if the file is not a video."""
    data = bytearray(raw)
    top = list(_boxes(data, 0, len(data)))
    kinds = [kind for kind, *_ in top]
    if not kinds or kinds[0] != b"ftyp" or b"moov" not in kinds:
        raise Mp4Error("no ftyp or moov box")
    _walk(data, 0, len(data), 0)
    return bytes(data)
