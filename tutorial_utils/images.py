"""Images in, RGB ``uint8`` arrays out: the first step of the book's data path.

Every chapter starts from an ``H×W×3`` array of ``uint8`` in RGB order. This
module is the only place where files are decoded, so that the usual troubles
(BGR from OpenCV, grayscale or RGBA files, 16-bit PNGs, rotated phone photos,
CHW tensors passed where an image was expected) are handled once, with an
error that names the file and the problem.
"""

from __future__ import annotations

import difflib
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .checks import positive_int

__all__ = [
    "ImageLoadError",
    "MAX_PIXELS",
    "as_rgb_uint8",
    "load_image",
    "sample_image_names",
    "square_crop",
]

#: Images with more pixels than this are refused *before* they are decoded.
#: 64 megapixels is larger than any phone photo, and every model in this book
#: looks at 224×224 pixels anyway.
MAX_PIXELS = 64_000_000

# Sample name -> file shipped inside scikit-image's wheel (``skimage.data``).
# The names are those of scikit-image's own loader functions. Only files that
# ship with the package are listed: nothing is ever downloaded.
_SAMPLES = {
    "astronaut": "astronaut.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "cat": "chelsea.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "coins": "coins.png",
    "colorwheel": "color.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "immunohistochemistry": "ihc.png",
    "logo": "logo.png",
    "moon": "moon.png",
    "retina": "retina.jpg",
    "rocket": "rocket.jpg",
}

PathOrName = Union[str, "os.PathLike[str]"]


class ImageLoadError(ValueError):
    """An image file could not be turned into an RGB ``uint8`` array.

    The message always names the file and says what is wrong with it.
    """


def sample_image_names() -> list[str]:
    """Names accepted by :func:`load_image` besides file paths.

    They are images that ship inside scikit-image, so they load offline.

    >>> "chelsea" in sample_image_names()
    True
    """
    return sorted(_SAMPLES)


def _sample_path(name: str) -> Path:
    import skimage.data

    return Path(skimage.data.data_dir) / _SAMPLES[name]


def _resolve(path_or_name: PathOrName) -> Path:
    if isinstance(path_or_name, (bytes, bytearray)):
        raise TypeError(
            "load_image expects a file path or a sample name, got bytes; "
            "to decode bytes in memory, write them to a file first"
        )
    if isinstance(path_or_name, np.ndarray) or type(path_or_name).__module__.startswith("torch"):
        raise TypeError(
            "load_image expects a file path or a sample name, got an array; "
            "an array you already have can be checked and converted with as_rgb_uint8(array)"
        )
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise TypeError(
            f"load_image expects a file path or a sample name, got {type(path_or_name).__name__}"
        )
    path = Path(path_or_name).expanduser()
    if isinstance(path_or_name, str) and path_or_name in _SAMPLES and not path.exists():
        return _sample_path(path_or_name)
    if not path.exists():
        hint = ""
        if isinstance(path_or_name, str) and os.sep not in path_or_name and "." not in path_or_name:
            close = difflib.get_close_matches(path_or_name, sample_image_names(), n=1)
            guess = f" Did you mean the sample {close[0]!r}?" if close else ""
            hint = f" It is not a sample name either.{guess} Samples: {', '.join(sample_image_names())}."
        raise FileNotFoundError(f"Image file not found: '{path}'.{hint}")
    if path.is_dir():
        raise IsADirectoryError(f"'{path}' is a directory, not an image file.")
    return path


