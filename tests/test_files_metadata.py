"""An independent reader (exiftool) finds no GPS, author or device field in any cleaned file, of every kind we take."""
from __future__ import annotations

import io

import pikepdf
import pytest

from portal import pdf, uploads
from portal.errors import ServiceError

from . import exiftool_files as ef

KINDS = ["jpeg", "heic", "png", "pdf", "mp4", "mov"]


@pytest.mark.parametrize("kind", KINDS)
def test_exiftool_reads_the_fields_before_cleaning_and_none_after(app, tmp_path, kind):
    tagged = ef.tagged_file(kind, tmp_path)
    before = ef.personal(ef.read_tags(tagged, tmp_path, kind))
    # The fixture really carries a place, a person and a device, as exiftool reads them (so the test can fail).
    assert any(":GPS" in tag for tag in before), before
    assert any(ef.AUTHOR in tag for tag in before), before
    assert any(ef.MAKE in tag or ef.MODEL in tag for tag in before), before
    with app.test_request_context():
        clean, accepted = uploads.clean_file(tagged, ef.NAMES[kind])
    assert accepted is uploads.KINDS[uploads.sniff(tagged[:64])]
    assert ef.personal(ef.read_tags(clean, tmp_path, f"clean-{kind}")) == []
    for marker in (ef.AUTHOR, ef.MAKE, ef.MODEL):
        assert marker.encode() not in clean, f"{marker} is still in the bytes"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_we_accept_has_a_cleaner_that_changes_a_tagged_file(app, tmp_path, kind):
    """Nothing is kept as sent: the kind of each fixture is one we accept, and its cleaner rewrites it."""
    tagged = ef.tagged_file(kind, tmp_path)
    with app.test_request_context():
        clean, accepted = uploads.clean_file(tagged, ef.NAMES[kind])
    assert callable(accepted.clean) and clean != tagged


def test_a_gps_track_recorded_beside_the_video_is_zeroed_too(tmp_path):
    """Action cameras and some phones record the position every second in a timed metadata track (camm, gpmd):
    exiftool -ee reads it from the samples in mdat. The old cleaner left it; now the samples are zeroed and the
    track is blanked, while the video track and every offset stay."""
    from portal import mp4

    sent = ef.video(b"isom", gps_track=True)
    assert any(":GPSLatitude" in tag for tag in ef.personal(ef.read_tags(sent, tmp_path, "camm")))
    clean = mp4.strip_metadata(sent)
    assert ef.personal(ef.read_tags(clean, tmp_path, "camm-clean")) == []
    assert ef.CAMM_POSITION not in clean and len(clean) == len(sent)
    assert bytes(range(64)) in clean  # the frame itself is untouched
    assert ef.read_tags(clean, tmp_path, "camm-clean2")["Track1:ImageWidth"] == 48


