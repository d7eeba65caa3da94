"""The bibliography holds the works the book relies on, and each is cited."""

import json
import re
import sys

from book_layout import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from citations import citation_text, entries  # noqa: E402

BIB = ROOT / "book" / "references.bib"
# Works the issue names, by the key the chapters cite them with.
REQUIRED = {
    "he2016resnet": "ResNet",
    "zhou2016cam": "CAM",
    "selvaraju2017gradcam": "Grad-CAM",
    "draelos2020hirescam": "HiResCAM",
    "achanta2012slic": "SLIC",
    "nguyen2022secam": "SeCAM",
    "ribeiro2016lime": "LIME",
    "petsiuk2018rise": "RISE (deletion/insertion)",
    "adebayo2018sanity": "sanity checks",
}


def _keys():
    return re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.M)


def _texts():
    pages = [(p.name, p.read_text(encoding="utf-8")) for p in (ROOT / "book").glob("*.md")]
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        pages.append((nb.name, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")))
    return pages


# Chapters cite with Markdown links to the bibliography page (book/_ext/citations.py),
# which JupyterLab and the website both render; the book's own pages may use {cite} roles.
LINK = re.compile(r"\[([^\]]+)\]\(\.\./book/bibliography\.md#([^)\s]+)\)")


def _links():
    for name, text in _texts():
        for match in LINK.finditer(text):
            yield name, match


def _cited():
    cited = {}
    for name, text in _texts():
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            for key in group.split(","):
                cited.setdefault(key.strip(), set()).add(name)
    for name, match in _links():
        cited.setdefault(match.group(2), set()).add(name)
    return cited


def test_citation_links_name_their_entry():
    """A link's text is its entry's authors and year, as citation_text writes them."""
    known = entries(BIB)
    wrong = []
    for name, match in _links():
        text, key = match.groups()
        if key not in known:
            wrong.append(f"{name}: {key} is not in references.bib")
        elif text not in (citation_text(known[key], False), citation_text(known[key], True)):
            wrong.append(f"{name}: [{text}] should read {citation_text(known[key], False)!r} "
                         f"or {citation_text(known[key], True)!r}")
    assert not wrong, wrong
    assert any(True for _ in _links()), "no chapter cites with a bibliography link"


def test_chapters_use_no_roles_jupyterlab_cannot_resolve():
    """{cite} and {doc} render as unresolved keys in JupyterLab: chapters use Markdown links."""
    offenders = [(name, role) for name, text in _texts() if name.endswith(".ipynb")
                 for role in re.findall(r"\{(?:cite(?::[a-z]+)?|doc|ref|numref|term)\}`[^`]*`", text)]
    assert not offenders, offenders


def test_keys_are_unique():
    keys = _keys()
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_the_required_works_are_in_the_bibliography_and_cited_in_a_chapter():
    keys, cited = set(_keys()), _cited()
    for key, work in REQUIRED.items():
        assert key in keys, f"{work} ({key}) is missing from references.bib"
        chapters = {name for name in cited.get(key, ()) if name.endswith(".ipynb")}
        assert chapters, f"{work} ({key}) is not cited in any chapter"


def test_every_entry_is_cited_and_every_citation_exists():
    keys, cited = set(_keys()), _cited()
    assert not keys - set(cited), f"entries never cited: {sorted(keys - set(cited))}"
    assert not set(cited) - keys, f"citations with no entry: {sorted(set(cited) - keys)}"