def _to_uint8(img: Image.Image, path: Path) -> np.ndarray:
    """Convert any PIL mode to an RGB uint8 array, scaling bit depths correctly."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit (or 32-bit integer) grayscale: PIL's convert("L") would clip at
        # 255 instead of scaling, which turns most 16-bit images white.
        arr = np.asarray(img).astype(np.float64)
        if mode == "I" and arr.max(initial=0) > 65535:
            raise ImageLoadError(
                f"'{path}': 32-bit integer image with values above 65535; "
                "convert it to 8 or 16 bits first."
            )
        if arr.min(initial=0) < 0:
            raise ImageLoadError(f"'{path}': integer image with negative values is not supported.")
        gray = np.round(arr * (255.0 / 65535.0)).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "F":
        raise ImageLoadError(
            f"'{path}': floating-point images (PIL mode 'F') have no agreed range; "
            "save it as an 8- or 16-bit image."
        )
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        # Composite over white: the colour of fully transparent pixels is
        # undefined and often garbage, so simply dropping alpha is wrong.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.array(img.convert("RGB"), dtype=np.uint8)


def load_image(path_or_name: PathOrName, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    r"""Load an image as an RGB ``uint8`` array of shape ``(H, W, 3)``.

    ``path_or_name`` is a path to an image file (PNG, JPEG, TIFF, WebP, …) or
    the name of a sample image that ships with scikit-image (see
    :func:`sample_image_names`). Grayscale, palette, RGBA (composited over
    white), 16-bit and CMYK images are converted to 8-bit RGB; the EXIF
    orientation of photos is applied. Channels are always in RGB order — unlike
    ``cv2.imread``, which returns BGR.

    Example
    -------
    >>> img = load_image("coffee")
    >>> img.shape, img.dtype
    ((400, 600, 3), dtype('uint8'))

    Raises
    ------
    FileNotFoundError
        The file does not exist (and the name is not a sample name).
    IsADirectoryError
        The path is a directory.
    ImageLoadError
        The file is empty, not an image, truncated or corrupt, or has more than
        ``max_pixels`` pixels (checked from the header, before decoding).
    TypeError
        ``path_or_name`` is not a path or a name (for example an array).
    """
    max_pixels = positive_int(max_pixels, "max_pixels")
    path = _resolve(path_or_name)
    size = path.stat().st_size
    if size == 0:
        raise ImageLoadError(f"'{path}' is empty (0 bytes), not an image.")
    try:
        with warnings.catch_warnings():
            # We enforce our own, stricter limit below; PIL's warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError as err:
        raise ImageLoadError(f"'{path}' is too large to decode safely ({err}).") from None
    except UnidentifiedImageError:
        raise ImageLoadError(
            f"'{path}' is not an image file that Pillow can read ({size:,} bytes)."
        ) from None
    except PermissionError:
        raise
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageLoadError(f"'{path}' is truncated or corrupt: {err}") from None
    with img:
        width, height = img.size  # read from the header: nothing decoded yet
        if width * height > max_pixels:
            raise ImageLoadError(
                f"'{path}' is {width}×{height} = {width * height:,} pixels, more than "
                f"the limit of {max_pixels:,}; refusing to decode it. Resize it first, "
                "or pass a larger max_pixels if you really mean it."
            )
        try:
            img.load()
        except (OSError, SyntaxError, ValueError) as err:
            # Pillow reports truncated data as OSError ("image file is
            # truncated", "broken data stream") or, for some formats, SyntaxError.
            raise ImageLoadError(f"'{path}' is truncated or corrupt: {err}") from None
        img = ImageOps.exif_transpose(img)
        try:
            return _to_uint8(img, path)
        except ImageLoadError:
            raise
        except (OSError, ValueError) as err:
            raise ImageLoadError(
                f"'{path}': cannot convert its colour mode {img.mode!r} to RGB ({err})."
            ) from None


def as_rgb_uint8(image, *, name: str = "image") -> np.ndarray:
    """Check an in-memory image and return it as an RGB ``uint8`` ``(H, W, 3)`` array.

    Accepts ``uint8`` arrays, and float arrays with values in ``[0, 1]`` (which
    are scaled by 255 and rounded). Everything else gets an error that says what
    was passed and what to do — the most common mistakes being a ``(3, H, W)``
    tensor, an image already normalised with the ImageNet mean and standard
    deviation, or a grayscale ``(H, W)`` array.

    >>> as_rgb_uint8(np.zeros((2, 3, 3))).dtype
    dtype('uint8')

    Raises
    ------
    TypeError
        Not a numpy array (a torch tensor, a list, a PIL image…).
    ValueError
        Wrong shape, NaN or infinite values, or floats outside ``[0, 1]``.
    """
    if type(image).__module__.startswith("torch"):
        raise TypeError(
            f"{name} is a torch tensor; expected an H×W×3 numpy array in RGB. "
            "If it came out of model.preprocess, keep the original image instead."
        )
    if isinstance(image, Image.Image):
        raise TypeError(f"{name} is a PIL image; convert it with np.asarray({name}.convert('RGB')).")
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (H, W, 3), got {type(image).__name__}.")
    shape = image.shape
    if image.ndim == 3 and shape[0] in (1, 3) and shape[2] not in (3,):
        raise ValueError(
            f"{name} has shape {shape}, which looks channels-first (C, H, W); "
            f"expected (H, W, 3). Use {name}.transpose(1, 2, 0)."
        )
    if image.ndim == 2:
        raise ValueError(
            f"{name} has shape {shape}: a grayscale image. Expected (H, W, 3); "
            f"use np.stack([{name}] * 3, axis=-1), or load files with load_image()."
        )
    if image.ndim == 3 and shape[2] == 4:
        raise ValueError(
            f"{name} has 4 channels (RGBA). Expected RGB; load_image() composites "
            f"the alpha channel over white, or drop it with {name}[..., :3]."
        )
    if image.ndim != 3 or shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {shape}.")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {shape}.")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_ or not np.issubdtype(image.dtype, np.number):
        raise TypeError(f"{name} has dtype {image.dtype}; expected uint8, or float in [0, 1].")
    if np.issubdtype(image.dtype, np.integer):
        lo, hi = int(image.min()), int(image.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{name} has dtype {image.dtype} with values in [{lo}, {hi}]; expected "
                "0..255. Scale it to uint8 yourself (for 16-bit data: image // 257)."
            )
        return image.astype(np.uint8)
    if not np.isfinite(image).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    lo, hi = float(image.min()), float(image.max())
    if lo < 0.0:
        raise ValueError(
            f"{name} has negative values (min {lo:.3g}): it looks already normalised "
            "with a mean and standard deviation. Pass the original RGB image "
            "(uint8, or float in [0, 1])."
        )
    if hi > 1.0:
        raise ValueError(
            f"{name} is a float array with values up to {hi:.3g}; expected [0, 1]. "
            f"If it holds 0..255 values, use {name}.astype(np.uint8)."
        )
    return np.round(image * 255.0).astype(np.uint8)


def square_crop(image, side: int) -> np.ndarray:
    """The central square of an RGB image, resized to ``side × side`` (anti-aliased).

    Used to put two photos side by side at the same scale.

    >>> square_crop(np.zeros((40, 60, 3), np.uint8), 20).shape
    (20, 20, 3)

    Raises the errors of :func:`as_rgb_uint8`, and ``ValueError`` for a
    ``side`` that is not a positive int.
    """
    from skimage.transform import resize

    img = as_rgb_uint8(image)
    side = positive_int(side, "side")
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    small = resize(img[top:top + s, left:left + s], (side, side), anti_aliasing=True)
    return np.round(small * 255).astype(np.uint8)
