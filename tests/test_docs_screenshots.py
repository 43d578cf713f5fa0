"""The README shows the portal first: its two pictures exist, at phone and desk width, and are linked."""
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def png_width(path: Path) -> int:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">I", header[16:20])[0]


@pytest.mark.parametrize(("name", "width"), [("family-case-375.png", 375), ("staff-home-1280.png", 1280)])
def test_the_readme_pictures_are_committed_at_their_width(name, width):
    picture = ROOT / "docs" / name
    assert picture.exists(), f"docs/{name} is missing: run `make docs-screenshots`"
    assert png_width(picture) == width
    assert f"docs/{name}" in (ROOT / "README.md").read_text(encoding="utf-8")
