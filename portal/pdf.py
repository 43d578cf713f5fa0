"""Removing metadata, scripts and embedded files from PDFs, with pikepdf (qpdf underneath).

What goes: the document info (/Info: author, creator, producer, title, subject, keywords, dates), every XMP
stream (/Metadata, on the catalog and on any page, image or font), application data (/PieceInfo), page dates
(/LastModified), the author and dates of comments (markup annotations' /T, /M, /CreationDate), and what could act
or carry another file: JavaScript (document-level, in actions, in XFA forms), the open action and every
"additional action" (/AA), launch / submit / import / remote actions, embedded and associated files (/EF, /AF,
the /EmbeddedFiles name tree). Photos inside the PDF (JPEG streams) lose their EXIF/XMP/IPTC segments and
comments. qpdf rewrites the whole file, so earlier revisions (an incremental update keeps the old /Info) and
objects nothing refers to are not written, and the file gets a new /ID. Pages, text, fonts, pictures, links to
web pages and form fields stay.
"""
from __future__ import annotations

import io
import re
import secrets

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

# Keys removed wherever they appear.
DROP_KEYS = {"/Metadata", "/PieceInfo", "/LastModified", "/OpenAction", "/AA", "/EF", "/AF", "/XFA", "/JS",
             "/SpiderInfo"}
NAME_TREES_DROPPED = {"/JavaScript", "/EmbeddedFiles"}
# Actions that run code, open programs or files, or send data out; links to pages and web addresses stay.
DANGEROUS_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/Rendition",
                     "/RichMediaExecute", "/Movie", "/Sound"}
ACTION_KEYS = {"/A", "/Next"}
# Annotations whose /T is the name of the person who wrote the comment (a form field's /T is its field name).
MARKUP_ANNOTATIONS = {"/Text", "/FreeText", "/Line", "/Square", "/Circle", "/Polygon", "/PolyLine", "/Highlight",
                      "/Underline", "/Squiggly", "/StrikeOut", "/Stamp", "/Caret", "/Ink", "/FileAttachment",
                      "/Sound", "/Redact", "/Popup"}
ANNOTATION_PERSONAL_KEYS = {"/T", "/M", "/CreationDate", "/FS"}


class PdfError(ValueError):
    """The file cannot be opened as a PDF (damaged, or locked with a password)."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


def strip_metadata(raw: bytes) -> bytes:
    """The same PDF without metadata, scripts or embedded files; raises PdfError if it cannot be opened."""
    try:
        pdf = pikepdf.open(io.BytesIO(raw))
    except pikepdf.PasswordError:
        raise PdfError("locked with a password", locked=True) from None
    except (pikepdf.PdfError, ValueError, RecursionError) as exc:
        raise PdfError(f"not a readable PDF: {type(exc).__name__}") from None
    try:
        with pdf:
            _scrub_document(pdf)
            out = io.BytesIO()
            # A fresh random /ID: qpdf would otherwise keep the first half of the sender's own file's /ID.
            pdf.trailer.ID = Array([pikepdf.String(secrets.token_bytes(16)), pikepdf.String(secrets.token_bytes(16))])
            pdf.save(out, encryption=False, preserve_pdfa=False, fix_metadata_version=False)
            return out.getvalue()
    except (pikepdf.PdfError, ValueError, RecursionError, KeyError, TypeError) as exc:
        raise PdfError(f"PDF could not be rewritten: {type(exc).__name__}") from None


def _scrub_document(pdf: pikepdf.Pdf) -> None:
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    names = pdf.Root.get("/Names")
    if isinstance(names, Dictionary):
        for tree in NAME_TREES_DROPPED & set(names.keys()):
            del names[tree]
    for obj in list(pdf.objects):
        _scrub(obj, depth=0)


def _scrub(obj, *, depth: int) -> None:
    """Clean one dictionary or stream and the direct (not indirect) objects inside it; indirect ones get their own
    turn, since the loop visits every object of the file."""
    if depth > 64:
        raise PdfError("objects nested too deeply")
    if isinstance(obj, Array):
        for item in obj:
            if isinstance(item, (Dictionary, Array, Stream)) and not item.is_indirect:
                _scrub(item, depth=depth + 1)
        return
    if not isinstance(obj, (Dictionary, Stream)):
        return
    for key in DROP_KEYS & set(obj.keys()):
        del obj[key]
    if obj.get("/Subtype") in MARKUP_ANNOTATIONS and ("/Rect" in obj or obj.get("/Type") == "/Annot"):
        for key in ANNOTATION_PERSONAL_KEYS & set(obj.keys()):
            del obj[key]
    for key in ACTION_KEYS & set(obj.keys()):
        if _is_dangerous_action(obj[key]):
            del obj[key]
    if obj.get("/S") in DANGEROUS_ACTIONS:  # an action object itself: make it do nothing
        for key in set(obj.keys()) - {"/Type"}:
            del obj[key]
        obj.S = Name("/GoTo")
        obj.D = Array([])
    if isinstance(obj, Stream) and obj.get("/Filter") in (Name.DCTDecode, Array([Name.DCTDecode])):
        _clean_jpeg_stream(obj)
    for key in list(obj.keys()):
        child = obj[key]
        if isinstance(child, (Dictionary, Array, Stream)) and not child.is_indirect:
            _scrub(child, depth=depth + 1)


def _is_dangerous_action(action) -> bool:
    if isinstance(action, Array):
        return any(_is_dangerous_action(item) for item in action)
    return isinstance(action, Dictionary) and action.get("/S") in DANGEROUS_ACTIONS


def _clean_jpeg_stream(stream: Stream) -> None:
    raw = stream.read_raw_bytes()
    cleaned = strip_jpeg_segments(raw)
    if cleaned != raw:
        stream.write(cleaned, filter=Name.DCTDecode, decode_parms=stream.get("/DecodeParms"))


# JPEG segments kept: JFIF (APP0), an ICC colour profile (APP2 "ICC_PROFILE"), Adobe's colour transform (APP14);
# dropped: EXIF and XMP (APP1), IPTC/Photoshop (APP13), every other APPn, comments, anything after the image's end.
_KEEP_APP = {0xE0, 0xEE}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_NEXT_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])", re.DOTALL)  # not a stuffed byte, a restart or fill


def strip_jpeg_segments(data: bytes) -> bytes:
    """A JPEG's bytes without metadata segments; data that does not parse as a JPEG comes back unchanged."""
    if data[:2] != b"\xff\xd8":
        return data
    out = bytearray(b"\xff\xd8")
    i = 2
    n = len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return data
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            out += b"\xff\xd9"
            return bytes(out)
        if marker in _STANDALONE:
            out += data[i:i + 2]
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        end = i + 2 + length
        if i + 4 > n or length < 2 or end > n:
            return data
        segment = data[i:end]
        keep = not (0xE0 <= marker <= 0xEF or marker == 0xFE) or marker in _KEEP_APP \
            or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00")
        if keep:
            out += segment
        i = end
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker that is not a restart
            found = _NEXT_MARKER.search(data, i)
            j = found.start() if found else n
            out += data[i:j]
            i = j
    return data
