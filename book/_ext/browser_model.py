"""Serve the network that the page "Explain your own photo" (notebooks/05b_your_photo) box runs in the reader's browser.

The page 05b_your_photo exports the book's model when the site is built (``export_browser_model``
into ``_build/browser-model``: ``cam-model.onnx``, ``cam-head.bin``, ``cam-model.json``).
After the build, this extension copies those files into the site's ``_static/model/``,
where ``book/_static/cam-photo.js`` fetches them when a reader asks. The files are
built, never committed. A page that shows the box while the files are missing
(05b_your_photo did not run) is a warning, which the strict build turns into an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
FILES = ("cam-model.onnx", "cam-head.bin", "cam-model.json")
BOX = 'class="cam-photo-explorer"'


def _copy_model(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.confdir) / "_build" / "browser-model"
    pages = [p for p in Path(app.outdir).rglob("*.html") if BOX in p.read_text(encoding="utf-8", errors="ignore")]
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        if pages:
            logger.warning("%s show the photo box, but %s holds no %s: notebooks/05b_your_photo exports the model when it runs",
                           ", ".join(p.name for p in pages), source, ", ".join(missing), type="browser_model")
        return
    target = Path(app.outdir) / "_static" / "model"
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(source / name, target / name)


def setup(app):
    app.connect("build-finished", _copy_model)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
