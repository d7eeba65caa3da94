"""Diagrams drawn by code, with sizes read from the model, so that they stay true.

Each function returns a matplotlib figure; the chapters show it with the alt
text "Diagram: …". :mod:`~book_tools.diagrams.draw` holds the primitives
(boxes, arrows, labels in data units, Okabe–Ito fills).

* :func:`cam_pipeline_diagram` — image → trunk → K feature maps → GAP → FC → logits, and the M_c branch (chapter 03);
* :func:`resnet50_diagram` — a bottleneck block and the four stages (chapter 02);
* :func:`slic_toy_diagram` — the SLIC toy's grid, centres and 2S search window (chapter 04);
* :func:`secam_pipeline_diagram` — CAM, superpixels, means inside each superpixel (chapter 05);
* :func:`vit_diagram` — patches → tokens → encoder blocks → the class token → the head (chapter 08b).
"""

from .cam import cam_pipeline_diagram
from .draw import COLOURS, arrow, box, canvas, label
from .resnet import resnet50_diagram
from .secam import secam_pipeline_diagram
from .slic import slic_toy_diagram
from .vit import vit_diagram

__all__ = ["COLOURS", "arrow", "box", "cam_pipeline_diagram", "canvas", "label", "resnet50_diagram",
           "secam_pipeline_diagram", "slic_toy_diagram", "vit_diagram"]
