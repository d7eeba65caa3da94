"""Anyone may adapt the book: its licences, its citation file, its changelog and the images' credits.

The code is under MIT (``LICENSE``), the text and figures under CC BY 4.0
(``LICENSE-content``); the sample images keep their own licences and are credited
on the landing page. ``CITATION.cff`` carries the package's version and the
repository of ``_config.yml``, and ``CHANGELOG.md`` has a section for that version.
"""

import datetime
import inspect
import json
import re
import tomllib

import pytest
import yaml
from book_layout import ROOT

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"].get("branch", "main")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
INTRO = (ROOT / "book" / "intro.md").read_text()
README = (ROOT / "README.md").read_text()

# The keys CFF 1.2.0 allows at the top level (schema.json of citation-file-format 1.2.0).
CFF_KEYS = {
    "abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
    "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
    "references", "repository", "repository-artifact", "repository-code", "title", "type",
    "url", "version",
}


def _citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_the_code_is_under_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert f"Copyright (c) {CONFIG['copyright']} {CONFIG['author']}" in text


def test_the_content_is_under_cc_by_4():
    text = (ROOT / "LICENSE-content").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in text
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in text
    # The full legal code, not a pointer to it: all eight sections.
    sections = re.findall(r"^Section (\d) -- ", text, re.M)
    assert sections == [str(i) for i in range(1, 9)], sections
    # It says what it covers and what it does not.
    for named in ("LICENSE", "tutorial_utils/", "the code cells of the notebooks", "scikit-image"):
        assert named in text, f"LICENSE-content does not mention {named}"


def test_citation_file_is_cff_1_2_0():
    cff = _citation()
    assert cff["cff-version"] == "1.2.0"
    assert not set(cff) - CFF_KEYS, f"keys CFF 1.2.0 does not know: {set(cff) - CFF_KEYS}"
    assert cff["type"] == "software" and cff["message"].strip()
    assert cff["title"] == CONFIG["title"]
    assert cff["authors"] and all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert sorted(cff["license"]) == ["CC-BY-4.0", "MIT"]
    datetime.date.fromisoformat(str(cff["date-released"]))


def test_citation_version_is_the_package_version():
    assert str(_citation()["version"]) == VERSION, f"CITATION.cff and pyproject.toml ({VERSION}) disagree"


def test_citation_points_to_the_repository():
    assert _citation()["repository-code"] == REPO


def test_changelog_has_a_section_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    match = re.search(rf"^## \[{re.escape(VERSION)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", changelog, re.M)
    assert match, f"CHANGELOG.md has no '## [{VERSION}] - YYYY-MM-DD' section"
    assert match.group(1) == str(_citation()["date-released"]), "the changelog and CITATION.cff give other dates"


def test_readme_names_both_licences_and_the_citation():
    for needed in ("## Licence", "MIT", "CC BY 4.0", "](LICENSE)", "](LICENSE-content)", "](CITATION.cff)"):
        assert needed in README, f"README.md lacks {needed!r}"


def test_landing_page_names_both_licences_with_links_to_the_repository():
    # The website does not serve the repository's files: link them on the repository.
    section = _credits_section()
    for needed in ("MIT", "CC BY 4.0", f"]({REPO}/blob/{BRANCH}/LICENSE)",
                   f"]({REPO}/blob/{BRANCH}/LICENSE-content)", f"]({REPO}/blob/{BRANCH}/CITATION.cff)"):
        assert needed in section, f"book/intro.md's licence section lacks {needed!r}"


def _credits_section():
    match = re.search(r"^## Licences and credits$(.*?)(?=^## |\Z)", INTRO, re.M | re.S)
    assert match, "book/intro.md has no '## Licences and credits' section"
    return match.group(1)


def _credit_rows():
    """{sample name: its table row} from the landing page's credits."""
    rows = {}
    for line in _credits_section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4:
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = line
    return rows


def _samples_the_chapters_load():
    from tutorial_utils import sample_image_names
    from book_tools import SecamExplorer

    samples = set(sample_image_names())
    loaded = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        loaded |= samples & set(re.findall(r"""["']([A-Za-z_]+)["']""", code))
        if "sample_image_names()" in code:   # a chapter that loops over every sample
            loaded |= samples
        if "SecamExplorer(" in code:          # the explorer's own images
            loaded |= set(inspect.signature(SecamExplorer).parameters["images"].default)
    return loaded


def test_every_sample_image_the_chapters_load_is_credited():
    loaded = _samples_the_chapters_load()
    assert {"coffee", "chelsea"} <= loaded, loaded   # the reading of the chapters works
    missing = loaded - set(_credit_rows())
    assert not missing, f"sample images loaded by the chapters but not credited in book/intro.md: {sorted(missing)}"


def test_the_credits_say_what_scikit_image_says():
    """Each row names the licence and the source that scikit-image's documentation gives."""
    import skimage.data

    from tutorial_utils import sample_image_names

    rows = _credit_rows()
    assert not set(rows) - set(sample_image_names()), f"credited but not a sample: {set(rows) - set(sample_image_names())}"
    for name, row in rows.items():
        doc = " ".join(getattr(skimage.data, name).__doc__.split())
        phrases = [p for p in ("CC0", "public domain", "no known copyright restrictions") if p.lower() in doc.lower()]
        for phrase in phrases:
            assert phrase.lower() in row.lower(), f"{name}: scikit-image says {phrase!r}; the credit: {row}"
        if not phrases:
            assert "none stated" in row, f"{name}: scikit-image states no licence; the credit should say so: {row}"
        urls = re.findall(r"<(https?://[^>]+)>", doc)
        if urls:
            assert urls[0] in row, f"{name}: scikit-image's source {urls[0]} is not in the credit: {row}"


@pytest.mark.parametrize("path", ["LICENSE", "LICENSE-content", "CITATION.cff", "CHANGELOG.md"])
def test_the_files_exist_and_end_with_a_newline(path):
    text = (ROOT / path).read_text()
    assert text.endswith("\n") and not text.endswith("\n\n")
