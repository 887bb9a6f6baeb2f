"""Fixtures of the case file tests: a supervisor, files of every kind (a photo with its GPS
position in EXIF among them) and a journal entry and an attachment on the shared case."""

import io
from datetime import date

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from opennrm.accounts.models import Role
from opennrm.casefile import services
from tests.factories import make_user

# Where the photo was taken (Chișinău), written into its EXIF GPS block.
LATITUDE = (47.0, 1.0, 30.0)
LONGITUDE = (28.0, 51.0, 0.0)
CAMERA_OWNER = "Elena Popescu"
JOURNAL_TEXT = "Visited her at the shelter; she is afraid of the employer."


def photo_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = CAMERA_OWNER
    exif[ExifTags.Base.Orientation] = 6  # taken with the phone on its side
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = LONGITUDE
    return exif


def png_with_location(size=(40, 20)) -> bytes:
    """A PNG photo with EXIF (GPS position, owner, orientation) and a text comment."""
    text = PngInfo()
    text.add_text("Comment", f"Taken by {CAMERA_OWNER}")
    output = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, "PNG", exif=photo_exif(),
                                               pnginfo=text)
    return output.getvalue()


def jpeg_with_location(size=(40, 20)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (30, 200, 30)).save(output, "JPEG", exif=photo_exif())
    return output.getvalue()


def pdf_document(text: str = "Medical certificate") -> bytes:
    """A small real PDF (drawn by WeasyPrint, as the node draws its own)."""
    from weasyprint import HTML

    return HTML(string=f"<p>{text}</p>").write_pdf()


# A Windows program (its header) named as a PDF, and a web page named as a PDF.
PROGRAM = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 100
           + b"This program cannot be run in DOS mode.")
WEB_PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/cases')</script></body></html>"


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


@pytest.fixture
def police_supervisor(police):
    return make_user(Role.SUPERVISOR, police, "police-supervisor")


@pytest.fixture
def entry(caseworker, case):
    return services.add_journal_entry(caseworker, case, "visit", date(2026, 3, 4), JOURNAL_TEXT)


@pytest.fixture
def photo(caseworker, case):
    return services.add_attachment(caseworker, case, "photo", "elena-popescu-bruises.png",
                                   png_with_location(), "Bruises on the left arm")
