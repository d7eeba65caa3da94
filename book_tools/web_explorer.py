r"""The SeCAM explorer for the website: the explorer's numbers, drawn by the page's own script.

On the website no Python runs, so :class:`~book_tools.SecamExplorer`'s
widgets cannot redraw. :func:`web_explorer` (or ``explorer.web_version()``)
packs what the explorer would draw into the page instead, and the site's
``book/_static/cam-explorer.js`` draws it on a ``<canvas>`` with the same
arithmetic as :meth:`SecamExplorer.render`:

* per image: the photo (JPEG, 4:4:4, quality 95), the top-``k`` classes, and per
  class the CAM :math:`M_c` on the feature grid (``float32``), which the page
  upsamples exactly as :func:`~tutorial_utils.upsample` does
  (:math:`\operatorname{up}(M) = R\,M\,C^\top`, with torch's weights);
* per image and superpixel setting ``(n_segments, compactness)``: the explorer's
  own superpixels, numbered :math:`0 … L-1` in sorted label order (``uint16``,
  little-endian, gzip, base64), and per class the SeCAM value of each superpixel,
  :math:`\bar M_c(s)` (``float32``) — the numbers ``secam(..., from_grid=True)`` paints;
* the colour map as a 256-entry table, so the page colours as
  :func:`~tutorial_utils.overlay` does.

The page then normalises (``max(M, 0) / max M``), colours, blends
:math:`(1-\alpha)\,\text{image} + \alpha\,\text{colour}` and dims the pixels
:func:`~tutorial_utils.threshold_mask` drops to :data:`~book_tools.DIMMED`,
as ``render`` does. Image, class, method, the precomputed superpixel settings,
threshold and opacity respond on the page; another ``n_segments`` or
``compactness`` needs SLIC, hence Python: the live explorer in JupyterLab.

>>> web = SecamExplorer(model, images=["coffee"]).web_version(settings=[(100, 10.0)])
>>> web.html.startswith('<div class="cam-web-explorer"')
True
>>> image = web.data["images"][0]
>>> image["name"], len(image["classes"]), [s["n_segments"] for s in image["segmentations"]]
('coffee', 5, [100])
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
from typing import Sequence

import numpy as np

from tutorial_utils.secam_fast import superpixel_means
from tutorial_utils.viz import DEFAULT_CMAP

__all__ = ["DIMMED", "METHODS", "WEB_SETTINGS", "WebExplorer", "colour_table", "embedded_json", "web_explorer"]

#: The two maps an explorer draws, in the widget and on the website.
METHODS = ("CAM", "SeCAM")
#: Brightness kept by the pixels a threshold drops: they are drawn at 30 % (``render``, and the website's explorer).
DIMMED = 0.3

#: The superpixel settings ``(n_segments, compactness)`` the website's explorer offers by default.
WEB_SETTINGS = ((50, 10.0), (100, 10.0), (200, 10.0), (400, 10.0))
#: Version of the data's layout, read by ``cam-explorer.js``.
FORMAT_VERSION = 1

FALLBACK = ("This is the website's version of the explorer, drawn by the book website's script "
            "(cam-explorer.js); in JupyterLab, use the live explorer above it.")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _float32(values) -> str:
    return _b64(np.ascontiguousarray(values, dtype="<f4").tobytes())


def _labels(index: np.ndarray) -> str:
    # mtime=0: the same numbers give the same page, build after build.
    return _b64(gzip.compress(np.ascontiguousarray(index, dtype="<u2").tobytes(), compresslevel=9, mtime=0))


def _jpeg(image: np.ndarray, quality: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    # 4:4:4 (no chroma subsampling): colour edges stay where the superpixels' edges are.
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling=0, optimize=True)
    return _b64(buffer.getvalue())


def colour_table(cmap: str) -> list[list[float]]:
    """The colour map ``cmap`` as 256 RGB entries in ``[0, 1]``: what :func:`~tutorial_utils.overlay` looks up, for the pages' scripts.

    >>> len(colour_table("inferno")), colour_table("gray")[255]
    (256, [1.0, 1.0, 1.0])
    """
    import matplotlib

    table = matplotlib.colormaps[cmap](np.arange(256))[:, :3]  # what overlay looks up, entry by entry
    return [[float(v) for v in row] for row in table]


def _check_settings(settings) -> list[tuple[int, float]]:
    try:
        pairs = [(n, c) for n, c in settings]
    except (TypeError, ValueError):
        raise ValueError(f"settings must be (n_segments, compactness) pairs, got {settings!r}") from None
    out = []
    for n, c in pairs:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n_segments must be a positive integer, got {n!r}")
        if isinstance(c, bool) or not isinstance(c, (int, float, np.floating, np.integer)) or not 0 < c < float("inf"):
            raise ValueError(f"compactness must be a positive, finite number, got {c!r}")
        out.append((int(n), float(c)))
    if not out:
        raise ValueError("settings must hold at least one (n_segments, compactness) pair")
    if len(set(out)) != len(out):
        raise ValueError(f"settings repeat a pair: {out}")
    return out


def embedded_json(css_class: str, fallback: str, data: dict, version: int) -> str:
    """``<div class=css_class>`` with a fallback paragraph (JupyterLab loads no site script) and ``data`` as JSON.

    Inside ``<script>``, "</script>" or "<!--" in a label would end the element: ``<``, ``>`` and ``&`` are escaped.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (f'<div class="{css_class}" data-format="{version}">'
            f'<p class="{css_class}-fallback">{html.escape(fallback)}</p>'
            f'<script type="application/json" class="{css_class}-data">{text}</script></div>')


