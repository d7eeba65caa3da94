"""Drop the saved ipywidgets state of a page that shows no widget.

myst-nb embeds a notebook's whole widget state (and the widget manager's scripts) in its
page whenever the executed notebook saved any. Chapter 05's SecamExplorer is live only
in JupyterLab: on the website its output is hidden (``remove-output``) and the website's
own explorer (``cam-explorer.js``) stands in its place, so its state — half a megabyte,
mostly the picture the widget last drew — would be dead weight that nothing renders.
A page keeps the state as long as any widget view is shown on it.
"""

from __future__ import annotations

from docutils import nodes

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _drop_unused_state(app, doctree) -> None:
    try:
        from myst_nb.sphinx_ import NbMetadataCollector
    except ImportError:  # pragma: no cover - myst-nb is part of Jupyter Book
        return
    data = NbMetadataCollector.get_doc_data(app.env).get(app.env.docname, {})
    js_files = data.get("js_files", {})
    if "ipywidgets_state" not in js_files:
        return
    if any(WIDGET_VIEW in node.astext() for node in doctree.findall(nodes.raw)):
        return
    for key in [k for k in js_files if k.startswith("ipywidgets_")]:
        del js_files[key]


def setup(app):
    app.connect("doctree-read", _drop_unused_state)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
