import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from tutorial_utils import ImageLoadError, as_rgb_uint8, load_image, sample_image_names


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


# ------------------------------------------------------------------ samples
@pytest.mark.parametrize("name", sample_image_names())
def test_every_sample_loads_as_rgb_uint8(name):
    img = load_image(name)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[0] > 0 and img.shape[1] > 0


def test_sample_matches_skimage_loader():
    from skimage import data

    assert np.array_equal(load_image("coffee"), data.coffee())
    assert np.array_equal(load_image("chelsea"), data.chelsea())


def test_a_file_named_like_a_sample_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _save(Image.new("RGB", (3, 2), (1, 2, 3)), tmp_path / "coffee", format="PNG")
    assert load_image("coffee").shape == (2, 3, 3)


# ------------------------------------------------------------ conversions
def test_rgb_channel_order_is_kept(tmp_path):
    arr = np.zeros((4, 6, 3), np.uint8)
    arr[:, :2] = (255, 0, 0)
    arr[:, 2:4] = (0, 255, 0)
    arr[:, 4:] = (0, 0, 255)
    img = load_image(_save(Image.fromarray(arr), tmp_path / "rgb.png"))
    assert np.array_equal(img, arr)  # red stays in channel 0: never BGR


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    img = load_image(_save(Image.fromarray(gray, "L"), tmp_path / "g.png"))
    assert img.shape == (4, 5, 3)
    for ch in range(3):
        assert np.array_equal(img[..., ch], gray)


def test_one_bit_image(tmp_path):
    arr = np.array([[0, 1], [1, 0]], bool)
    img = load_image(_save(Image.fromarray(arr), tmp_path / "b.png"))
    assert img[0, 0].tolist() == [0, 0, 0] and img[0, 1].tolist() == [255, 255, 255]


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (200, 10, 10, 255)  # opaque red-ish
    rgba[0, 1] = (0, 255, 0, 0)  # fully transparent, garbage colour
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black
    rgba[1, 1] = (0, 0, 255, 0)
    img = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    assert img[0, 0].tolist() == [200, 10, 10]
    assert img[0, 1].tolist() == [255, 255, 255]  # not the hidden green
    assert 120 <= img[1, 0, 0] <= 130  # halfway between black and white


def test_palette_with_transparency(tmp_path):
    pal = Image.new("P", (2, 1))
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = _save(pal, tmp_path / "p.png", transparency=1)
    img = load_image(path)
    assert img[0, 0].tolist() == [255, 0, 0]
    assert img[0, 1].tolist() == [255, 255, 255]


def test_palette_without_transparency(tmp_path):
    pal = Image.new("P", (1, 1))
    pal.putpalette([10, 20, 30] + [0] * 765)
    img = load_image(_save(pal, tmp_path / "p.gif"))
    assert img[0, 0].tolist() == [10, 20, 30]


def _png16(path, arr):
    """Write a 16-bit PNG (grayscale H×W or RGB H×W×3) by hand: Pillow cannot write 16-bit RGB."""
    height, width = arr.shape[:2]
    colour_type = 2 if arr.ndim == 3 else 0

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + arr[r].astype(">u2").tobytes() for r in range(height))
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path):
    arr = np.array([[0, 257 * 64, 257 * 128, 65535]], np.uint16)
    img = load_image(_png16(tmp_path / "g16.png", arr))
    assert img[0, :, 0].tolist() == [0, 64, 128, 255]


def test_16_bit_rgb_is_scaled(tmp_path):
    arr = np.zeros((1, 2, 3), np.uint16)
    arr[0, 0] = (65535, 0, 257 * 100)
    arr[0, 1] = (257 * 10, 65535, 0)
    img = load_image(_png16(tmp_path / "rgb16.png", arr))
    assert img[0, 0].tolist() == [255, 0, 100]
    assert img[0, 1].tolist() == [10, 255, 0]


def test_cmyk_jpeg(tmp_path):
    cmyk = Image.new("CMYK", (2, 2), (0, 255, 255, 0))  # pure red in CMYK
    img = load_image(_save(cmyk, tmp_path / "c.jpg", quality=100))
    assert img[0, 0, 0] > 240 and img[0, 0, 1] < 15 and img[0, 0, 2] < 15


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = 255  # left half white, as stored
    im = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = _save(im, tmp_path / "rotated.jpg", exif=exif, quality=100)
    img = load_image(path)
    assert img.shape == (20, 10, 3)
    # Rotating clockwise puts the stored left half at the top.
    assert img[:8].mean() > 200 and img[12:].mean() < 50


