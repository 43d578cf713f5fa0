"""Test files whose metadata is written by exiftool itself (Debian's libimage-exiftool-perl), and read back by it.

exiftool is the independent reader: a fixture counts only if exiftool reads its GPS, author and device fields
before cleaning, and a cleaner passes only if exiftool reads none of them after. .ci/run installs exiftool.
"""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

AUTHOR = "Jane Tipster"
MAKE = "SecretCam"
MODEL = "Model X9"
LATITUDE, LONGITUDE = "41.8683", "87.6200"
RECORDED = "2026:11:30 21:14:05"
MARKERS = (AUTHOR, MAKE, MODEL, "41.868", "87.62", RECORDED[:10])
# Tag names (without their group) that name, place or identify the sender or the device.
PERSONAL_TAGS = {"Author", "Artist", "Creator", "Make", "Model", "CameraModelName", "OwnerName", "XPAuthor",
                 "Producer", "CreatorTool", "Title", "Subject", "Keywords", "SerialNumber", "Copyright"}

_IMAGE_TAGS = [f"-GPSLatitude={LATITUDE}", "-GPSLatitudeRef=N", f"-GPSLongitude={LONGITUDE}", "-GPSLongitudeRef=W",
               f"-Make={MAKE}", f"-Model={MODEL}", f"-Artist={AUTHOR}", f"-XMP:Creator={AUTHOR}",
               f"-DateTimeOriginal={RECORDED}"]
TAGS = {
    "jpeg": _IMAGE_TAGS,
    "heic": _IMAGE_TAGS,
    "png": [*_IMAGE_TAGS, f"-PNG:Author={AUTHOR}"],
    "pdf": [f"-PDF:Author={AUTHOR}", f"-PDF:Creator={MAKE} Scanner", f"-PDF:Producer={MODEL}",
            f"-XMP:Creator={AUTHOR}", f"-XMP:GPSLatitude={LATITUDE}", f"-XMP:GPSLongitude={LONGITUDE}",
            f"-XMP:Make={MAKE}", f"-XMP:Model={MODEL}", f"-PDF:CreateDate={RECORDED}"],
    # QuickTime: the Keys (moov/meta), UserData (moov/udta, ©xyz for the place), ItemList and XMP groups.
    "mp4": [f"-Keys:GPSCoordinates={LATITUDE}, -{LONGITUDE}", f"-Keys:Make={MAKE}", f"-Keys:Model={MODEL}",
            f"-Keys:Author={AUTHOR}", f"-UserData:GPSCoordinates={LATITUDE}, -{LONGITUDE}", f"-UserData:Make={MAKE}",
            f"-UserData:Model={MODEL}", f"-UserData:Author={AUTHOR}", f"-ItemList:Author={AUTHOR}",
            f"-XMP:Creator={AUTHOR}", f"-XMP:GPSLatitude={LATITUDE}", f"-XMP:Make={MAKE}",
            f"-QuickTime:CreateDate={RECORDED}", f"-QuickTime:TrackCreateDate={RECORDED}",
            f"-QuickTime:MediaCreateDate={RECORDED}"],
}
TAGS["mov"] = TAGS["mp4"]
NAMES = {"jpeg": "IMG_0001.JPG", "heic": "IMG_0002.HEIC", "png": "screen.png", "pdf": "statement.pdf",
         "mp4": "clip.mp4", "mov": "IMG_0003.MOV"}


def exiftool() -> str:
    """The exiftool program; the test fails (not skips) without it: the suite's claim rests on it."""
    found = shutil.which("exiftool")
    assert found, "exiftool is missing: apt-get install libimage-exiftool-perl (.ci/run installs it)"
    return found


def read_tags(data: bytes, tmp_path: Path, name: str = "file") -> dict[str, object]:
    """Every tag exiftool finds in the file ("Group:Tag" -> value), embedded documents included (-ee)."""
    path = tmp_path / f"read-{name}"
    path.write_bytes(data)
    result = subprocess.run([exiftool(), "-j", "-a", "-G1", "-n", "-ee", "-u", str(path)], capture_output=True,  # noqa: S603
                            check=True, timeout=60)
    (tags,) = json.loads(result.stdout)
    return {key: value for key, value in tags.items() if not key.startswith(("System:", "ExifTool:"))}


def personal(tags: dict[str, object]) -> list[str]:
    """The tags that give away a place, a person or a device: by name, or by holding one of the test's markers."""
    found = []
    for key, value in tags.items():
        tag = key.split(":", 1)[-1]
        text = json.dumps(value, ensure_ascii=False)
        if tag.startswith("GPS") or "Location" in tag or tag in PERSONAL_TAGS or any(m in text for m in MARKERS):
            found.append(f"{key}={value}")
    return found


