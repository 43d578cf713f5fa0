"""Test files with metadata that must not survive an upload: EXIF with GPS, comments, text chunks, video boxes."""
from __future__ import annotations

import io

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

GPS_IFD = 0x8825
SECRET_COMMENT = b"shot by Jake on his iPhone at 41 Elm St"
CAMERA = "SecretCam 3000"


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "Editor 1.0"  # Software
    exif[0x0112] = 6  # Orientation: rotate 90
    gps = {1: "N", 2: (IFDRational(41), IFDRational(52), IFDRational(5)), 3: "W",
           4: (IFDRational(87), IFDRational(37), IFDRational(12))}
    exif[GPS_IFD] = gps
    return exif


def jpeg_with_metadata(size=(64, 32)) -> bytes:
    """A JPEG with EXIF (camera, GPS position, orientation) and a comment segment."""
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=_exif_with_gps().tobytes(), comment=SECRET_COMMENT, quality=90)
    return out.getvalue()


def png_with_metadata() -> bytes:
    """A PNG with a text chunk and EXIF."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", SECRET_COMMENT.decode())
    image = Image.new("RGBA", (20, 20), (0, 0, 255, 128))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, exif=_exif_with_gps().tobytes())
    return out.getvalue()


def webp_with_metadata() -> bytes:
    """A WebP with EXIF."""
    image = Image.new("RGB", (20, 20), (0, 128, 0))
    out = io.BytesIO()
    image.save(out, format="WEBP", exif=_exif_with_gps().tobytes())
    return out.getvalue()


def heic_with_metadata() -> bytes:
    """An iPhone-style HEIC photo with EXIF."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.new("RGB", (32, 32), (10, 10, 200))
    out = io.BytesIO()
    image.save(out, format="HEIF", exif=_exif_with_gps().tobytes())
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def mp4_with_location() -> bytes:
    """A minimal MP4 whose moov/udta holds a GPS position (as phones write it) and whose trak has a meta box."""
    ftyp = _box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41")
    mvhd = _box(b"mvhd", bytes(100))
    xyz = _box(b"\xa9xyz", b"\x00\x12\x15\xc7+41.8683-087.6200/")
    udta = _box(b"udta", xyz)
    ilst = _box(b"ilst", b"com.apple.location SecretCam")
    meta = _box(b"meta", b"\x00\x00\x00\x00" + _box(b"hdlr", bytes(24)) + ilst)
    trak = _box(b"trak", _box(b"tkhd", bytes(84)) + meta)
    moov = _box(b"moov", mvhd + trak + udta)
    mdat = _box(b"mdat", b"\x00" * 256)
    return ftyp + moov + mdat


def html_named_jpg() -> bytes:
    """An HTML page (a classic trick: renamed to .jpg)."""
    return b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def pdf_file(*, author: str | None = None) -> bytes:
    """A small one-page PDF (made with pikepdf, so that it opens), with an Author in its info and XMP if asked."""
    import pikepdf

    document = pikepdf.new()
    document.add_blank_page(page_size=(200, 200))
    if author:
        document.docinfo["/Author"] = author
        document.docinfo["/Producer"] = "Tipster Writer 2.0"
        with document.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["dc:creator"] = [author]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    """A (stream, filename, content type) tuple for the test client."""
    return (io.BytesIO(data), name, content_type)
