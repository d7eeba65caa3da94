"""An interactive CAM / SeCAM explorer for JupyterLab (ipywidgets).

Every expensive step is computed once and cached — the forward pass per image,
the CAM on the feature grid per (image, class), the superpixels per (image,
n_segments, compactness), the SeCAM map per (image, class, n_segments,
compactness) — so that moving the threshold or the opacity only re-thresholds
and re-blends. SeCAM is computed from the feature grid by linearity
(``secam(..., from_grid=True)``), without a full-resolution CAM.

A new superpixel setting must run SLIC, the slowest step. The explorer uses
the fast superpixels (:func:`fast_superpixels`: OpenCV contrib's SLIC, two
rounds), several times faster than scikit-image's, with nearly the same SeCAM
maps (``python -m benchmarks.run`` measures both), and falls back to
scikit-image's where OpenCV's contrib modules are missing.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from tutorial_utils.cam import class_activation_map
from tutorial_utils.maps import normalise, threshold_mask, upsample
from tutorial_utils.images import load_image
from tutorial_utils.secam import secam
from tutorial_utils.slic import BACKENDS, fast_superpixels, superpixels
from tutorial_utils.viz import overlay, png_img_tag

from .web_explorer import DIMMED, METHODS, web_explorer

__all__ = ["DIMMED", "METHODS", "SecamExplorer"]



def _opencv_slic_available() -> bool:
    try:
        import cv2
    except ImportError:
        return False
    return hasattr(cv2, "ximgproc")


class SecamExplorer:
    """Choose image, class, method, superpixel settings, threshold and opacity; see the map.

    >>> explorer = SecamExplorer(model)
    >>> explorer.render(image="coffee", method="SeCAM").shape   # what the widget shows, drawn without it
    (400, 600, 3)
    >>> explorer.values(method="CAM").shape, explorer.cam_grid("coffee", 967).shape   # the map drawn; its grid
    ((400, 600), (7, 7))
    >>> explorer.widget                                         # doctest: +ELLIPSIS
    VBox(...)

    ``render(**settings)`` draws without widgets and returns the RGB image;
    ``values(**settings)`` is the map it draws, ``image_array``, ``cam_grid`` and
    ``segments`` the cached steps before it; ``last_render_seconds`` says how
    long the last drawing took. ``web_version()`` is the explorer for the
    website, where no Python runs (:func:`book_tools.web_explorer`).
    ``slic_backend`` is ``"opencv"`` (:func:`fast_superpixels`; the default where
    OpenCV's contrib modules are installed) or ``"skimage"`` (:func:`superpixels`,
    the reference).
    Unknown image names, settings or backends raise ``ValueError``.
    """

    def __init__(
        self,
        model,
        images: Sequence[str] = ("coffee", "chelsea", "astronaut", "rocket"),
        *,
        top_k: int = 5,
        slic_backend: str | None = None,
    ) -> None:
        if not images:
            raise ValueError("images must name at least one image")
        if slic_backend is None:
            slic_backend = "opencv" if _opencv_slic_available() else "skimage"
        if slic_backend not in BACKENDS:
            raise ValueError(f"slic_backend must be one of {BACKENDS}, got {slic_backend!r}")
        self.slic_backend = slic_backend
        self.model = model
        self.image_names = list(images)
        self.top_k = top_k
        self.settings = {
            "image": self.image_names[0],
            "class_index": None,  # None: the top class of the image
            "method": "SeCAM",
            "n_segments": 100,
            "compactness": 10.0,
            "threshold": 0.0,
            "alpha": 0.5,
        }
        self._forward: dict = {}
        self._cam: dict = {}
        self._segments: dict = {}
        self._secam: dict = {}
        self.last_render_seconds = float("nan")
        self._widget = None

    # ------------------------------------------------------------- caching
    def _image(self, name: str):
        if name not in self._forward:
            import torch

            img = load_image(name)
            x = self.model.preprocess(img)
            with torch.no_grad():
                logits, feature_maps = self.model.forward_features(x)
            # One run of the network per image: the top classes come from the same logits.
            self._forward[name] = (img, feature_maps, self.model.top_k(logits=logits, k=self.top_k))
        return self._forward[name]

    def top_classes(self, name: str):
        """The top-k predictions for an image (cached)."""
        return self._image(name)[2]

    def image_array(self, name: str) -> np.ndarray:
        """The image ``name`` as the explorer draws it: RGB ``uint8`` ``H×W×3`` (cached)."""
        self._check_image(name)
        return self._image(name)[0]

    def cam_grid(self, name: str, c: int) -> np.ndarray:
        """The CAM :math:`M_c` of image ``name`` and class ``c`` on the feature grid, ``h×w`` (cached)."""
        key = (name, c)
        if key not in self._cam:
            feature_maps = self._image(name)[1]
            self._cam[key] = class_activation_map(feature_maps, self.model.fc_weight, c)  # on the feature grid
        return self._cam[key]

    def _cam_map(self, name: str, c: int) -> np.ndarray:
        return upsample(self.cam_grid(name, c), self._image(name)[0])

    def segments(self, name: str, n_segments: int, compactness: float) -> np.ndarray:
        """The superpixels of image ``name`` the explorer uses for these settings, ``H×W`` labels (cached)."""
        self._check_image(name)
        key = (name, int(n_segments), float(compactness))
        if key not in self._segments:
            image = self._image(name)[0]
            if self.slic_backend == "opencv":  # the fast superpixels: OpenCV's SLIC, two rounds
                self._segments[key] = fast_superpixels(image, n_segments, compactness)
            else:
                self._segments[key] = superpixels(image, n_segments, compactness)
        return self._segments[key]

    def _map(self, s: dict) -> np.ndarray:
        if s["method"] == "CAM":
            return self._cam_map(s["image"], s["class_index"])
        key = (s["image"], s["class_index"], s["n_segments"], s["compactness"])
        if key not in self._secam:
            segments = self.segments(s["image"], s["n_segments"], s["compactness"])
            # From the feature grid, by linearity: no full-resolution CAM is needed.
            self._secam[key] = secam(self.cam_grid(s["image"], s["class_index"]), segments, from_grid=True)
        return self._secam[key]

    # ------------------------------------------------------------ drawing
    def _check_image(self, name: str) -> None:
        if name not in self.image_names:
            raise ValueError(f"unknown image {name!r}; choose one of {self.image_names}")

    def _check(self, s: dict) -> dict:
        self._check_image(s["image"])
        if s["method"] not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {s['method']!r}")
        if s["class_index"] is None:
            s["class_index"] = self.top_classes(s["image"])[0].index
        if not 0.0 <= float(s["threshold"]) <= 1.0 or not 0.0 <= float(s["alpha"]) <= 1.0:
            raise ValueError("threshold and alpha must lie in [0, 1]")
        s["n_segments"], s["compactness"] = int(s["n_segments"]), float(s["compactness"])
        return s

    def _settings_with(self, changes: dict) -> dict:
        unknown = set(changes) - set(self.settings)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(self.settings)}")
        return self._check({**self.settings, **changes})

    def values(self, **changes) -> np.ndarray:
        """The map ``render(**changes)`` draws (CAM upsampled, or SeCAM), ``H×W``; the settings stay as they are."""
        return self._map(self._settings_with(changes))

    def render(self, **changes) -> np.ndarray:
        """Apply ``changes`` to the settings and return the drawn RGB image."""
        start = time.perf_counter()
        s = self._settings_with(changes)
        self.settings = s
        img = self._image(s["image"])[0]
        values = self._map(s)
        shown = overlay(img, normalise(values), alpha=s["alpha"])
        if s["threshold"] > 0:
            keep = threshold_mask(values, s["threshold"])
            shown = np.where(keep[..., None], shown, (shown * DIMMED).astype(np.uint8))
        self.last_render_seconds = time.perf_counter() - start
        return shown

    def web_version(self, settings=None, **options):
        """The explorer for the website, where no Python runs: a :class:`~book_tools.WebExplorer`.

        ``settings`` are the ``(n_segments, compactness)`` pairs precomputed for
        the page (default :data:`~book_tools.WEB_SETTINGS`: 50, 100, 200 and
        400 superpixels at compactness 10); ``options`` go to
        :func:`~book_tools.web_explorer` (``images``, ``jpeg_quality``).

        >>> SecamExplorer(model, images=["chelsea"]).web_version([(50, 10.0)])   # doctest: +ELLIPSIS
        WebExplorer(images=['chelsea'], ... MB)
        """
        return web_explorer(self, settings, **options)

    # ------------------------------------------------------------ widgets
    @property
    def widget(self):
        """The ipywidgets user interface (built on first use)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self):
        import ipywidgets as w

        style = {"description_width": "110px"}
        image = w.Dropdown(options=self.image_names, value=self.settings["image"], description="image", style=style)
        klass = w.Dropdown(description="class", style=style)
        method = w.ToggleButtons(options=METHODS, value=self.settings["method"], description="method", style=style)
        n_seg = w.IntSlider(value=100, min=20, max=400, step=20, description="n_segments", style=style,
                            continuous_update=False)
        comp = w.FloatSlider(value=10.0, min=1.0, max=40.0, step=1.0, description="compactness", style=style,
                             continuous_update=False)
        thresh = w.FloatSlider(value=0.0, min=0.0, max=0.95, step=0.05, description="threshold (·max)", style=style)
        alpha = w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="opacity", style=style)
        # An HTML <img> rather than an ipywidgets Image: it can carry alt text (an
        # Image cannot; its tooltip breaks the view in ipywidgets 8's front end).
        picture = w.HTML(layout=w.Layout(max_width="100%"))
        status = w.HTML()

        def set_classes(name):
            klass.options = [(f"{p.label} ({p.probability:.1%})", p.index) for p in self.top_classes(name)]
            klass.value = klass.options[0][1]

        def draw(*_):
            rgb = self.render(image=image.value, class_index=klass.value, method=method.value,
                              n_segments=n_seg.value, compactness=comp.value,
                              threshold=thresh.value, alpha=alpha.value)
            label = next((text for text, index in klass.options if index == klass.value), str(klass.value))
            alt = f"{method.value} heatmap for the class {label} over the image {image.value}"
            if method.value == "SeCAM":
                alt += f", averaged over about {n_seg.value} superpixels"
            if thresh.value > 0:
                alt += f"; values at or below {thresh.value:.2f} of the maximum are dimmed"
            picture.value = png_img_tag(rgb, alt)
            status.value = f"<small>drawn in {self.last_render_seconds * 1000:.0f} ms</small>"

        def on_image(change):
            set_classes(change["new"])
            draw()

        set_classes(image.value)
        image.observe(on_image, names="value")
        for control in (klass, method, n_seg, comp, thresh, alpha):
            control.observe(draw, names="value")
        draw()
        # Controls in two columns above the picture: the layout fits a narrow page.
        left = w.VBox([image, klass, method, status])
        right = w.VBox([n_seg, comp, thresh, alpha])
        return w.VBox([w.HBox([left, right]), picture])
