"""Bad and awkward image files for the bad-input tests (built in memory)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw


def equation(size=(240, 60), fg="black", bg="white", mode="RGB") -> Image.Image:
    image = Image.new(mode, size, bg)
    ImageDraw.Draw(image).text((20, size[1] // 3), "x^2 + y = 1", fill=fg)
    return image


def encode(image: Image.Image, fmt="PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR claiming a huge size, then a tiny IDAT: a bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def sixteen_bit() -> bytes:
    image = Image.new("I;16", (200, 50), 65535)
    ImageDraw.Draw(image).rectangle((20, 15, 180, 35), fill=1000)
    return encode(image)


def cmyk_jpeg() -> bytes:
    return encode(equation().convert("CMYK"), "JPEG")


def animated_gif() -> bytes:
    first, second = equation(), Image.new("RGB", (240, 60), "white")
    return encode(first, "GIF", save_all=True, append_images=[second], duration=100)


def transparent_png(ink="black") -> bytes:
    image = Image.new("RGBA", (240, 60), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((20, 20), "x^2 + y = 1", fill=ink)
    ImageDraw.Draw(image).rectangle((20, 40, 200, 44), fill=ink)
    return encode(image)


def truncated_png() -> bytes:
    data = encode(equation())
    return data[: len(data) // 2]


BAD_INPUTS = {
    # name: (bytes, expected error code)
    "empty": (b"", "bad_image"),
    "text_named_png": (b"this is not an image\n", "bad_image"),
    "truncated_png": (None, "bad_image"),
    "bomb_30000": (None, "too_large"),
    "all_white": (None, "bad_image"),
}


def bad_input(name: str) -> bytes:
    if name == "truncated_png":
        return truncated_png()
    if name == "bomb_30000":
        return png_header_only(30000, 30000)
    if name == "all_white":
        return encode(Image.new("RGB", (300, 80), "white"))
    return BAD_INPUTS[name][0]
