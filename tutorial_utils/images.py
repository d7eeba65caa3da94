"""Images in, RGB ``uint8`` arrays out: the first step of the book's data path.

Every chapter starts from an ``H×W×3`` array of ``uint8`` in RGB order. Files are
decoded only here, so the usual troubles (BGR from OpenCV, grayscale, RGBA or 16-bit
files, rotated phone photos, CHW tensors) are handled once, with an error that names
the file and the problem.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .checks import positive_int

__all__ = ["ImageLoadError", "MAX_PIXELS", "as_rgb_uint8", "load_image", "sample_image_names", "square_crop"]

#: Images with more pixels than this are refused *before* they are decoded (the models look at 224×224 anyway).
MAX_PIXELS = 64_000_000

# Sample name -> file shipped inside scikit-image's wheel (``skimage.data``): nothing is ever downloaded.
_SAMPLES = {name: f"{name}.png" for name in
            ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel", "logo", "moon")}
_SAMPLES.update(cat="chelsea.png", colorwheel="color.png", hubble_deep_field="hubble_deep_field.jpg",
                immunohistochemistry="ihc.png", retina="retina.jpg", rocket="rocket.jpg")


class ImageLoadError(ValueError):
    """An image file could not be turned into an RGB ``uint8`` array; the message names the file and the problem."""


def sample_image_names() -> list[str]:
    """Names accepted by :func:`load_image` besides file paths: images that ship inside scikit-image.

    >>> "chelsea" in sample_image_names()
    True
    """
    return sorted(_SAMPLES)


def _resolve(path_or_name) -> Path:
    """The file to open for a path or a sample name, or an error that says what is wrong with it."""
    if not isinstance(path_or_name, (str, os.PathLike)):
        hint = ("; to check an array you already have, use as_rgb_uint8(array)" if hasattr(path_or_name, "shape")
                else "; write the bytes to a file first" if isinstance(path_or_name, (bytes, bytearray)) else "")
        raise TypeError(f"load_image expects a file path or a sample name, got {type(path_or_name).__name__}{hint}")
    path = Path(path_or_name).expanduser()
    if isinstance(path_or_name, str) and path_or_name in _SAMPLES and not path.exists():
        import skimage.data

        return Path(skimage.data.data_dir) / _SAMPLES[path_or_name]
    if not path.exists():
        hint = ""
        if isinstance(path_or_name, str) and os.sep not in path_or_name and "." not in path_or_name:
            close = difflib.get_close_matches(path_or_name, sample_image_names(), n=1)
            guess = f" Did you mean the sample {close[0]!r}?" if close else ""
            hint = f" It is not a sample name either.{guess} Samples: {', '.join(sample_image_names())}."
        raise FileNotFoundError(f"Image file not found: '{path}'.{hint}")
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory, not an image file.")
    if path.stat().st_size == 0:
        raise ImageLoadError(f"'{path}' is empty (0 bytes), not an image.")
    return path


@contextlib.contextmanager
def _decoding(path: Path):
    """Turn Pillow's many ways of failing on a bad file into one :class:`ImageLoadError` that names it."""
    try:
        yield
    except (ImageLoadError, PermissionError):
        raise
    except Image.DecompressionBombError as err:
        raise ImageLoadError(f"'{path}' is too large to decode safely ({err}).") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"'{path}' is not an image file that Pillow can read "
                             f"({path.stat().st_size:,} bytes).") from None
    except (OSError, SyntaxError, ValueError) as err:  # how Pillow reports truncated or broken data
        raise ImageLoadError(f"'{path}' is truncated or corrupt: {err}") from None


