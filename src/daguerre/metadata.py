"""What an image file says beside its pixels, carried from a scan to its results: the EXIF
record (date, description, artist, camera...), the resolution and the ICC profile.

Orientation is not carried: :func:`daguerre.image.read` turns the pixels upright, so the
written EXIF has no orientation tag (upright). Nor are tags that describe the file's layout.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace

from PIL import Image as PILImage

# IFD0 tags kept: they describe the photo, not the file's layout
_DESCRIPTIVE_TAGS = (
    0x010E,  # ImageDescription
    0x010F,  # Make
    0x0110,  # Model
    0x0131,  # Software
    0x0132,  # DateTime
    0x013B,  # Artist
    0x8298,  # Copyright
)
_SUB_IFDS = (0x8769, 0x8825)  # the EXIF and GPS blocks
_DESCRIPTION = 0x010E
_METRES_PER_INCH = 0.0254


@dataclass(frozen=True)
class Metadata:
    """EXIF bytes (no orientation), resolution in dots per inch (x, y) and ICC profile bytes."""

    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    icc: bytes | None = None

    @classmethod
    def of(cls, pil: PILImage.Image, swap_axes: bool) -> Metadata | None:
        """The metadata of an open image; ``swap_axes`` when reading turns it a quarter."""
        exif = _descriptive_exif(pil)
        dpi = pil.info.get("dpi")
        if dpi is not None:
            x, y = (float(value) for value in dpi)
            dpi = (y, x) if swap_axes else (x, y)
            dpi = dpi if min(dpi) > 1 else None  # 1 (OpenCV's TIFF default) says nothing
        icc = pil.info.get("icc_profile") or None
        found = cls(exif, dpi, icc)
        return found if found != cls() else None

    def scaled(self, factor: float) -> Metadata:
        """The metadata of the same photo drawn with ``factor`` times as many pixels a side."""
        if self.dpi is None or factor == 1:
            return self
        return replace(self, dpi=(self.dpi[0] * factor, self.dpi[1] * factor))

    def pillow_options(self, fmt: str) -> dict[str, object]:
        """Keyword arguments of Pillow's ``save`` for ``fmt`` (what the format can hold)."""
        options: dict[str, object] = {}
        if self.exif and fmt in ("JPEG", "PNG", "WEBP"):
            options["exif"] = self.exif
        elif self.exif and fmt == "TIFF":  # libtiff's writer takes no sub-blocks: IFD0 only
            exif = PILImage.Exif()
            exif.load(self.exif)
            for tag in _SUB_IFDS:
                exif.pop(tag, None)
            options["exif"] = exif.tobytes()
        if self.dpi and fmt in ("JPEG", "PNG", "TIFF", "BMP"):
            options["dpi"] = self.dpi
        if self.icc and fmt in ("JPEG", "PNG", "TIFF", "WEBP"):
            options["icc_profile"] = self.icc
        return options

    def tiff_options(self) -> dict[str, object]:
        """Keyword arguments of ``tifffile.imwrite``: resolution, ICC profile and the EXIF
        record's descriptive tags (the first block: TIFF files keep them among their own)."""
        options: dict[str, object] = {"metadata": None, "software": None}
        if self.dpi:
            options |= {"resolution": self.dpi, "resolutionunit": "INCH"}
        if self.icc:
            options["iccprofile"] = self.icc
        exif = PILImage.Exif()
        if self.exif:
            exif.load(self.exif)
        text = {tag: exif[tag] for tag in _DESCRIPTIVE_TAGS if isinstance(exif.get(tag), str)}
        if _DESCRIPTION in text:
            options["description"] = text.pop(_DESCRIPTION)
        options["extratags"] = [(tag, "s", 0, value, True) for tag, value in text.items()]
        return options

    def png_chunks(self) -> bytes:
        """PNG chunks (iCCP, pHYs, eXIf) to place after IHDR, for files Pillow does not write."""
        chunks = b""
        if self.icc:
            chunks += _chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(self.icc))
        if self.dpi:
            x, y = (round(value / _METRES_PER_INCH) for value in self.dpi)
            chunks += _chunk(b"pHYs", struct.pack(">IIB", x, y, 1))
        if self.exif:
            chunks += _chunk(b"eXIf", self.exif.removeprefix(b"Exif\0\0"))
        return chunks


def _descriptive_exif(pil: PILImage.Image) -> bytes | None:
    """The EXIF of ``pil`` reduced to the descriptive tags and the EXIF / GPS blocks."""
    try:
        source = pil.getexif()
        kept = PILImage.Exif()
        for tag in _DESCRIPTIVE_TAGS:
            if tag in source:
                kept[tag] = source[tag]
        for tag in _SUB_IFDS:
            block = source.get_ifd(tag)
            if block:
                kept[tag] = dict(block)
        return kept.tobytes() if len(kept) else None
    except Exception:  # Pillow's EXIF parser raises many types on hostile data; read() warns
        return None


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def insert_png_chunks(png: bytes, chunks: bytes) -> bytes:
    """``png`` with ``chunks`` placed right after its IHDR chunk (8 + 25 bytes in)."""
    end_of_header = 8 + 8 + 13 + 4
    return png[:end_of_header] + chunks + png[end_of_header:]
