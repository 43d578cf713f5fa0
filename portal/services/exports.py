"""CSV exports that open cleanly in Excel (UTF-8 with a BOM) and cannot smuggle in spreadsheet formulas."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

BOM = "\ufeff"
# A cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """The value made safe for a spreadsheet: text that could be a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 CSV bytes with a BOM (so Excel keeps accents: "Díaz", "Peña"), every cell neutralized."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(str(h)) for h in header])
    for row in rows:
        writer.writerow([neutralize(v) for v in row])
    return buffer.getvalue().encode("utf-8")
