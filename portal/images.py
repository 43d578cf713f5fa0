"""Re-encoding pictures so that only their pixels remain: no EXIF (with GPS), XMP, comments, text chunks or profiles.

HEIC photos are opened through pillow-heif. A picture too large to be a phone photo is refused before it is
decoded (a "decompression bomb").
"""
from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

register_heif_opener()
MAX_PIXELS = 60_000_000  # larger than any phone photo; stops "decompression bombs"


class ImageError(ValueError):
    """The picture cannot be opened (damaged), or is too large (too_large)."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def reencode(data: bytes, fmt: str) -> bytes:
    """The picture decoded and saved again as `fmt` (JPEG, PNG, WEBP) from its pixels alone, upright."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as source:
                if source.width * source.height > MAX_PIXELS:
                    raise ImageError("too many pixels", too_large=True)
                source.seek(0)  # only the first frame of an animated image
                image = ImageOps.exif_transpose(source)  # keep photos upright once the EXIF tag is gone
                image.load()
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("not a readable picture") from None
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
