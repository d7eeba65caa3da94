"""A small Sphinx extension that keeps every page loadable offline.

* Pages must not load scripts or style sheets from other hosts: any such asset
  is reported as a warning, which the strict build (``make test``) turns into
  an error. Links to other sites are fine; loading code from them is not.
* Sphinx 7.4 with Jupyter Book 1 emits some inline scripts twice per page
  (sphinx-thebe's ``const THEBE_JS_URL = …`` among them); the second copy is a
  JavaScript error ("Identifier has already been declared") in every browser
  console. Identical script and style entries are dropped here.
"""

from __future__ import annotations

from sphinx.util import logging

logger = logging.getLogger(__name__)


def _filename(asset) -> str:
    return str(getattr(asset, "filename", asset) or "")


def _key(asset) -> tuple:
    # The same script registered twice may differ only in its priority.
    attributes = tuple(sorted((k, str(v)) for k, v in getattr(asset, "attributes", {}).items()))
    return (_filename(asset), attributes)


def _dedupe(assets) -> list:
    seen, kept = set(), []
    for asset in assets:
        key = _key(asset)
        if key not in seen:
            seen.add(key)
            kept.append(asset)
    return kept


def _is_remote(filename: str) -> bool:
    return "://" in filename or filename.startswith("//")


def check_page_assets(app, pagename, templatename, context, doctree) -> None:
    for name in ("script_files", "css_files"):
        if name not in context:
            continue
        context[name] = _dedupe(context[name])
        for asset in context[name]:
            filename = _filename(asset)
            if filename and _is_remote(filename):
                logger.warning(
                    "page %s loads %s from another host; the book must render offline, "
                    "so serve it locally (see html_extra_path in _config.yml)",
                    pagename,
                    filename,
                    type="offline_assets",
                )


def setup(app):
    # Run after every other handler of html-page-context has added its assets.
    app.connect("html-page-context", check_page_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
