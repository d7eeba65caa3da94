"""The launch buttons lead somewhere that works: Binder, Colab and a JupyterHub."""

import json
import re
import subprocess
import sys

import yaml
from book_layout import ROOT

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _pins(name):
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            package, version = line.split("==")
            pins[package.lower()] = version
    return pins


def test_config_has_binder_colab_jupyterhub_and_the_repository():
    launch, html, repo = CONFIG["launch_buttons"], CONFIG["html"], CONFIG["repository"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["jupyterhub_url"].startswith("https://")
    assert html["use_repository_button"] and html["use_download_button"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo["url"]), repo["url"]


def test_every_notebook_installs_the_book_where_it_is_missing():
    """Colab has none of the book's packages: each notebook's first code cell installs them."""
    pins = _pins("requirements.txt") | _pins("requirements-nodeps.txt")
    for path in NOTEBOOKS:
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        first = "".join(cells[0]["source"])
        assert 'find_spec("tutorial_utils") is None' in first, f"{path.name}: no install cell first"
        assert f"git+{CONFIG['repository']['url']}" in first, f"{path.name}: installs from another repository"
        for package, version in re.findall(r"([\w-]+)==([\w.]+)", first):
            assert pins.get(package.lower()) == version, f"{path.name}: {package}=={version}, requirements pin {pins.get(package.lower())}"
        later = "\n".join("".join(c["source"]) for c in cells[1:])
        assert "%pip" not in later and "!pip" not in later, f"{path.name} installs packages in a later cell"


def test_the_install_cell_does_nothing_where_the_book_is_installed():
    cells = [c for c in json.loads(NOTEBOOKS[0].read_text())["cells"] if c["cell_type"] == "code"]
    script = "".join(cells[0]["source"]) + '\nelse:\n    print("already installed")\n'
    result = subprocess.run([sys.executable, "-m", "IPython", "--quick", "-c", script],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout


def test_binder_installs_what_make_installs():
    post_build = (ROOT / "postBuild").read_text()
    assert "--no-deps -r requirements-nodeps.txt" in post_build and "--no-deps -e ." in post_build
    assert (ROOT / "runtime.txt").read_text().strip().startswith("python-3.")
