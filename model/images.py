"""Decoding untrusted image bytes safely: clear errors, bounded memory.

Snips come from screens, clipboards and files, so anything can arrive: empty files,
truncated PNGs, text named ``.png``, 16-bit or CMYK images, animations, and
decompression bombs. Every path ends in an 8-bit RGB(A)/L image or a one-line error.
"""

from __future__ import annotations

import io
import logging
import sys
import warnings
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from model.errors import BadImageError, TooLargeError

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
# Larger than any real screen (8K is 33 Mpx); beyond this we refuse before decoding.
MAX_PIXELS = 64_000_000
# Images are downscaled to this longest side: no formula needs more to be read.
MAX_SIDE = 4096


def open_image_bytes(data: bytes) -> Image.Image:
    """Decode ``data`` into an 8-bit image (first frame of animations), or raise."""
    if not data:
        raise BadImageError("the image is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise TooLargeError(
            f"the image file is {len(data) // 2**20} MiB; the limit is 50 MiB"
        )
    image = _open(data)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooLargeError(
            f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS // 10**6} Mpx"
        )
    if min(width, height) < 1:
        raise BadImageError("the image has no pixels")
    try:
        image.seek(0)  # animated GIF/PNG/WebP: the first frame
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImageError(f"the image data is damaged or truncated ({exc})") from None
    return _to_8bit(image)


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        # PIL warns then errors on bombs; we check the size ourselves with a clear message.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise TooLargeError(
                "the image has too many pixels to decode safely"
            ) from None
        except UnidentifiedImageError:
            raise BadImageError("not an image file (unrecognised format)") from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise BadImageError(f"the image could not be read ({exc})") from None


def _to_8bit(image: Image.Image) -> Image.Image:
    """Normalise modes: 16-bit and float to 8-bit, CMYK and palettes to RGB(A)."""
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _rescale_wide(image)
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "RGB", "L"):
        return image
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, 1


def _rescale_wide(image: Image.Image) -> Image.Image:
    """16-bit/32-bit greyscale to 8-bit by its actual range (not a blind clip)."""
    wide = image.convert("I")
    low, high = wide.getextrema()
    if high <= 255 and low >= 0:
        return wide.convert("L")
    scale = 255.0 / max(high - low, 1)
    return wide.point(lambda v: (v - low) * scale).convert("L")


def open_image_file(path: str) -> Image.Image:
    """Read a file (or ``-`` for stdin) through :func:`open_image_bytes`."""
    if path == "-":
        return open_image_bytes(sys.stdin.buffer.read())
    file = Path(path)
    _check_path(file, path)
    return open_image_bytes(file.read_bytes())


def check_image_file(path: str) -> None:
    """Raise what :func:`open_image_file` would raise for ``path`` as far as the file
    and its header tell, without decoding the pixels (milliseconds, no model): commands
    refuse bad inputs before they load a model. ``-`` (stdin) cannot be checked twice."""
    from pathlib import Path

    if path == "-":
        return
    file = Path(path)
    _check_path(file, path)
    if file.stat().st_size == 0:
        raise BadImageError("the image is empty (0 bytes)")
    with file.open("rb") as stream:
        data = stream.read()
    image = _open(data)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TooLargeError(
            f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS // 10**6} Mpx"
        )
    try:
        image.verify()  # chunk structure and checksums, not the pixels
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadImageError(f"the image data is damaged or truncated ({exc})") from None


def _check_path(file, path: str) -> None:
    if not file.exists():
        raise BadImageError(f"no such file: {path}")
    if file.is_dir():
        raise BadImageError(f"is a directory, not an image: {path}")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise TooLargeError(f"the image file {path} is larger than 50 MiB")


def formula_image(width: int = 420, height: int = 90) -> Image.Image:
    """A white image with dark strokes, like a snipped formula (warm-ups, benches)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 30), "f(x) = a/b + sqrt(x^2 + y^2)", fill="black")
    draw.line((10, 60, width - 10, 60), fill="black", width=2)
    return image
