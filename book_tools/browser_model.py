r"""The book's model for the website: one ONNX file that the reader's browser runs.

CAM and SeCAM need one forward pass that returns the last feature maps :math:`f`
(``1×K×h×w``) and the logits :math:`S` (``1×classes``); the class map is then
:math:`M_c = \sum_k w^c_k f_k`, with the linear layer's weights. So the website
gets three files, written by :func:`export_browser_model` (notebooks/05b_your_photo runs it when
the site is built; ``book/_ext/browser_model.py`` copies them into
``_static/model/``):

* ``cam-model.onnx`` — the network, exported with :func:`torch.onnx.export`, with
  one input ``input`` (what ``model.preprocess`` returns) and two outputs,
  ``feature_maps`` and ``logits``. Float32 when it fits in ``max_mb``; otherwise
  its weights are quantised to 8 bits (onnxruntime's dynamic quantisation:
  ResNet50's 98 MB become about 25).
* ``cam-head.bin`` — :math:`w` (``classes×K``) then :math:`b`, little-endian float32.
* ``cam-model.json`` — what the page needs to use them: the network's name, input
  size, mean and std, ``K``, the grid, the class names, the files' sizes.

:func:`check_browser_model` runs the file in onnxruntime (the engine the browser's
``onnxruntime-web`` compiles to WebAssembly) on images and compares it with PyTorch.

>>> import pathlib, tempfile
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> exported = export_browser_model(model, tmp)
>>> sorted(p.name for p in tmp.iterdir())
['cam-head.bin', 'cam-model.json', 'cam-model.onnx']
>>> exported.outputs
('feature_maps', 'logits')
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from tutorial_utils.images import load_image
from tutorial_utils.models import CamModel
from tutorial_utils.viz import DEFAULT_CMAP

from .web_explorer import DIMMED, colour_table, embedded_json

__all__ = ["FILES", "MAX_MB", "PHOTO_SEGMENTS", "BrowserModel", "PhotoExplorer", "browser_model_folder",
           "check_browser_model", "export_browser_model", "photo_explorer"]

#: The largest model file the website serves, in MB (10⁶ bytes).
MAX_MB = 30.0
#: The files :func:`export_browser_model` writes, by role.
FILES = {"model": "cam-model.onnx", "head": "cam-head.bin", "metadata": "cam-model.json"}
#: Version of ``cam-model.json``'s layout, read by ``cam-photo.js``.
FORMAT_VERSION = 1
OUTPUTS = ("feature_maps", "logits")
#: The superpixel counts the page offers (SLIC runs in the browser, compactness 10).
PHOTO_SEGMENTS = (50, 100, 200, 400)
#: onnxruntime-web's WebAssembly file, as `make` vendors it (its size goes into the page's "about N MB").
RUNTIME_WASM = Path(__file__).resolve().parent.parent / "book" / "_vendor" / "site" / "_static" / "vendor" / \
    "onnxruntime-web" / "ort-wasm-simd-threaded.wasm"
PHOTO_FALLBACK = ("On the book's website, this box runs the network in your browser on a photo of your own. "
                  "JupyterLab does not load the website's scripts: here, explain your own photo with the live "
                  "explorer above, SecamExplorer(model, images=[\"path/to/photo.jpg\"]).")


class _FeaturesAndLogits(nn.Module):
    """The CamModel's own two steps, ``features`` then ``classify``, returning both results."""

    def __init__(self, model: CamModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature_maps = self.model.features(x)
        return feature_maps, self.model.classify(feature_maps)


@dataclass(frozen=True)
class BrowserModel:
    """What :func:`export_browser_model` wrote: the folder, the file sizes, and how the weights are stored."""

    folder: Path
    model_bytes: int
    head_bytes: int
    quantised: bool
    float32_bytes: int
    outputs: tuple[str, str]
    metadata: dict

    @property
    def model_path(self) -> Path:
        return self.folder / FILES["model"]

    @property
    def model_mb(self) -> float:
        return self.model_bytes / 1e6


def _export(model: CamModel, path: Path) -> None:
    wrapper = _FeaturesAndLogits(model).eval()  # eval(): export restores the wrapper's mode, and with it the model's
    x = torch.zeros(1, 3, *model.input_size)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(wrapper, (x,), str(path), input_names=["input"], output_names=list(OUTPUTS),
                          dynamo=False, opset_version=17)
    if model.training or wrapper.training:
        raise RuntimeError("exporting left the model in training mode")


def _quantise(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QUInt8)


def export_browser_model(model: CamModel, folder, *, max_mb: float = MAX_MB) -> BrowserModel:
    """Write ``cam-model.onnx``, ``cam-head.bin`` and ``cam-model.json`` for the website into ``folder``.

    The ONNX file maps ``input`` (``1×3×H×W``, as ``model.preprocess`` makes it)
    to ``feature_maps`` and ``logits``. If the float32 file is larger than
    ``max_mb`` MB, its weights are quantised to 8 bits (``quantised=True``);
    if that is still too large, ``ValueError``. ``TypeError`` for a model that
    is not a :class:`~tutorial_utils.CamModel`.
    """
    if not isinstance(model, CamModel):
        raise TypeError(f"model must be a CamModel from load_model(), got {type(model).__name__}")
    if isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or not max_mb > 0:
        raise ValueError(f"max_mb must be a positive number of megabytes, got {max_mb!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / FILES["model"]
    float32 = folder / "cam-model.float32.onnx"
    _export(model, float32)
    float32_bytes = float32.stat().st_size
    quantised = float32_bytes > max_mb * 1e6
    if quantised:
        _quantise(float32, onnx_path)
        float32.unlink()
    else:
        float32.replace(onnx_path)
    model_bytes = onnx_path.stat().st_size
    if model_bytes > max_mb * 1e6:
        raise ValueError(f"{onnx_path} is {model_bytes / 1e6:.1f} MB even with 8-bit weights, over max_mb={max_mb}")

    head = np.concatenate([model.fc_weight.detach().numpy().ravel(), model.fc_bias.detach().numpy().ravel()])
    head_bytes = head.astype("<f4").tobytes()
    (folder / FILES["head"]).write_bytes(head_bytes)
    with torch.no_grad():
        _, grid = model.forward_features(torch.zeros(1, 3, *model.input_size))
    metadata = {
        "version": FORMAT_VERSION,
        "name": model.name,
        "display_name": model.display_name,
        "is_fallback": bool(model.is_fallback),
        "weights": model.weights_source,
        "input_size": list(model.input_size),
        "mean": list(model.mean),
        "std": list(model.std),
        "preprocessing": model.preprocessing_description,
        "channels": model.num_channels,
        "grid": list(grid.shape[-2:]),
        "classes": model.num_classes,
        "categories": list(model.categories),
        "outputs": list(OUTPUTS),
        "quantised": quantised,
        "files": {
            "model": {"name": FILES["model"], "bytes": model_bytes,
                      "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest()},
            "head": {"name": FILES["head"], "bytes": len(head_bytes), "layout": "weight classes×K, then bias"},
        },
    }
    (folder / FILES["metadata"]).write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
    return BrowserModel(folder, model_bytes, len(head_bytes), quantised, float32_bytes, OUTPUTS, metadata)


def check_browser_model(model: CamModel, exported: BrowserModel, images: Sequence[str | np.ndarray] = (
        "coffee", "chelsea", "astronaut", "rocket"), *, k: int = 5) -> list[dict]:
    """Run the exported file in onnxruntime on ``images`` and compare it with ``model``, image by image.

    Returns one dict per image: ``logits_error`` (largest difference of the logits
    over the largest logit), ``maps_error`` (the same for the feature maps),
    ``same_top1``, ``same_top_k`` (the ``k`` best classes in the same order) and
    PyTorch's ``top_k`` class indices. Raises ``ImportError`` without onnxruntime.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(exported.model_path), providers=["CPUExecutionProvider"])
    rows = []
    for image in images:
        x = model.preprocess(load_image(image) if isinstance(image, str) else image)
        with torch.no_grad():
            logits, feature_maps = model.forward_features(x)
        logits, feature_maps = logits.numpy()[0], feature_maps.numpy()[0]
        onnx_maps, onnx_logits = session.run(list(OUTPUTS), {"input": x.numpy()})
        top, onnx_top = np.argsort(-logits)[:k], np.argsort(-onnx_logits[0])[:k]
        rows.append({
            "image": image if isinstance(image, str) else f"array {tuple(image.shape)}",
            "logits_error": float(np.abs(onnx_logits[0] - logits).max() / np.abs(logits).max()),
            "maps_error": float(np.abs(onnx_maps[0] - feature_maps).max() / np.abs(feature_maps).max()),
            "same_top1": bool(top[0] == onnx_top[0]),
            "same_top_k": bool((top == onnx_top).all()),
            "top_k": [int(c) for c in top],
        })
    return rows


def browser_model_folder() -> Path:
    """Where notebooks/05b_your_photo writes the website's model: ``_build/browser-model`` in the book's repository, else ``./browser-model``.

    ``book/_ext/browser_model.py`` copies that folder into the site's ``_static/model/``.
    """
    root = Path(__file__).resolve().parent.parent
    if (root / "_config.yml").is_file() and (root / "notebooks").is_dir():
        return root / "_build" / "browser-model"
    return Path("browser-model")


class PhotoExplorer:
    """The "explain your own photo" box: ``html`` for the page, drawn by ``book/_static/cam-photo.js``.

    A ``<div class="cam-photo-explorer">`` with a paragraph for JupyterLab (which
    does not load the site's scripts) and the page's settings as JSON.
    """

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.html = embedded_json("cam-photo-explorer", PHOTO_FALLBACK, settings, FORMAT_VERSION)

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"PhotoExplorer(n_segments={self.settings['n_segments']}, download_mb={self.settings['download_mb']})"


def photo_explorer(exported: BrowserModel, *, threshold: float = 0.0, alpha: float = 0.5,
                   n_segments: int = 100) -> PhotoExplorer:
    """The box that explains a reader's photo on the website, for the model ``exported``.

    ``threshold``, ``alpha`` and ``n_segments`` (one of :data:`PHOTO_SEGMENTS`) are
    where its controls start. ``ValueError`` for values out of range.
    """
    if not isinstance(exported, BrowserModel):
        raise TypeError(f"exported must be what export_browser_model returns, got {type(exported).__name__}")
    if n_segments not in PHOTO_SEGMENTS:
        raise ValueError(f"n_segments must be one of {PHOTO_SEGMENTS}, got {n_segments!r}")
    for name, value, top in (("threshold", threshold, 0.95), ("alpha", alpha, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= top:
            raise ValueError(f"{name} must be a number in [0, {top}], got {value!r}")
    runtime = RUNTIME_WASM.stat().st_size if RUNTIME_WASM.is_file() else 0
    return PhotoExplorer({
        "version": FORMAT_VERSION,
        "colours": colour_table(DEFAULT_CMAP),
        "dimmed": DIMMED,
        "n_segments": list(PHOTO_SEGMENTS),
        "compactness": 10.0,
        "start": {"threshold": float(threshold), "alpha": float(alpha), "n_segments": int(n_segments)},
        "runtime_bytes": runtime,
        "download_mb": round((exported.model_bytes + exported.head_bytes + runtime) / 1e6),
    })
