"""The book's own machinery, kept apart from ``tutorial_utils`` (what the chapters teach).

``tutorial_utils`` never imports this package (a book rule reads the imports);
this package uses ``tutorial_utils``. Its parts:

* :mod:`book_tools.exercises` — the auto-checked exercises (``check_cam``, …),
  two per chapter, and the grader behind ``python -m tutorial_utils check``;
* :mod:`book_tools.predict` — ``check_prediction``, each chapter's
  predict-then-check question;
* :mod:`book_tools.diagrams` — the diagrams, drawn by code with sizes read from the model;
* :mod:`book_tools.widgets` and :mod:`book_tools.web_explorer` — the explorer
  widget for JupyterLab and its precomputed version for the website;
* :mod:`book_tools.browser_model` — the network exported to ONNX for the website's
  "explain your own photo" box, checked against PyTorch, and the box itself;
* :mod:`book_tools.weights` and :mod:`book_tools.cli` — the ResNet50 weights'
  download and checks, and the commands ``python -m tutorial_utils info |
  fetch-weights | check``;
* :mod:`book_tools.model_facts` — the sentence near each chapter's top that names
  the network, and ResNet50's figures for the prose;
* :mod:`book_tools.progress` — progress reports for long loops;
* :mod:`book_tools.chapter_times` — each chapter's estimated time, by a stated
  rule (``python -m book_tools.chapter_times --write``);
* :mod:`book_tools.student_edition` — ``make student``: every chapter without the
  written solutions (``_build/student/``).
"""

from .browser_model import (BrowserModel, PhotoExplorer, browser_model_folder, check_browser_model,
                            export_browser_model, photo_explorer)
from .exercises import *  # noqa: F401,F403 — the checkers: check_cam, …, grade, EXERCISES
from .exercises import __all__ as _exercises
from .model_facts import NetworkFacts, model_note, network_facts, resnet50_facts
from .predict import PredictionCheck, check_prediction
from .progress import PROGRESS_ENV, progress
from .weights import CorruptWeightsError, cached_weights_path, fetch_resnet50_weights, load_pretrained
from .web_explorer import DIMMED, WEB_SETTINGS, WebExplorer, web_explorer
from .widgets import SecamExplorer

__all__ = list(_exercises) + [
    "BrowserModel",
    "CorruptWeightsError",
    "DIMMED",
    "NetworkFacts",
    "PROGRESS_ENV",
    "PhotoExplorer",
    "PredictionCheck",
    "SecamExplorer",
    "WEB_SETTINGS",
    "WebExplorer",
    "browser_model_folder",
    "cached_weights_path",
    "check_browser_model",
    "check_prediction",
    "export_browser_model",
    "fetch_resnet50_weights",
    "load_pretrained",
    "model_note",
    "network_facts",
    "photo_explorer",
    "progress",
    "resnet50_facts",
    "web_explorer",
]
