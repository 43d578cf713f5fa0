"""Removing metadata from MP4 and QuickTime videos without re-encoding them.

Phones keep the place and device a video was recorded with in `udta`, `meta` and `uuid` boxes. Each such box is
turned into a `free` box of the same size with its contents zeroed: the pictures and every offset stay valid, but
the metadata is gone. Action cameras, drones and some phones also record a timed metadata track (handler `meta`:
GoPro's `gpmd`, Google's `camm`, Apple's `mebx`, Sony's `rtmd`...) whose samples in `mdat` hold a GPS position per
second: those samples are zeroed and the track itself blanked. The recording times in the movie, track and media
headers are zeroed too.
"""
from __future__ import annotations

VIDEO_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
                b"M4VP", b"dash", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"MSNV", b"qt  "}
METADATA_BOXES = {b"udta", b"meta", b"uuid"}
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"edts"}
HEADERS_WITH_TIMES = {b"mvhd", b"tkhd", b"mdhd"}
SAMPLE_TABLE_PATH = (b"mdia", b"minf", b"stbl")


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
        elif kind == b"trak" and _handler(data, payload, box_end) == b"meta":
            _zero_samples(data, payload, box_end)
            _blank(data, box_start, payload, box_end)
        elif kind in HEADERS_WITH_TIMES:
            _zero_times(data, payload, box_end)
        elif kind in CONTAINERS:
            _walk(data, payload, box_end, depth + 1)


def _child(data: bytearray, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the first child box of this kind, or None."""
    for found, _box_start, payload, box_end in _boxes(data, start, end):
        if found == kind:
            return payload, box_end
    return None


def _handler(data: bytearray, trak_start: int, trak_end: int) -> bytes | None:
    """The handler type of a track (b"vide", b"soun", b"meta"...), from trak/mdia/hdlr."""
    mdia = _child(data, trak_start, trak_end, b"mdia")
    hdlr = mdia and _child(data, *mdia, b"hdlr")
    if not hdlr or hdlr[1] - hdlr[0] < 12:
        return None
    return bytes(data[hdlr[0] + 8:hdlr[0] + 12])


def _zero_times(data: bytearray, payload: int, end: int) -> None:
    """Zero the creation and modification times of an mvhd, tkhd or mdhd box (version 0: 32 bits, 1: 64 bits)."""
    width = 8 if payload < end and data[payload] == 1 else 4
    if end - payload >= 4 + 2 * width:
        data[payload + 4:payload + 4 + 2 * width] = bytes(2 * width)


def _rows(data: bytearray, box: tuple[int, int] | None, row_bytes: int, skip: int = 8) -> list[bytes]:
    """The rows of a sample table box (stco, co64, stsc, stsz), after its header of `skip` bytes ending in a count."""
    if box is None or box[1] - box[0] < skip:
        return []
    start, end = box
    count = int.from_bytes(data[start + skip - 4:start + skip], "big")
    if skip + count * row_bytes > end - start:
        raise Mp4Error("sample table out of range")
    first = start + skip
    return [bytes(data[first + i * row_bytes:first + (i + 1) * row_bytes]) for i in range(count)]


def _int(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def _zero_samples(data: bytearray, trak_start: int, trak_end: int) -> None:
    """Zero every sample of a track where it lies in the file (found through its chunk offsets and sizes)."""
    stbl: tuple[int, int] | None = (trak_start, trak_end)
    for kind in SAMPLE_TABLE_PATH:
        stbl = stbl and _child(data, *stbl, kind)
    if not stbl:
        return
    offsets = [_int(r) for r in _rows(data, _child(data, *stbl, b"stco"), 4)] \
        or [_int(r) for r in _rows(data, _child(data, *stbl, b"co64"), 8)]
    stsz = _child(data, *stbl, b"stsz")
    if stsz is None or stsz[1] - stsz[0] < 12:
        return
    fixed, count = _int(data[stsz[0] + 4:stsz[0] + 8]), _int(data[stsz[0] + 8:stsz[0] + 12])
    sizes = [fixed] * count if fixed else [_int(r) for r in _rows(data, stsz, 4, skip=12)]
    runs = [(_int(r[:4]), _int(r[4:8])) for r in _rows(data, _child(data, *stbl, b"stsc"), 12)]
    per_chunk: list[int] = []  # samples in each chunk, from stsc's (first chunk, samples per chunk) runs
    for index, (first, samples) in enumerate(runs):
        last = runs[index + 1][0] - 1 if index + 1 < len(runs) else len(offsets)
        per_chunk += [samples] * max(last - first + 1, 0)
    sample = 0
    for chunk, offset in enumerate(offsets):
        for _ in range(per_chunk[chunk] if chunk < len(per_chunk) else 0):
            if sample >= len(sizes):
                return
            end = min(offset + sizes[sample], len(data))
            if offset < end:
                data[offset:end] = bytes(end - offset)
            offset += sizes[sample]
            sample += 1


def strip_metadata(raw: bytes) -> bytes:
    """The same video with every metadata box blanked; raises Mp4Error if the file is not a video."""
    data = bytearray(raw)
    top = list(_boxes(data, 0, len(data)))
    kinds = [kind for kind, *_ in top]
    if not kinds or kinds[0] != b"ftyp" or b"moov" not in kinds:
        raise Mp4Error("no ftyp or moov box")
    _walk(data, 0, len(data), 0)
    return bytes(data)
