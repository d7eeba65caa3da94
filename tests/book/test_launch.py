"""The launch buttons lead somewhere that works: Binder, Colab and a JupyterHub."""

import json
import re
import subprocess
import sys

from pathlib import Path

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


def _run_install_cell(prelude, env_extra):
    """Run the first notebook's install cell as if tutorial_utils were missing."""
    import os

    cells = [c for c in json.loads(NOTEBOOKS[0].read_text())["cells"] if c["cell_type"] == "code"]
    hide = (
        "import importlib.util\n"
        "_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'tutorial_utils' else _find(name, *a)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CAM_BOOK_NO_INSTALL"} | env_extra
    return subprocess.run([sys.executable, "-c", hide + prelude + "".join(cells[0]["source"])],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, env=env)


def test_under_make_a_missing_book_is_an_error_not_an_install():
    # The prelude makes any pip call fail loudly, so an install attempt cannot pass unnoticed.
    prelude = "import subprocess\nsubprocess.run = lambda *a, **k: (_ for _ in ()).throw(AssertionError('pip ran'))\n"
    result = _run_install_cell(prelude, {"CAM_BOOK_NO_INSTALL": "1"})
    assert result.returncode != 0
    assert "RuntimeError: tutorial_utils is not installed" in result.stderr, result.stderr
    assert "make install" in result.stderr and "pip ran" not in result.stderr


def test_a_failed_install_raises():
    # pip is replaced by a command that fails the way a failed pip does: exit status 1.
    prelude = (
        "import subprocess, sys\n"
        "_run = subprocess.run\n"
        "subprocess.run = lambda args, **k: _run([sys.executable, '-c', 'raise SystemExit(1)'], **k)\n"
    )
    result = _run_install_cell(prelude, {})
    assert result.returncode != 0
    assert "CalledProcessError" in result.stderr, result.stderr


def test_make_sets_the_no_install_guard():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^export CAM_BOOK_NO_INSTALL := 1$", makefile, re.M)


def test_binder_installs_what_make_installs():
    post_build = (ROOT / "postBuild").read_text()
    assert "--no-deps -r requirements-nodeps.txt" in post_build and "--no-deps -e ." in post_build
    assert (ROOT / "runtime.txt").read_text().strip().startswith("python-3.")


def test_jupyterlab_asks_no_news_and_checks_no_updates():
    """The book works offline: JupyterLab is told not to fetch news or check for updates (no pop-up either)."""
    overrides = json.loads((ROOT / "book" / "jupyterlab" / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"checkForUpdates": False, "fetchNews": "false"}
    # Every cell rendered when the notebook opens: with JupyterLab's lazy rendering, jupyterlab-myst
    # evaluates no {eval} role of a text cell that has not been drawn yet (tests/browser/test_jupyterlab.py).
    assert overrides["@jupyterlab/notebook-extension:tracker"] == {"windowingMode": "none"}
    # Installed where JupyterLab reads an environment's settings: by make, and on Binder.
    makefile = (ROOT / "Makefile").read_text()
    assert "LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json" in makefile
    assert re.search(r"^install: .*\$\(LAB_OVERRIDES\)", makefile, re.M)
    assert "share/jupyter/lab/settings/overrides.json" in (ROOT / "postBuild").read_text()
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():  # the book's own environment, as under make
        assert json.loads(installed.read_text()) == overrides