# ---------------------------------------------------------------- errors
def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        load_image(tmp_path / "nope.png")


def test_unknown_sample_name_lists_the_samples():
    with pytest.raises(FileNotFoundError, match="chelsea"):
        load_image("not_a_sample_name")


def test_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        load_image(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png.*empty"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not pixels\n" * 20)
    with pytest.raises(ImageLoadError, match=r"notes\.jpg.*not an image"):
        load_image(path)


@pytest.mark.parametrize("fmt,suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_truncated_file(tmp_path, fmt, suffix):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format=fmt)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match=rf"cut\{suffix}.*truncated or corrupt"):
        load_image(path)


def _png_claiming_size(path, width, height):
    """A tiny real PNG whose header claims another size (CRC fixed up)."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("side", [9_000, 100_000])
def test_huge_image_is_refused_before_decoding(tmp_path, side):
    # 9000² = 81 MP passes Pillow's own bomb check but not ours; 100000² trips Pillow's.
    path = _png_claiming_size(tmp_path / "huge.png", side, side)
    start = time.perf_counter()
    with pytest.raises(ImageLoadError, match=r"huge\.png.*(refusing|too large)"):
        load_image(path)
    assert time.perf_counter() - start < 1.0  # nothing was decoded


def test_max_pixels_argument(tmp_path):
    path = _save(Image.new("RGB", (20, 20)), tmp_path / "small.png")
    with pytest.raises(ImageLoadError, match="400 pixels"):
        load_image(path, max_pixels=100)
    assert load_image(path, max_pixels=400).shape == (20, 20, 3)
    with pytest.raises(ValueError, match="max_pixels"):
        load_image(path, max_pixels=0)


@pytest.mark.parametrize("bad", [np.zeros((2, 2, 3), np.uint8), b"bytes", 42, None])
def test_wrong_argument_types(bad):
    with pytest.raises(TypeError, match="file path or a sample name"):
        load_image(bad)


# ----------------------------------------------------------- as_rgb_uint8
def test_as_rgb_uint8_accepts_uint8_and_unit_floats():
    a = np.full((2, 2, 3), 7, np.uint8)
    assert as_rgb_uint8(a) is a
    f = np.full((2, 2, 3), 0.5)
    assert as_rgb_uint8(f).tolist() == np.full((2, 2, 3), 128).tolist()
    assert as_rgb_uint8(np.full((1, 1, 3), 200, np.int64))[0, 0, 0] == 200


@pytest.mark.parametrize(
    "array,error,pattern",
    [
        (np.zeros((3, 8, 8), np.uint8), ValueError, "channels-first"),
        (np.zeros((8, 8), np.uint8), ValueError, "grayscale"),
        (np.zeros((8, 8, 4), np.uint8), ValueError, "RGBA"),
        (np.zeros((8, 8, 2), np.uint8), ValueError, r"\(H, W, 3\)"),
        (np.zeros((0, 8, 3), np.uint8), ValueError, "empty"),
        (np.full((2, 2, 3), -0.4), ValueError, "normalised"),
        (np.full((2, 2, 3), 200.0), ValueError, "astype"),
        (np.full((2, 2, 3), np.nan), ValueError, "NaN"),
        (np.full((2, 2, 3), 300, np.int32), ValueError, "0..255"),
        (np.zeros((2, 2, 3), bool), TypeError, "dtype"),
        ([[0, 0, 0]], TypeError, "numpy array"),
    ],
)
def test_as_rgb_uint8_rejects_common_mistakes(array, error, pattern):
    with pytest.raises(error, match=pattern):
        as_rgb_uint8(array)


def test_as_rgb_uint8_rejects_tensors_and_pil():
    import torch

    with pytest.raises(TypeError, match="torch tensor"):
        as_rgb_uint8(torch.zeros(3, 4, 4))
    with pytest.raises(TypeError, match="PIL"):
        as_rgb_uint8(Image.new("RGB", (2, 2)))


def test_square_crop_keeps_the_centre():
    from tutorial_utils import square_crop

    img = np.zeros((40, 60, 3), np.uint8)
    img[:, 10:50] = 200  # the central 40×40 square
    out = square_crop(img, 20)
    assert out.shape == (20, 20, 3) and out.dtype == np.uint8
    assert (out == 200).all()
    with pytest.raises(ValueError, match="side"):
        square_crop(img, 0)
    with pytest.raises(ValueError, match="channels-first"):
        square_crop(np.zeros((3, 8, 8), np.uint8), 4)
