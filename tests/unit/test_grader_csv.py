"""`python -m tutorial_utils check DIR --csv FILE` grades a class: folders are searched for submissions, each file
belongs to a student, and the CSV has one row per student and one column per exercise (1 / 0 / empty)."""

import csv
import json
import os
from pathlib import Path


from book_tools import EXERCISES
from book_tools.cli import main
from book_tools.exercises.base import CheckResult
from book_tools.exercises.classlist import (
    Submission,
    class_table,
    csv_target_problem,
    find_submissions,
    write_csv,
)
from book_tools.exercises.grading import FileReport

TIMEOUT = 5
FUNCTIONS = [ex.function for ex in EXERCISES.values()]
HEADER = ["student", *FUNCTIONS, "passed", "file", "error"]
RIGHT_CAM = "def my_cam(f, W, c):\n    return (W[c][:, None, None] * f[0]).sum(0)\n"
WRONG_CAM = "def my_cam(f, W, c):\n    return (W[:, c][:, None, None] * f[0]).sum(0)   # transposed\n"
RIGHT_SECAM = """
import numpy as np
def my_secam(cam, segments):
    _, index = np.unique(segments, return_inverse=True)
    index = index.reshape(segments.shape)
    return (np.bincount(index.ravel(), cam.ravel()) / np.bincount(index.ravel()))[index]
"""


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _found(paths):
    return [(Path(s.path).relative_to(paths[0]).as_posix() if s.error is None else s.path, s.student, s.error)
            for s in find_submissions([str(p) for p in paths])]


