"""The built site's course furniture: launch and download buttons, repository link."""

import re
from urllib.parse import quote

import pytest
import yaml
from book_layout import ROOT, SITE, toc_files

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"]
NOTEBOOK_PAGES = [n for n in toc_files() if n.startswith("notebooks/")]


def _html(name):
    path = SITE / f"{name}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the book first (make book)")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NOTEBOOK_PAGES)
def test_notebook_pages_launch_on_binder_colab_and_a_jupyterhub(name):
    html = _html(name)
    slug = REPO.removeprefix("https://github.com/")
    assert f"https://mybinder.org/v2/gh/{slug}/main?urlpath=lab/tree/{name}.ipynb" in html
    assert f"https://colab.research.google.com/github/{slug}/blob/main/{name}.ipynb" in html
    hub = CONFIG["launch_buttons"]["jupyterhub_url"]
    assert f"{hub}/hub/user-redirect/git-pull?repo={quote(REPO, safe='')}".replace("%2F", "/") in html.replace("%2F", "/")


@pytest.mark.parametrize("name", NOTEBOOK_PAGES)
def test_notebook_pages_offer_the_notebook_for_download(name):
    html = _html(name)
    links = re.findall(r'href="([^"]+\.ipynb)"[^>]*\n?\s*class="[^"]*btn-download-source-button', html)
    assert links, f"{name} has no .ipynb download button"
    target = (SITE / name).parent / links[0]
    assert target.resolve().is_file(), f"the download button points to a missing file: {links[0]}"


@pytest.mark.parametrize("name", toc_files())
def test_every_page_links_to_the_repository(name):
    assert f'href="{REPO}"' in _html(name), f"{name} has no link to {REPO}"
