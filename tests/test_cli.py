"""The command line fails in one line: ``ibtheory: error: ...`` on stderr, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ibtheory.cli import main

ROOT = Path(__file__).resolve().parents[1]
JOINT = np.array([[0.3, 0.1], [0.15, 0.45]])


@pytest.fixture
def joint_csv(tmp_path: Path) -> Path:
    path = tmp_path / "joint.csv"
    np.savetxt(path, JOINT, delimiter=",")
    return path


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "taken"
    path.write_text("not a folder")
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ibtheory: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], err
    return lines[0]


def _commands(out: str, joint: Path) -> dict[str, list[str]]:
    return {
        "curve": ["curve", str(joint), "--betas", "1,2", "--out", out],
        "derive": ["derive", "ib", "--out", out],
        "derive-all": ["derive", "--all", "--out", out],
        "reproduce": ["reproduce", "--quick", "--no-progress", "--only", "gaussian_ib_vs_dual", "--out", out],
        "sweep": ["sweep", "ib-curves", "--quick", "--no-progress", "--out", out],
        "ntk-info": ["ntk-info", "--out", out],
    }


COMMANDS = ["curve", "derive", "derive-all", "reproduce", "sweep", "ntk-info"]


@pytest.mark.parametrize("command", COMMANDS)
def test_out_that_is_an_existing_file(command: str, a_file: Path, joint_csv: Path, capsys) -> None:
    assert main(_commands(str(a_file), joint_csv)[command]) == 2
    _one_error_line(capsys, str(a_file), "is an existing file, not a folder")


@pytest.mark.parametrize("command", COMMANDS)
def test_out_under_a_file(command: str, a_file: Path, joint_csv: Path, capsys) -> None:
    out = a_file / "sub" / "dir"
    assert main(_commands(str(out), joint_csv)[command]) == 2
    _one_error_line(capsys, str(out), f"{a_file} is a file, not a folder")
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["curve", "derive", "reproduce"])
def test_out_whose_folder_cannot_be_created(command: str, tmp_path: Path, joint_csv: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "new"
    real_mkdir = Path.mkdir

    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        if self == out:
            raise PermissionError(13, "Permission denied", str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)  # a read-only parent, also when the tests run as root
    assert main(_commands(str(out), joint_csv)[command]) == 2
    _one_error_line(capsys, str(out), "cannot create the folder", "Permission denied")


@pytest.mark.parametrize("command", ["curve", "derive", "reproduce"])
def test_out_that_is_not_writable(command: str, tmp_path: Path, joint_csv: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: make the check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == out else real_access(p, mode))
    try:
        assert main(_commands(str(out), joint_csv)[command]) == 2
    finally:
        out.chmod(0o700)
    _one_error_line(capsys, str(out), "not writable")


def test_missing_parents_are_created(tmp_path: Path, capsys) -> None:
    out = tmp_path / "a" / "b"
    assert main(["derive", "ib", "--out", str(out)]) == 0
    assert (out / "ib.md").read_text().startswith("#")


def test_a_write_error_after_the_checks_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    real_write_text = Path.write_text

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.parent == tmp_path:
            raise OSError(28, "No space left on device", str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["derive", "ib", "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "No space left on device", "ib.md")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", "could not read"),
        (b"garbage that is not an npy file at all", "could not read"),
    ],
    ids=["empty", "truncated-header", "corrupt"],
)
def test_unreadable_npy_joint_is_one_line(content: bytes, problem: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "joint.npy"
    path.write_bytes(content)
    assert main(["curve", str(path), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, str(path), problem)


def test_truncated_npy_data_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "joint.npy"
    np.save(path, JOINT)
    path.write_bytes(path.read_bytes()[:-8])  # the last entry cut off
    assert main(["curve", str(path), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, str(path))


def test_pickled_npy_is_refused_not_unpickled(tmp_path: Path, capsys) -> None:
    path = tmp_path / "joint.npy"
    np.save(path, np.array([[0.5, object()]], dtype=object), allow_pickle=True)
    assert main(["curve", str(path), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, str(path), "allow_pickle=False")


def test_npz_passed_as_npy_and_complex_joint_are_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "joint.npy"
    with open(path, "wb") as f:
        np.savez(f, p=JOINT)
    assert main(["curve", str(path), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, str(path), "npz archive")
    np.save(path, JOINT.astype(complex))
    assert main(["curve", str(path), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, "must be real; got complex dtype")


def test_entry_point_prints_no_traceback(a_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ibtheory.cli", "derive", "ib", "--out", str(a_file)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"ibtheory: error: --out {a_file}: is an existing file, not a folder"]


def test_a_failing_analysis_still_writes_the_report_of_the_others(tmp_path: Path, capsys, monkeypatch) -> None:
    from ibtheory.report import ANALYSES, Section

    def fine(out: Path, quick: bool, seed: int) -> Section:
        (out / "fine.csv").write_text("a\n1\n")
        return Section(title="Fine analysis", summary="ran", settings={"seed": seed}, data=["fine.csv"])

    def broken(out: Path, quick: bool, seed: int) -> Section:
        raise ZeroDivisionError("a bug in one analysis")

    monkeypatch.setitem(ANALYSES, "fine_one", fine)
    monkeypatch.setitem(ANALYSES, "broken_one", broken)
    out = tmp_path / "report"
    argv = ["reproduce", "--no-progress", "--only", "broken_one", "--only", "fine_one", "--out", str(out)]
    assert main(argv) == 1
    line = _one_error_line(capsys, "analysis 'broken_one' failed", "ZeroDivisionError: a bug in one analysis",
                           "1 finished", str(out / "report.html"))
    assert "fine_one" not in line
    report = (out / "report.md").read_text()
    assert "## Fine analysis" in report  # ran after the failed one
    assert "broken_one (FAILED)" in report and "ZeroDivisionError" in report
    assert (out / "report.html").exists()