def _read(path):
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    return rows[0], {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


# --------------------------------------------------------------------------- #
# Finding the submissions, and whose each one is
# --------------------------------------------------------------------------- #


def test_a_folder_is_searched_recursively_in_sorted_order_and_hidden_things_are_skipped(tmp_path):
    _tree(tmp_path, {
        "zoe.py": "", "ada.ipynb": "", "notes.txt": "", "data.csv": "", ".secret.py": "",
        "bob/week3/answers.ipynb": "",                       # nested: bob's, after the top subfolder
        "bob/.ipynb_checkpoints/answers-checkpoint.ipynb": "",
        ".ipynb_checkpoints/ada-checkpoint.ipynb": "",
        "__MACOSX/._zoe.py": "", ".git/hooks/pre-commit.py": "",
        "carl/carl.py": "",
    })
    assert _found([tmp_path]) == [
        ("ada.ipynb", "ada", None),
        ("bob/week3/answers.ipynb", "bob", None),
        ("carl/carl.py", "carl", None),
        ("zoe.py", "zoe", None),
    ]


def test_files_and_folders_mix_and_a_given_file_is_graded_whatever_its_name(tmp_path):
    folder = _tree(tmp_path / "class", {"ada.py": ""})
    given = _tree(tmp_path, {".ipynb_checkpoints/late-checkpoint.ipynb": ""}) / ".ipynb_checkpoints/late-checkpoint.ipynb"
    found = find_submissions([str(given), str(folder), str(tmp_path / "missing.py")])
    assert [(Path(s.path).name, s.student, s.error) for s in found] == [
        ("late-checkpoint.ipynb", "late-checkpoint", None), ("ada.py", "ada", None), ("missing.py", "missing", None)]


def test_a_folder_with_no_submission_is_an_error_that_names_it(tmp_path):
    empty = _tree(tmp_path / "class", {"notes.txt": "", ".ipynb_checkpoints/a.ipynb": ""})
    (found,) = find_submissions([str(empty)])
    assert found.error == f"{empty}: no .py or .ipynb submissions in this folder"


def test_a_students_files_make_one_row_and_a_double_attempt_is_named(tmp_path):
    """The student edition is a notebook per chapter: one student's files are merged into one row."""
    _tree(tmp_path, {"ada/03_cam.ipynb": "", "ada/05_secam.ipynb": "", "ada/06_grad_cam.ipynb": "", "bob.py": ""})
    subs = find_submissions([str(tmp_path)])
    assert [s.student for s in subs] == ["ada", "ada", "ada", "bob"]
    path = {Path(s.path).stem: s.path for s in subs}
    only = lambda ex_id, passed: [_result(i, passed, attempted=i == ex_id) for i in EXERCISES]  # noqa: E731
    reports = [FileReport(path["03_cam"], only("cam", True) + []),
               FileReport(path["05_secam"], [_result(i, i == "secam", attempted=i in ("secam", "cam")) for i in EXERCISES]),
               FileReport(path["06_grad_cam"], error=f"{path['06_grad_cam']}: failed to run: NameError: x"),
               FileReport(path["bob"], only("cam", True))]
    rows = class_table(subs, reports)
    table = {row[0]: dict(zip(HEADER, row)) for row in rows[1:]}
    assert list(table) == ["ada", "bob"]
    ada = table["ada"]
    # my_cam: right in 03, wrong in 05 -> 0, and the error column names both files.
    assert (ada["my_cam"], ada["my_secam"], ada["passed"]) == ("0", "1", "1")
    assert f"my_cam attempted in 2 files ({path['03_cam']}, {path['05_secam']})" in ada["error"]
    assert f"{path['06_grad_cam']}: failed to run: NameError: x" in ada["error"]
    assert ada["file"] == "; ".join(path[k] for k in ("03_cam", "05_secam", "06_grad_cam"))
    assert (table["bob"]["my_cam"], table["bob"]["passed"], table["bob"]["error"]) == ("1", "1", "")
    # Right in both files: 1.
    reports[1] = FileReport(path["05_secam"], [_result(i, True, attempted=i in ("secam", "cam")) for i in EXERCISES])
    ada = dict(zip(HEADER, class_table(subs, reports)[1]))
    assert (ada["my_cam"], ada["passed"]) == ("1", "2") and "my_cam attempted in 2 files" in ada["error"]


# --------------------------------------------------------------------------- #
# The table, from grading reports (no child process)
# --------------------------------------------------------------------------- #


def _result(ex_id, passed, attempted=True):
    return CheckResult(ex_id, passed, "", attempted=attempted)


def test_the_table_has_1_0_and_empty_for_right_wrong_and_not_attempted(tmp_path):
    _tree(tmp_path, {"ada.py": "", "bob.py": "", "carl.py": "", "=cmd.py": ""})
    subs = find_submissions([str(tmp_path)]) + [Submission(str(tmp_path / "gone.py"), "gone")]
    by_name = {Path(s.path).stem: s for s in subs}
    ids = list(EXERCISES)
    ada = FileReport(by_name["ada"].path, [_result(i, i == "cam", attempted=i in ("cam", "secam")) for i in ids])
    bob = FileReport(by_name["bob"].path, [_result(i, False, attempted=False) for i in ids])
    carl = FileReport(by_name["carl"].path, error=f"{by_name['carl'].path}: failed to run: NameError: x")
    cmd = FileReport(by_name["=cmd"].path, error=f"{by_name['=cmd'].path}: failed to run: ValueError: =1+1")
    gone = FileReport(by_name["gone"].path, error=f"{by_name['gone'].path}: no such file")
    reports = {"ada": ada, "bob": bob, "carl": carl, "=cmd": cmd, "gone": gone}
    rows = class_table(subs, [reports[Path(s.path).stem] for s in subs])
    assert rows[0] == HEADER
    table = {row[0]: dict(zip(HEADER, row)) for row in rows[1:]}
    assert list(table) == ["'=cmd", "ada", "bob", "carl"]  # no row for a path that does not exist
    assert table["ada"]["my_cam"] == "1" and table["ada"]["my_secam"] == "0" and table["ada"]["passed"] == "1"
    assert all(table["ada"][f] == "" for f in FUNCTIONS if f not in ("my_cam", "my_secam"))
    assert all(table["bob"][f] == "" for f in FUNCTIONS) and table["bob"]["passed"] == "0"
    # A file that fails to load was not graded: every exercise cell and the total are empty, and `error` says why.
    assert all(table["carl"][f] == "" for f in [*FUNCTIONS, "passed"])
    assert table["carl"]["error"] == "failed to run: NameError: x" and table["carl"]["file"] == by_name["carl"].path
    # Text a spreadsheet would run as a formula is quoted.
    assert table["'=cmd"]["error"] == "failed to run: ValueError: =1+1" and table["'=cmd"]["file"].startswith("/")


def test_where_the_csv_cannot_go(tmp_path):
    a_file = _tree(tmp_path, {"notes.txt": "x"}) / "notes.txt"
    assert csv_target_problem(str(tmp_path)) == f"{tmp_path}: cannot write the CSV there: it is a folder"
    assert csv_target_problem(str(tmp_path / "no/x.csv")) == \
        f"{tmp_path / 'no/x.csv'}: cannot write the CSV there: no such folder {tmp_path / 'no'}"
    assert csv_target_problem(str(a_file / "x.csv")) == \
        f"{a_file / 'x.csv'}: cannot write the CSV there: {a_file} is not a folder"
    assert csv_target_problem(str(tmp_path / "class.csv")) is None
    assert csv_target_problem("class.csv") is None  # in the working folder
    error = write_csv(str(a_file / "x.csv"), [], [])  # a failure while writing is a line too, not an exception
    assert error.startswith(f"{a_file / 'x.csv'}: cannot write the CSV: NotADirectoryError")


def test_a_folder_or_file_without_write_permission_is_refused(tmp_path, monkeypatch):
    """Asked of the system with os.access (told "no" here: root may write anywhere, and the tests may run as root)."""
    existing = _tree(tmp_path, {"old.csv": ""}) / "old.csv"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    assert csv_target_problem(str(tmp_path / "x.csv")) == f"{tmp_path / 'x.csv'}: cannot write the CSV there: permission denied"
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != existing)
    assert csv_target_problem(str(existing)).endswith("permission denied")
    assert csv_target_problem(str(tmp_path / "x.csv")) is None


