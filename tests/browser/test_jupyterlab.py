"""The chapters as a student meets them: JupyterLab in headless Chromium, Run All.

`make test` starts the project's own `jupyter lab` (with jupyterlab-myst) on
localhost, over a copy of notebooks/ in a temporary folder (Run All and
autosave must not write outputs into the repository), and for every chapter:

- opens it, runs all cells, and waits until the kernel is done;
- finds no error output in any cell (cells tagged raises-exception excepted);
- shows the predict-then-check answer only inside a closed toggle (innerText of a
  closed ``<details>`` leaves out its content);
- reads every rendered Markdown cell: no MyST role left raw (``{eval}``,
  ``{glue:text}``, ``{cite}``, ``{doc}`` ...), no citation JupyterLab could not
  resolve, and every ``{eval}`` expression evaluated without error (jupyterlab-myst
  records each result in the cell's metadata, and shows an error in red);
- keeps a screenshot of the chapter's summary in test-artifacts/jupyterlab/.

Chapter 05's SeCAM explorer must respond: moving its threshold slider changes
the picture. Every chapter runs live (the whole run takes a few minutes on two
cores; ``make test`` prints the time). The settings overrides of
book/jupyterlab/overrides.json are installed by ``make`` and checked here: no news
prompt appears.

Without Chromium these tests fail (see conftest.py); CAM_BOOK_SKIP_BROWSER=1
skips them on a machine that cannot run it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from book_layout import CODE_LIKE_VALUE, ROOT

from browser_support import CHROMIUM_ARGS, chromium_path, missing

ARTIFACTS = Path(os.environ.get("CAM_BOOK_ARTIFACTS", ROOT / "test-artifacts")) / "jupyterlab"
CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
CHAPTER_TIMEOUT_S = 900
RAW_ROLE = re.compile(r"\{(?:eval|glue(?::\w+)?|cite(?::\w+)?|doc|ref|numref|term|eq|download)\}`")

# The state of the open notebook, read from JupyterLab's own models.
STATE = r"""
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content || !panel.content.model) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [];
  const model = panel.content.model;
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    const widget = panel.content.widgets[i];
    const tags = cell.getMetadata('tags') || [];
    if (cell.type === 'code') {
      const outputs = cell.outputs.toJSON();
      cells.push({
        i, type: 'code', count: cell.executionCount, tags,
        pending: widget.node.querySelector('.jp-InputArea-prompt').textContent.includes('*'),
        errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`.slice(0, 300)),
        predicts: cell.sharedModel.getSource().includes('check_prediction(prediction'),
        answers: Array.from(widget.node.querySelectorAll('.jp-OutputArea details.cam-book-answer'))
          .map(d => ({open: d.open, shown: (widget.node.querySelector('.jp-OutputArea') || {}).innerText || ''})),
      });
    } else if (cell.type === 'markdown') {
      const rendered = widget.node.querySelector('.jp-MarkdownOutput, .myst');
      cells.push({
        i, type: 'markdown', source: cell.sharedModel.getSource(),
        text: rendered ? rendered.innerText : null,
        expressions: cell.getMetadata('user_expressions') || [],
        shown_errors: rendered ? rendered.querySelectorAll('[data-mime-type*="stderr"], [data-mime-type*="error"]').length : 0,
        unresolved: rendered ? Array.from(rendered.querySelectorAll('[title="Citation Not Found"]')).map(e => e.innerText) : [],
      });
    }
  }
  return {kernel: kernel ? kernel.status : 'none', cells};
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url():
    if missing():
        yield None  # conftest.py fails each test with the reason
        return
    root = Path(tempfile.mkdtemp(prefix="cam-book-lab-"))
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_PREFER_ENV_PATH="1", CAM_BOOK_PROGRESS="summary")
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root / 'notebooks'}", f"--IdentityProvider.token={token}",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"jupyter lab did not start: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if missing():
        yield None
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, lab, chapter: str, offsite: list):
    url, token = lab
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(60_000)

    def route(r):  # JupyterLab must work offline: nothing may leave localhost
        host = urllib.parse.urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            offsite.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{url}/lab/tree/{chapter}?reset&token={token}")
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle' }",
        timeout=120_000,
    )
    return page


def _run_all(page) -> dict:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.time() + CHAPTER_TIMEOUT_S
    quiet_since = None
    while time.time() < deadline:
        time.sleep(1.0)
        state = page.evaluate(STATE)
        busy = state["kernel"] != "idle" or any(c["type"] == "code" and c["pending"] for c in state["cells"])
        if busy:
            quiet_since = None
            continue
        quiet_since = quiet_since or time.time()
        if time.time() - quiet_since > 3:  # idle for a while: Run All is over (or stopped at an error)
            return page.evaluate(STATE)
    raise AssertionError(f"Run All did not finish within {CHAPTER_TIMEOUT_S} s")


def _problems(state: dict) -> list[str]:
    problems = []
    for c in state["cells"]:
        if c["type"] == "code":
            if c["errors"] and "raises-exception" not in c["tags"]:
                problems.append(f"cell {c['i']}: error output {c['errors'][0]}")
            if c["count"] is None and "raises-exception" not in c["tags"]:
                problems.append(f"cell {c['i']}: never ran (Run All stopped before it)")
            if c["predicts"]:  # predict-then-check: the answer waits in a closed toggle
                if len(c["answers"]) != 1 or c["answers"][0]["open"]:
                    problems.append(f"cell {c['i']}: the prediction cell shows no closed answer toggle: {c['answers']}")
                elif "The answer:" in c["answers"][0]["shown"]:
                    problems.append(f"cell {c['i']}: the prediction cell's answer is visible before it is asked for")
            continue
        if c["text"] is None:
            problems.append(f"cell {c['i']}: Markdown not rendered")
            continue
        raw = RAW_ROLE.findall(c["text"])
        if raw:
            problems.append(f"cell {c['i']}: raw MyST left in the rendered text: {raw[:3]}")
        if c["unresolved"]:
            problems.append(f"cell {c['i']}: citations JupyterLab could not resolve: {c['unresolved']}")
        wanted = len(re.findall(r"\{eval\}`", c["source"]))
        results = [e.get("result", {}) for e in c["expressions"]]
        failed = [f"{e['expression']} -> {r.get('ename')}: {r.get('evalue')}"
                  for e, r in zip(c["expressions"], results) if r.get("status") != "ok"]
        if len(results) != wanted:
            problems.append(f"cell {c['i']}: {wanted} {{eval}} roles but {len(results)} results")
        if failed or c["shown_errors"]:
            problems.append(f"cell {c['i']}: {{eval}} errors: {failed or c['shown_errors']}")
        texts = [r.get("data", {}).get("text/plain", "").strip("'\"") for r in results if r.get("status") == "ok"]
        bad = [t for t in texts if CODE_LIKE_VALUE.search(t)]
        if bad:
            problems.append(f"cell {c['i']}: quoted values that read as code: {bad}")
    return problems


def _screenshot_summary(page, chapter: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    index = page.evaluate(
        """() => { const nb = window.jupyterapp.shell.currentWidget.content;
        const cells = nb.model.cells; let found = cells.length - 1;
        for (let i = 0; i < cells.length; i++) {
          const s = cells.get(i).sharedModel.getSource();
          if (cells.get(i).type === 'markdown' && /^#+\\s*(Summary|What we learnt|In short)/mi.test(s)) found = i;
        }
        nb.activeCellIndex = found; nb.scrollToItem(found, 'start'); return found; }"""
    )
    time.sleep(1.5)
    page.screenshot(path=str(ARTIFACTS / f"{Path(chapter).stem}.png"))
    return index


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_and_reads_right_in_jupyterlab(lab_url, browser, chapter):
    offsite = []
    page = _open(browser, lab_url, chapter, offsite)
    try:
        started = time.time()
        state = _run_all(page)
        elapsed = time.time() - started
        problems = _problems(state)
        _screenshot_summary(page, chapter)
        news = page.locator("text=official Jupyter news").count()
        assert not news, "JupyterLab asks about news: the settings overrides (make install) are missing"
        assert not problems, f"{chapter} after Run All in JupyterLab ({elapsed:.0f} s):\n" + "\n".join(problems)
        assert not offsite, f"JupyterLab asked for resources off localhost: {sorted(set(offsite))[:5]}"
        evaluated = sum(len(c["expressions"]) for c in state["cells"] if c["type"] == "markdown")
        print(f"{chapter}: Run All in {elapsed:.0f} s, {evaluated} values quoted in the prose")
        if chapter.startswith("05_"):
            _check_explorer_responds(page)
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
        time.sleep(1)
        page.close()


def _check_explorer_responds(page) -> None:
    """Moving the threshold slider of the SecamExplorer redraws its picture."""
    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text="threshold"))
    assert slider.count() == 1, "chapter 05 shows no SecamExplorer threshold slider in JupyterLab"
    slider.scroll_into_view_if_needed()
    # The explorer's outermost box: the controls (two columns) above the picture (an <img> in an HTML widget).
    box = page.locator(".widget-vbox", has=slider).first
    picture = box.locator(".widget-html img").first
    before = picture.get_attribute("src")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    box.screenshot(path=str(ARTIFACTS / "05_explorer_before.png"))
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(8):  # 8 steps of 0.05: threshold 0.4
        page.keyboard.press("ArrowRight")
    deadline = time.time() + 30
    while picture.get_attribute("src") == before and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(1)
    after = picture.get_attribute("src")
    box.screenshot(path=str(ARTIFACTS / "05_explorer_after.png"))
    assert after and after != before, "moving the explorer's threshold slider did not change its picture"
