"""Checking an uploaded file before it is sealed: its real type, read from its content, and
images re-saved without their metadata.

The name of a file and the type the browser sends are whatever the sender made them, so
neither is trusted: the type comes from the content's magic bytes (`filetype`), and must be
one of `settings.OPENNRM_ATTACHMENT_TYPES`. An image is then decoded in full with Pillow
(which refuses a damaged one and a decompression bomb) and written anew with its pixels
only: EXIF (the GPS position, the camera and its owner, the time), XMP, IPTC, comments and
embedded colour profiles are left behind. Its orientation is applied to the pixels first,
so the photo still stands upright without its EXIF tag.
"""

import io
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

# The names people know the accepted types by.
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
}
# Pillow's format for each image type it re-saves.
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
SAVE_OPTIONS = {"JPEG": {"quality": 90, "optimize": True}, "PNG": {"optimize": True},
                "WEBP": {"quality": 90}}
# What some refused contents are, in words, for the message.
KINDS_OF_CONTENT = {
    "application/x-msdownload": gettext_lazy("a Windows program"),
    "application/x-executable": gettext_lazy("a program"),
    "application/x-mach-binary": gettext_lazy("a program"),
    "application/x-sh": gettext_lazy("a script"),
    "application/zip": gettext_lazy("a ZIP archive"),
    "application/x-rar-compressed": gettext_lazy("a RAR archive"),
    "application/x-7z-compressed": gettext_lazy("a 7-Zip archive"),
}


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    metadata_removed: bool


def accepted_types() -> list[str]:
    return [kind for kind in settings.OPENNRM_ATTACHMENT_TYPES if kind in TYPE_NAMES]


def accepted_type_names() -> str:
    """"PDF, JPEG, PNG or WebP" (as the settings allow)."""
    names = [TYPE_NAMES[kind] for kind in accepted_types()]
    if len(names) < 2:
        return "".join(names)
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MB"


def check_size(size: int, field: str, errors: dict) -> bool:
    """A message when the upload is empty or larger than OPENNRM_ATTACHMENT_MAX_BYTES."""
    limit = settings.OPENNRM_ATTACHMENT_MAX_BYTES
    if size == 0:
        errors.setdefault(field, []).append(_("The file is empty."))
    elif size > limit:
        errors.setdefault(field, []).append(
            _("The file is larger than %(limit)s, the largest that can be attached. Scan it "
              "at a lower resolution, or attach its pages as separate files.")
            % {"limit": megabytes(limit)})
    else:
        return True
    return False


def detected_type(content: bytes) -> str:
    """The MIME type the content's magic bytes show ("" when they show none known)."""
    return filetype.guess_mime(content) or ""


def check_file(content: bytes, field: str, errors: dict) -> CheckedFile | None:
    """The file to store: of an accepted type by its content, an image without metadata.
    None, with the message under `field`, when it is refused."""
    content_type = detected_type(content)
    if content_type not in accepted_types():
        message = _("The content of this file is not %(types)s, whatever its name says.") % {
            "types": accepted_type_names()}
        if content_type in KINDS_OF_CONTENT:
            message += " " + _("It is %(kind)s.") % {"kind": KINDS_OF_CONTENT[content_type]}
        errors.setdefault(field, []).append(
            message + " " + _("Save or scan it in one of these types and attach it again."))
        return None
    if content_type not in IMAGE_FORMATS:
        return CheckedFile(content, content_type, metadata_removed=False)
    cleaned = _without_metadata(content, IMAGE_FORMATS[content_type])
    if cleaned is None:
        errors.setdefault(field, []).append(
            _("The image could not be read: it may be damaged, cut short or too large in "
              "pixels. Save it again and attach the new file."))
        return None
    return CheckedFile(cleaned, content_type, metadata_removed=True)


def _without_metadata(content: bytes, image_format: str) -> bytes | None:
    """The image re-saved with its pixels only; None if Pillow cannot read it in full."""
    try:
        with warnings.catch_warnings():
            # Over Pillow's pixel limit is a decompression bomb: refused, not only warned.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[image_format]) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    # Only what drawing the pixels needs: every other key (exif, xmp, icc_profile,
    # comment, dpi, text chunks…) would be written back by some format's encoder.
    upright.info = {key: value for key, value in upright.info.items() if key == "transparency"}
    output = io.BytesIO()
    upright.save(output, format=image_format, **SAVE_OPTIONS[image_format])
    return output.getvalue()
