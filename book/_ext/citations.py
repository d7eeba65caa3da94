"""Citations that read the same in JupyterLab and on the website.

A chapter cites with an ordinary Markdown link to the bibliography page,

    [Zhou et al. (2016)](../book/bibliography.md#zhou2016cam)

which JupyterLab shows as a link (its text is the citation), and which the website
resolves to the entry on the bibliography page. `{cite}` roles would need
sphinxcontrib-bibtex, and JupyterLab shows them as unresolved keys.

For the website two things are needed, and this extension does both:

* sphinxcontrib-bibtex gives each bibliography entry its key as HTML id
  (``bibtex_cite_id = "{key}"``, set here);
* MyST resolves ``page.md#target`` links only to headings of that page; the keys of
  references.bib are registered as link targets of the bibliography page, so a link to
  an entry resolves, and a link to a key that does not exist is still a warning (an
  error in the strict build).

The link texts are not typed freely: ``tests/book/test_references.py`` checks each one
against :func:`citation_text` of its entry.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

BIBLIOGRAPHY = "book/bibliography"


def _last_names(authors: str) -> list[str]:
    names = []
    for person in re.split(r"\s+and\s+", " ".join(authors.split())):
        last = person.split(",")[0] if "," in person else person.split()[-1]
        names.append(re.sub(r"[{}]", "", last).strip())
    return names


def _latex_to_text(text: str) -> str:
    accents = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303"}
    text = re.sub(r"\{?\\([\'`\"^~])\{?(\w)\}?\}?", lambda m: m.group(2) + accents[m.group(1)], text)
    return unicodedata.normalize("NFC", text)


def entries(bibfile: str | Path) -> dict[str, tuple[str, str]]:
    """Each entry of a .bib file as ``key: (authors, year)``, authors as a citation names them.

    One author: ``Achanta``; two: ``Tan and Le``; three or more: ``Zhou et al.``.
    """
    text = Path(bibfile).read_text(encoding="utf-8")
    found = {}
    for match in re.finditer(r"^@\w+\{([^,\s]+),(.*?)^\}", text, re.M | re.S):
        key, body = match.groups()
        author = re.search(r"\bauthor\s*=\s*\{(.*?)\},?\s*$", body, re.M | re.S)
        year = re.search(r"\byear\s*=\s*[{\"]?(\d{4})", body)
        if not author or not year:
            raise ValueError(f"{bibfile}: entry {key!r} needs an author and a year")
        names = _last_names(_latex_to_text(author.group(1)))
        who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
        found[key] = (who, year.group(1))
    return found


def citation_text(entry: tuple[str, str], parenthetical: bool) -> str:
    """``Zhou et al. (2016)`` in running text, ``Zhou et al., 2016`` inside parentheses."""
    who, year = entry
    return f"{who}, {year}" if parenthetical else f"{who} ({year})"


def _register_targets(app, doctree) -> None:
    env = app.env
    if env.docname != BIBLIOGRAPHY:
        return
    slugs = env.metadata[env.docname].setdefault("myst_slugs", {})
    for bibfile in app.config.bibtex_bibfiles:
        for key, entry in entries(Path(app.srcdir) / bibfile).items():
            slugs[key] = (0, key, citation_text(entry, parenthetical=False))


def setup(app):
    app.setup_extension("sphinxcontrib.bibtex")
    app.config.bibtex_cite_id = "{key}"
    app.connect("doctree-read", _register_targets)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
