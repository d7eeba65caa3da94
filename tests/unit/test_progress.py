"""book_tools.progress: a live bar, one summary line, or nothing."""

import re

import pytest

from book_tools import PROGRESS_ENV, progress


def test_summary_prints_one_line_after_the_loop(capsys):
    seen = []
    for item in progress(range(4), desc="counting", mode="summary"):
        seen.append(item)
        assert capsys.readouterr().out == ""  # nothing while the loop runs
    assert seen == [0, 1, 2, 3]
    out = capsys.readouterr().out
    assert re.fullmatch(r"counting: 4/4 steps in \d+\.\d s\n", out)


def test_summary_of_a_generator_without_length(capsys):
    assert list(progress((i for i in range(3)), mode="summary")) == [0, 1, 2]
    assert re.fullmatch(r"done: 3 steps in \d+\.\d s\n", capsys.readouterr().out)


def test_off_returns_the_iterable_itself(capsys):
    items = [1, 2]
    assert progress(items, mode="off") is items
    assert capsys.readouterr().out == ""


def test_bar_is_tqdm(monkeypatch):
    from tqdm.auto import tqdm

    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    bar = progress(range(3), desc="x")
    assert isinstance(bar, tqdm) and bar.total == 3
    assert list(bar) == [0, 1, 2]


def test_environment_variable_chooses_the_mode(monkeypatch, capsys):
    monkeypatch.setenv(PROGRESS_ENV, "summary")
    list(progress(range(2), desc="env"))
    assert capsys.readouterr().out.startswith("env: 2/2 steps")


def test_bad_modes_name_their_source(monkeypatch):
    with pytest.raises(ValueError, match=r"^mode must be one of bar, summary, off; got 'loud'"):
        progress([], mode="loud")
    monkeypatch.setenv(PROGRESS_ENV, "verbose")
    with pytest.raises(ValueError, match=r"\$CAM_BOOK_PROGRESS must be one of"):
        progress([])
