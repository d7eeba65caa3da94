"""The browser test is required: it needs Debian's Chromium and Playwright's Python driver.

Where either is missing, every browser test FAILS with a message saying what is
missing and how to install it; the rest of the run (notebooks, site checks) goes
on. A machine that cannot run Chromium opts out explicitly with
CAM_BOOK_SKIP_BROWSER=1: the browser tests are then skipped, with a banner at the
start and at the end of the run.
"""

import os

import pytest

from browser_support import SKIP_ENV, missing, opted_out


def _browser_items(items):
    return [item for item in items if "tests/browser" in item.nodeid.replace(os.sep, "/")]


def pytest_collection_modifyitems(config, items):
    browser_items = _browser_items(items)
    if not browser_items:
        return
    if opted_out():
        reason = f"BROWSER TEST SKIPPED: {SKIP_ENV}={os.environ[SKIP_ENV]} opts out; the website was not checked in a browser"
        banner = "\n" + "!" * 78 + f"\n!! {reason}\n" + "!" * 78
        print(banner)
        config._cam_book_browser_banner = banner
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=reason))
        return
    problem = missing()
    if problem is not None:
        config._cam_book_browser_problem = problem
        config._cam_book_browser_banner = (
            "\n" + "!" * 78 + f"\n!! BROWSER TEST FAILED, it cannot run here: {problem}\n" + "!" * 78
        )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    # Fail in the test itself (not at collection, which would stop the whole run).
    # The fixtures of test_browser.py do not start a browser when one is missing.
    # (A conftest's runtest hooks apply only to the tests of its own directory.)
    problem = getattr(pyfuncitem.config, "_cam_book_browser_problem", None)
    if problem is not None:
        pytest.fail(f"BROWSER TEST CANNOT RUN: {problem}", pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    banner = getattr(config, "_cam_book_browser_banner", None)
    if banner:
        terminalreporter.write_line(banner, red=True, bold=True)
