"""How many SMS segments a text takes: GSM-7 (160 a segment, 153 when split) or UCS-2 (70, 67 when split)."""
from __future__ import annotations

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # each takes two septets (an escape and the character)


def encoding(text: str) -> str:
    """'GSM-7' when every character fits the GSM 03.38 alphabet, else 'UCS-2'."""
    return "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text) else "UCS-2"


def segment_count(text: str) -> tuple[str, int, int]:
    """(encoding, length in that encoding's units, number of segments) of a text."""
    if encoding(text) == "GSM-7":
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
        name = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        name = "UCS-2"
    return name, units, 1 if units <= single else math.ceil(units / multi)


# Characters that look the same to a reader but would push a whole text out of GSM-7 into UCS-2 (70 a segment).
_LOOKALIKES = str.maketrans({
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ", "\u2018": "'", "\u2019": "'", "\u201c": '"',
    "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
})


def gsm_friendly(text: str) -> str:
    """Replace typographic spaces, quotes and dashes (e.g. in formatted times) with their plain GSM-7 forms."""
    return text.translate(_LOOKALIKES)