def test_top_level_metadata_boxes_and_recording_times_are_blanked():
    """Boxes exiftool does not read at the top level (meta, uuid) are blanked all the same."""
    from portal import mp4

    def box(kind, payload):
        return (8 + len(payload)).to_bytes(4, "big") + kind + payload

    sent = ef.video(b"isom") + box(b"meta", bytes(4) + box(b"ilst", ef.AUTHOR.encode())) \
        + box(b"uuid", b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac" + ef.MAKE.encode())
    clean = mp4.strip_metadata(sent)
    assert ef.AUTHOR.encode() not in clean and ef.MAKE.encode() not in clean and len(clean) == len(sent)


def test_every_kind_the_sniffer_can_answer_is_a_kind_with_a_cleaner():
    samples = {"jpeg": b"\xff\xd8\xff\xe0", "png": b"\x89PNG\r\n\x1a\n", "webp": b"RIFF\x00\x00\x00\x00WEBP",
               "pdf": b"%PDF-1.7", "mp4": ef.video(b"isom")[:64], "mov": ef.video(b"qt  ")[:64],
               "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"}
    assert {uploads.sniff(head.ljust(64, b"\x00")) for head in samples.values()} == set(uploads.KINDS)
    with pytest.raises(TypeError):
        uploads.Kind("txt", "text/plain")  # a kind cannot be declared without its cleaner


def _pdf_with_everything(tmp_path) -> bytes:
    """A PDF with an incremental update (the first /Info survives in the file's bytes), a script run on opening,
    an embedded file, a sticky-note comment signed by its author, and a photo whose EXIF names the camera."""
    from . import family_files as ff

    document = pikepdf.open(io.BytesIO(ef.tagged_file("pdf", tmp_path)))
    document.Root.OpenAction = document.make_indirect(pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.launchURL('https://tracker.example/x')")))
    document.attachments["notes.txt"] = pikepdf.AttachedFileSpec(document, b"Jane Tipster's notes",
                                                                 filename="notes.txt")
    page = document.pages[0]
    page.obj.Annots = pikepdf.Array([document.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[0, 0, 10, 10],
        T=pikepdf.String("Jane Tipster"), Contents=pikepdf.String("see page 2"),
        M=pikepdf.String("D:20261201120000Z")))])
    photo = pikepdf.Stream(document, ff.jpeg_with_metadata(), Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Image, Width=64, Height=32, ColorSpace=pikepdf.Name.DeviceRGB,
                           BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_pdf_loses_scripts_embedded_files_comment_authors_and_photo_exif_but_keeps_its_page(tmp_path):
    from . import family_files as ff

    raw = _pdf_with_everything(tmp_path)
    assert b"JavaScript" in raw and ff.CAMERA.encode() in raw and b"Jane Tipster" in raw
    clean = pdf.strip_metadata(raw)
    assert b"Jane Tipster" not in clean and ff.CAMERA.encode() not in clean and b"tracker.example" not in clean
    with pikepdf.open(io.BytesIO(clean)) as document:
        assert "/Info" not in document.trailer and "/Metadata" not in document.Root
        assert "/OpenAction" not in document.Root and not document.attachments
        assert len(document.pages) == 1
        (note,) = document.pages[0].Annots
        assert "/T" not in note and "/M" not in note and note.Contents == "see page 2"  # the comment itself stays
        photo = pikepdf.PdfImage(document.pages[0].Resources.XObject.Im0).as_pil_image()
        assert photo.size == (64, 32) and not photo.getexif()
        for obj in document.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                assert not {"/Metadata", "/PieceInfo", "/JS", "/EF", "/AA"} & set(obj.keys())
    assert ef.personal(ef.read_tags(clean, tmp_path, "everything")) == []


def test_the_pdf_id_is_new_so_it_cannot_be_matched_with_the_senders_copy(tmp_path):
    """A PDF's /ID is made by the sender's program and kept by every later save: the clean copy gets its own."""
    import secrets

    senders_id = secrets.token_bytes(16)
    with pikepdf.open(io.BytesIO(ef.tagged_file("pdf", tmp_path))) as document:
        document.trailer.ID = pikepdf.Array([pikepdf.String(senders_id), pikepdf.String(senders_id)])
        out = io.BytesIO()
        document.save(out)  # qpdf keeps the first half of an /ID, as the sender's own tools would
    with pikepdf.open(io.BytesIO(out.getvalue())) as sent:
        assert bytes(sent.trailer.ID[0]) == senders_id
    with pikepdf.open(io.BytesIO(pdf.strip_metadata(out.getvalue()))) as clean:
        assert senders_id not in (bytes(clean.trailer.ID[0]), bytes(clean.trailer.ID[1]))


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.7\n" + b"garbage " * 200, "We could not open the PDF “scan.pdf”. It may be damaged."),
    (None, "“scan.pdf” is locked with a password."),
])
def test_a_pdf_pikepdf_cannot_open_is_refused_with_a_clear_message(app, data, message):
    if data is None:
        document = pikepdf.new()
        document.add_blank_page()
        out = io.BytesIO()
        document.save(out, encryption=pikepdf.Encryption(owner="owner secret", user="user secret"))
        data = out.getvalue()
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        uploads.clean_file(data, "scan.pdf")
    assert refused.value.message.startswith(message) and refused.value.field == "files"


def test_a_jpeg_that_does_not_parse_is_left_for_the_pdf_reader_to_refuse():
    assert pdf.strip_jpeg_segments(b"\xff\xd8\xff\xe1\xff\xff") == b"\xff\xd8\xff\xe1\xff\xff"
    assert pdf.strip_jpeg_segments(b"not a jpeg") == b"not a jpeg"


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_blocks": 1}])
def test_a_photo_inside_a_pdf_loses_its_exif_and_comment_but_not_one_pixel(options):
    from PIL import Image

    from . import family_files as ff

    out = io.BytesIO()
    Image.effect_noise((120, 80), 64).convert("RGB").save(out, "JPEG", quality=85, comment=ff.SECRET_COMMENT,
                                                          exif=ff._exif_with_gps().tobytes(), **options)
    sent = out.getvalue()
    clean = pdf.strip_jpeg_segments(sent)
    assert ff.SECRET_COMMENT not in clean and b"Exif\x00\x00" not in clean and ff.CAMERA.encode() not in clean
    with Image.open(io.BytesIO(sent)) as before, Image.open(io.BytesIO(clean)) as after:
        assert after.tobytes() == before.tobytes() and not after.getexif()