def write_tags(data: bytes, kind: str, tmp_path: Path) -> bytes:
    """The file with the kind's tags written into it by exiftool."""
    source, target = tmp_path / f"base-{kind}", tmp_path / f"tagged-{kind}"
    source.write_bytes(data)
    target.unlink(missing_ok=True)
    subprocess.run([exiftool(), "-q", "-m", "-o", str(target), *TAGS[kind], str(source)], check=True,  # noqa: S603
                   capture_output=True, timeout=60)
    return target.read_bytes()


def base_file(kind: str) -> bytes:
    """A small valid file of the kind, with no metadata of its own."""
    from PIL import Image

    if kind == "pdf":
        from .family_files import pdf_file

        return pdf_file()
    if kind in ("mp4", "mov"):
        return video(b"isom" if kind == "mp4" else b"qt  ")
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (10, 120, 200)).save(out, format={"jpeg": "JPEG", "png": "PNG", "heic": "HEIF"}[kind])
    return out.getvalue()


def tagged_file(kind: str, tmp_path: Path) -> bytes:
    """A file of the kind carrying GPS, author and device fields, as exiftool wrote them."""
    return write_tags(base_file(kind), kind, tmp_path)


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def _u32(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "big") for v in values)


def _trak(track_id: int, handler: bytes, entry: bytes, offset: int, size: int, media_header: bytes,
          width_height: tuple[int, int] = (0, 0)) -> bytes:
    tkhd = _box(b"tkhd", b"\x00\x00\x00\x03" + _u32(0, 0, track_id, 0, 600) + bytes(16) + _MATRIX
                + _u32(width_height[0] << 16, width_height[1] << 16))
    mdhd = _box(b"mdhd", bytes(4) + _u32(0, 0, 600, 600) + b"\x55\xc4" + bytes(2))
    hdlr = _box(b"hdlr", bytes(8) + handler + bytes(12) + b"Handler\x00")
    stbl = _box(b"stbl", _box(b"stsd", _u32(0, 1) + entry) + _box(b"stts", _u32(0, 1, 1, 600))
                + _box(b"stsc", _u32(0, 1, 1, 1, 1)) + _box(b"stsz", _u32(0, 0, 1, size))
                + _box(b"stco", _u32(0, 1, offset)))
    dinf = _box(b"dinf", _box(b"dref", _u32(0, 1) + _box(b"url ", b"\x00\x00\x00\x01")))
    return _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(b"minf", media_header + dinf + stbl)))


_MATRIX = _u32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# One sample of Google's camera motion metadata (camm), type 5: latitude, longitude, altitude, as phones record it.
CAMM_POSITION = b"\x00\x00" + struct.pack("<H", 5) + struct.pack("<ddd", float(LATITUDE), -float(LONGITUDE), 180.0)


def video(brand: bytes, *, gps_track: bool = False) -> bytes:
    """A one-frame MP4 (brand isom) or QuickTime (brand 'qt  ') file, complete enough for exiftool to rewrite;
    with gps_track, a second, timed metadata track (camm) whose sample in mdat holds a GPS position."""
    mvhd = _box(b"mvhd", bytes(4) + _u32(0, 0, 600, 600, 0x10000) + b"\x01\x00" + bytes(10) + _MATRIX + bytes(24)
                + _u32(3))
    frame = bytes(range(64))
    entry = _box(b"mp4v", bytes(6) + b"\x00\x01" + bytes(16) + b"\x00\x30\x00\x20" + _u32(0x480000, 0x480000, 0)
                 + b"\x00\x01" + bytes(32) + b"\x00\x18\xff\xff")

    def moov(offset: int) -> bytes:
        tracks = _trak(1, b"vide", entry, offset, len(frame), _box(b"vmhd", b"\x00\x00\x00\x01" + bytes(8)), (48, 32))
        if gps_track:
            tracks += _trak(2, b"meta", _box(b"camm", bytes(6) + b"\x00\x01"), offset + len(frame),
                            len(CAMM_POSITION), _box(b"nmhd", bytes(4)))
        return _box(b"moov", mvhd + tracks)

    ftyp = _box(b"ftyp", brand + _u32(512) + brand + (b"iso2avc1mp41" if brand == b"isom" else b""))
    offset = len(ftyp) + len(moov(0)) + 8
    return ftyp + moov(offset) + _box(b"mdat", frame + (CAMM_POSITION if gps_track else b""))
