"""Decoding untrusted image bytes: every bad input is a clear one-line error."""

import images_factory as f
import pytest
from PIL import Image

from model.errors import BadImageError, TooLargeError
from model.images import check_image_file, open_image_bytes, open_image_file
from model.preprocess import prepare


@pytest.mark.parametrize(("data", "error", "words"), [
    (b"", BadImageError, "empty"),
    (b"hello, not an image", BadImageError, "not an image"),
    (f.truncated_png(), BadImageError, "truncated"),
    (f.png_header_only(30000, 30000), TooLargeError, "too many pixels"),
    (f.png_header_only(9000, 9000), TooLargeError, "limit"),
])
def test_bad_bytes_raise_clear_errors(data, error, words):
    with pytest.raises(error, match=words) as info:
        open_image_bytes(data)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("data", "mode"), [
    (f.sixteen_bit(), "L"),
    (f.cmyk_jpeg(), "RGB"),
    (f.animated_gif(), "RGB"),
    (f.transparent_png(), "RGBA"),
    (f.encode(Image.new("RGB", (1, 1), "black")), "RGB"),
])
def test_awkward_formats_decode_to_8bit(data, mode):
    image = open_image_bytes(data)
    assert image.mode == mode


def test_sixteen_bit_keeps_contrast():
    grey = open_image_bytes(f.sixteen_bit())
    low, high = grey.getextrema()
    assert high - low > 200


def test_animated_gif_uses_first_frame():
    image = prepare(open_image_bytes(f.animated_gif()))  # frame 2 is blank
    assert image.size[0] > 10


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(BadImageError, match="no such file"):
        open_image_file(str(tmp_path / "nope.png"))
    with pytest.raises(BadImageError, match="directory"):
        open_image_file(str(tmp_path))


@pytest.mark.parametrize(("data", "error", "words"), [
    (b"", BadImageError, "empty"),
    (b"hello, not an image", BadImageError, "not an image"),
    (f.truncated_png(), BadImageError, "truncated"),
    (f.png_header_only(30000, 30000), TooLargeError, "too many pixels"),
    (f.png_header_only(9000, 9000), TooLargeError, "limit"),
])
def test_the_cheap_check_refuses_what_decoding_would(data, error, words, tmp_path):
    path = tmp_path / "in.png"
    path.write_bytes(data)
    with pytest.raises(error, match=words):
        check_image_file(str(path))


@pytest.mark.parametrize("data", [f.encode(f.equation()), f.sixteen_bit(), f.cmyk_jpeg(),
                                  f.animated_gif(), f.transparent_png()])
def test_the_cheap_check_passes_real_images(data, tmp_path):
    path = tmp_path / "in.img"
    path.write_bytes(data)
    check_image_file(str(path))