def _to_rgb(img: Image.Image, path: Path) -> np.ndarray:
    """Any PIL mode as an RGB uint8 array: 16-bit scaled (not clipped), alpha composited over white."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(img).astype(np.float64)
        if arr.min(initial=0) < 0 or arr.max(initial=0) > 65535:
            raise ImageLoadError(f"'{path}': integer image with values outside 0..65535; convert it to 8 or 16 bits.")
        gray = np.round(arr * (255.0 / 65535.0)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode == "F":
        raise ImageLoadError(f"'{path}': floating-point images have no agreed range; save it as an 8- or 16-bit image.")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (img.mode == "P" and "transparency" in img.info):
        # The colour of fully transparent pixels is undefined (often garbage): composite, do not drop alpha.
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    try:
        return np.array(img.convert("RGB"), dtype=np.uint8)
    except ValueError as err:
        raise ImageLoadError(f"'{path}': cannot convert its colour mode {img.mode!r} to RGB ({err}).") from None


def load_image(path_or_name, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    r"""Load an image file (PNG, JPEG, TIFF, WebP, …) or a sample image as an RGB ``uint8`` array ``H×W×3``.

    Sample names are listed by :func:`sample_image_names`. Grayscale, palette, RGBA (composited
    over white), 16-bit and CMYK images become 8-bit RGB, and a photo's EXIF orientation is
    applied. Channels are always in RGB order — unlike ``cv2.imread``, which returns BGR.

    >>> img = load_image("coffee")
    >>> img.shape, img.dtype
    ((400, 600, 3), dtype('uint8'))

    Raises ``FileNotFoundError`` (suggesting a close sample name), ``IsADirectoryError``,
    ``TypeError`` for a non-path (an array, bytes), and :class:`ImageLoadError` for a file
    that is empty, not an image, truncated, corrupt, or larger than ``max_pixels``
    (read from the header, before decoding).
    """
    max_pixels = positive_int(max_pixels, "max_pixels")
    path = _resolve(path_or_name)
    with _decoding(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit below is stricter
        with Image.open(path) as img:
            width, height = img.size  # read from the header: nothing decoded yet
            if width * height > max_pixels:
                raise ImageLoadError(f"'{path}' is {width}×{height} = {width * height:,} pixels, more than max_pixels="
                                     f"{max_pixels:,}; refusing to decode it (resize it, or raise max_pixels).")
            img.load()
            return _to_rgb(ImageOps.exif_transpose(img), path)


def as_rgb_uint8(image, *, name: str = "image") -> np.ndarray:
    """Check an in-memory image and return it as an RGB ``uint8`` ``(H, W, 3)`` array.

    ``uint8`` arrays pass as they are, integers in ``0..255`` are cast, floats in ``[0, 1]``
    are scaled by 255 and rounded. Anything else gets an error that says what to do — the
    common mistakes being a ``(3, H, W)`` tensor, an ImageNet-normalised image, or a
    grayscale ``(H, W)`` array.

    >>> as_rgb_uint8(np.zeros((2, 3, 3))).dtype
    dtype('uint8')

    Raises ``TypeError`` for a non-array (a tensor, a PIL image, a list) or a non-numeric
    dtype, ``ValueError`` for a wrong shape, NaN, or values out of range.
    """
    if type(image).__module__.startswith("torch"):
        raise TypeError(f"{name} is a torch tensor; expected an H×W×3 numpy array in RGB. "
                        "If it came out of model.preprocess, keep the original image instead.")
    if isinstance(image, Image.Image):
        raise TypeError(f"{name} is a PIL image; convert it with np.asarray({name}.convert('RGB')).")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (H, W, 3), got {type(image).__name__}.")
    shape, hint = image.shape, ""
    if image.ndim == 2:
        hint = f": a grayscale image; use np.stack([{name}] * 3, axis=-1), or load files with load_image()"
    elif image.ndim == 3 and shape[0] in (1, 3) and shape[2] != 3:
        hint = f", which looks channels-first (C, H, W); use {name}.transpose(1, 2, 0)"
    elif image.ndim == 3 and shape[2] == 4:
        hint = f": 4 channels (RGBA); load_image() composites alpha over white, or drop it with {name}[..., :3]"
    elif 0 in shape:
        hint = ": it is empty"
    if hint or image.ndim != 3 or shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {shape}{hint}.")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_ or not np.issubdtype(image.dtype, np.number):
        raise TypeError(f"{name} has dtype {image.dtype}; expected uint8, or float in [0, 1].")
    if not np.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    lo, hi = image.min(), image.max()
    if np.issubdtype(image.dtype, np.integer):
        if lo < 0 or hi > 255:
            raise ValueError(f"{name} has dtype {image.dtype} with values in [{lo}, {hi}]; expected 0..255. "
                             "Scale it to uint8 yourself (for 16-bit data: image // 257).")
        return image.astype(np.uint8)
    if lo < 0.0:
        raise ValueError(f"{name} has negative values (min {lo:.3g}): it looks already normalised with a mean and "
                         "standard deviation. Pass the original RGB image (uint8, or float in [0, 1]).")
    if hi > 1.0:
        raise ValueError(f"{name} is a float array with values up to {hi:.3g}; expected [0, 1]. "
                         f"If it holds 0..255 values, use {name}.astype(np.uint8).")
    return np.round(image * 255.0).astype(np.uint8)


def square_crop(image, side: int) -> np.ndarray:
    """The central square of an RGB image, resized to ``side × side`` (anti-aliased): two photos at one scale.

    >>> square_crop(np.zeros((40, 60, 3), np.uint8), 20).shape
    (20, 20, 3)
    """
    from skimage.transform import resize

    img, side = as_rgb_uint8(image), positive_int(side, "side")
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    small = resize(img[top:top + s, left:left + s], (side, side), anti_aliasing=True)
    return np.round(small * 255).astype(np.uint8)