class WebExplorer:
    """The website's explorer: ``data`` (what the page draws from) and ``html`` (the cell's output).

    ``_repr_html_`` is ``html``: a ``<div class="cam-web-explorer">`` holding a
    short paragraph (what JupyterLab shows, as it does not load the site's
    script) and the data as ``<script type="application/json">`` — no code runs
    from the output itself. ``nbytes`` is the size of ``html`` in UTF-8 bytes;
    ``standalone_page(script_src)`` is a whole HTML page around it.

    >>> web = WebExplorer({"version": 1, "images": []})
    >>> "application/json" in web.html and "<script>" not in web.html
    True

    Raises ``ValueError`` for data without ``images``.
    """

    def __init__(self, data: dict) -> None:
        if not isinstance(data, dict) or "images" not in data:
            raise ValueError("data must be a dict with an 'images' list (as web_explorer makes it)")
        self.data = data
        self.html = embedded_json("cam-web-explorer", FALLBACK, data, FORMAT_VERSION)

    @property
    def nbytes(self) -> int:
        """Size of :attr:`html` in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def _repr_html_(self) -> str:
        return self.html

    def standalone_page(self, script_src: str = "cam-explorer.js", stylesheet: str | None = None,
                        title: str = "SeCAM explorer") -> str:
        """A whole HTML page: :attr:`html`, ``<script src="script_src">`` (the site's ``cam-explorer.js``), a stylesheet.

        >>> WebExplorer({"images": []}).standalone_page().count('src="cam-explorer.js"')
        1
        """
        link = "" if stylesheet is None else f'<link rel="stylesheet" href="{html.escape(stylesheet, quote=True)}">'
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)}</title>{link}"
                f"<script src=\"{html.escape(script_src, quote=True)}\"></script></head>"
                f"<body><main>{self.html}</main></body></html>\n")

    def __repr__(self) -> str:
        names = [image["name"] for image in self.data["images"]]
        return f"WebExplorer(images={names}, {self.nbytes / 1e6:.2f} MB)"


def web_explorer(explorer, settings: Sequence[tuple[int, float]] | None = None, *,
                 images: Sequence[str] | None = None, jpeg_quality: int = 95) -> WebExplorer:
    r"""Precompute ``explorer``'s maps for the website: a :class:`WebExplorer`.

    ``explorer`` is a :class:`~book_tools.SecamExplorer`; its caches are
    used and filled (one forward pass per image, the superpixels of each
    setting), so the page shows what ``explorer.render`` draws. ``settings``
    are the ``(n_segments, compactness)`` pairs offered on the page (default
    :data:`WEB_SETTINGS`), ``images`` a subset of the explorer's images
    (default: all), ``jpeg_quality`` the photos' JPEG quality. Four images with
    four settings make about 1 MB of HTML.

    The SeCAM values are :math:`\bar M_c(s) = \sum_{ij} P[s, ij]\,M_c(i, j)`,
    computed per class with :func:`~tutorial_utils.secam_fast.superpixel_means` from the
    CAM's grid and rounded to ``float32``: the numbers
    ``secam(..., from_grid=True)`` paints for ``render``.

    >>> explorer = SecamExplorer(model, images=["coffee"])
    >>> web_explorer(explorer, [(50, 10.0)]).data["images"][0]["segmentations"][0]["count"] > 0
    True

    Raises ``TypeError`` if ``explorer`` is not a :class:`SecamExplorer`, and
    ``ValueError`` for settings that are not positive ``(n_segments,
    compactness)`` pairs (a finite compactness) or repeat one, images the explorer does not have, a
    JPEG quality outside 1–100, or a segmentation with more than 65,536 superpixels.
    """
    settings = _check_settings(WEB_SETTINGS if settings is None else settings)
    if not hasattr(explorer, "image_names") or not hasattr(explorer, "cam_grid"):
        raise TypeError(f"explorer must be a SecamExplorer, got {type(explorer).__name__}")
    if isinstance(images, str):
        images = [images]
    names = list(explorer.image_names if images is None else images)
    unknown = [name for name in names if name not in explorer.image_names]
    if not names or unknown:
        raise ValueError(f"images must name some of the explorer's images {explorer.image_names}, got {names}")
    if isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, int) or not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg_quality must be an integer from 1 to 100, got {jpeg_quality!r}")
    s = explorer.settings
    current = (int(s["n_segments"]), float(s["compactness"]))
    data = {
        "version": FORMAT_VERSION,
        "methods": list(METHODS),
        "colours": colour_table(DEFAULT_CMAP),
        "dimmed": DIMMED,
        "start": {
            "image": s["image"] if s["image"] in names else names[0],
            "method": s["method"],
            "setting": settings.index(current) if current in settings else 0,
            "threshold": float(s["threshold"]),
            "alpha": float(s["alpha"]),
        },
        "images": [],
    }
    for name in names:
        rgb = explorer.image_array(name)
        top = explorer.top_classes(name)
        grids = {p.index: np.asarray(explorer.cam_grid(name, p.index), dtype=np.float32) for p in top}
        grid_shape = next(iter(grids.values())).shape
        entry = {
            "name": name,
            "width": int(rgb.shape[1]),
            "height": int(rgb.shape[0]),
            "jpeg": _jpeg(rgb, jpeg_quality),
            "grid": [int(grid_shape[0]), int(grid_shape[1])],
            "classes": [{"index": int(p.index), "label": str(p.label),
                         "probability": round(float(p.probability), 6), "cam": _float32(grids[p.index])}
                        for p in top],
            "segmentations": [],
        }
        for n_segments, compactness in settings:
            segments = explorer.segments(name, n_segments, compactness)
            _, index = np.unique(segments, return_inverse=True)  # 0 … L-1, in sorted label order
            count = int(index.max()) + 1
            if count > 2**16:
                raise ValueError(f"{name}: {count} superpixels for n_segments={n_segments}; the page holds at most 65,536")
            # One map at a time, as secam(..., from_grid=True) computes it for render.
            means = [superpixel_means(grids[p.index], segments).astype(np.float32) for p in top]
            entry["segmentations"].append({
                "n_segments": n_segments,
                "compactness": compactness,
                "count": count,
                "labels": _labels(index.reshape(segments.shape)),
                "secam": [_float32(m) for m in means],
            })
        data["images"].append(entry)
    return WebExplorer(data)
