"""The browser test needs Debian's Chromium and Playwright's Python driver.

Where either is missing the test is skipped with a loud message, except under
CI (CI=true), where a missing browser fails the run: CI must prove the website.
"""

import os

import pytest

from browser_support import CHROMIUM_ENV, chromium_path


def _missing() -> str | None:
    if chromium_path() is None:
        return ("Chromium is not installed (Debian: apt-get install chromium; "
                f"or point {CHROMIUM_ENV} at a Chromium binary)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (make install installs it)"
    return None


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if "tests/browser" in item.nodeid.replace(os.sep, "/")]
    problem = _missing() if browser_items else None
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(f"BROWSER TEST CANNOT RUN UNDER CI: {problem}")
    banner = "\n" + "!" * 78 + f"\n!! BROWSER TEST SKIPPED: {problem}\n" + "!" * 78
    print(banner)
    config._cam_book_browser_skip = banner
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=f"BROWSER TEST SKIPPED: {problem}"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    banner = getattr(config, "_cam_book_browser_skip", None)
    if banner:
        terminalreporter.write_line(banner, red=True, bold=True)