# --------------------------------------------------------------------------- #
# The command
# --------------------------------------------------------------------------- #


def test_errors_found_before_grading_exit_2_and_write_nothing(tmp_path, capsys):
    class_ = _tree(tmp_path / "class", {"ada/x.py": ""})
    out = tmp_path / "class.csv"
    assert main(["check", str(class_ / "ada/x.py"), "--csv", str(tmp_path / "no/class.csv")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'no/class.csv'}: cannot write the CSV there: " \
                                      f"no such folder {tmp_path / 'no'}\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty), "--csv", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {empty}: no .py or .ipynb submissions in this folder\n"
    assert _read(out) == (HEADER, {})  # nothing graded, an empty table


def test_a_class_folder_to_csv_with_the_console_summary(tmp_path, capsys):
    class_ = _tree(tmp_path / "class", {
        "ada.py": RIGHT_CAM + RIGHT_SECAM,
        "bob/submission/work.py": WRONG_CAM,               # bob's folder, one level deeper
        "bob/.ipynb_checkpoints/work-checkpoint.py": RIGHT_CAM,
        "carl.py": "import numpy\nraise ValueError('carl forgot a cell')\n" + RIGHT_CAM,
        "notes.txt": "not a submission",
    })
    out = tmp_path / "grades.csv"
    assert main(["check", str(class_), "--csv", str(out), "--timeout", str(TIMEOUT), "--jobs", "2"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {class_ / 'carl.py'}: failed to run: ValueError: carl forgot a cell\n"
    assert captured.out.startswith(f"{class_ / 'ada.py'}\n") and f"{class_ / 'bob/submission/work.py'}\n" in captured.out
    assert "checkpoint" not in captured.out and f"2 of {len(EXERCISES)} exercises attempted (--all lists the others), 2 right." \
        in captured.out
    header, table = _read(out)
    assert header == HEADER and list(table) == ["ada", "bob", "carl"]
    assert table["ada"]["my_cam"] == table["ada"]["my_secam"] == "1" and table["ada"]["passed"] == "2"
    assert table["bob"]["my_cam"] == "0" and table["bob"]["my_secam"] == "" and table["bob"]["passed"] == "0"
    assert table["bob"]["file"] == str(class_ / "bob/submission/work.py") and table["bob"]["error"] == ""
    assert all(table["carl"][f] == "" for f in [*FUNCTIONS, "passed"])
    assert table["carl"]["error"] == "failed to run: ValueError: carl forgot a cell"
    assert out.read_bytes().count(b"\r\n") == 4  # the csv module's line ends, one a row


def test_csv_and_json_together(tmp_path, capsys):
    right = _tree(tmp_path, {"ada.py": RIGHT_CAM}) / "ada.py"
    out = tmp_path / "grades.csv"
    out.write_text("an older table\n")
    assert main(["check", str(right), "--csv", str(out), "--json", "--timeout", str(TIMEOUT)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["function"] for r in records if r["passed"]] == ["my_cam"]
    header, table = _read(out)
    assert table["ada"]["my_cam"] == "1" and table["ada"]["passed"] == "1"


def test_a_file_that_attempts_nothing_has_not_passed(tmp_path, capsys):
    """The student edition as handed out (stubs only) exits 1, not 0; one right answer beside it exits 0."""
    stub = _tree(tmp_path, {"stub.py": "def my_cam(f, W, c):\n    ...\n"}) / "stub.py"
    assert main(["check", str(stub)]) == 1
    assert f"0 of {len(EXERCISES)} exercises attempted" in capsys.readouterr().out
    right = _tree(tmp_path, {"right.py": "def my_cam(f, W, c):\n    return (W[c][:, None, None] * f[0]).sum(0).numpy()\n"})
    assert main(["check", str(right / "right.py")]) == 0
    assert main(["check", str(right / "right.py"), str(stub)]) == 1
