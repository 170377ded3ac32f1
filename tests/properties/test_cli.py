"""Properties of the command line (ibtheory.cli.main), issue 21 deliverable 5.

Every expected failure (a malformed joint file, bad --betas, an unusable --out) is one line
``ibtheory: error: ...`` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibtheory.cli import main
from ibtheory.testing import MALFORMED_KINDS, malformed_value

from ._cases import case, count_refusal

JOINT = np.array([[0.2, 0.1], [0.1, 0.3], [0.25, 0.05]])


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, command: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 2, (code, err)
    assert err.startswith("ibtheory: error:") and "\n" not in err and "Traceback" not in err, err
    count_refusal(command)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from([*MALFORMED_KINDS, "empty", "negative", "unnormalised", "wrong_ndim"]), fmt=st.sampled_from(["npy", "csv"]))
def test_curve_refuses_malformed_joint_files_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, fmt: str) -> None:
    value = malformed_value(kind, JOINT)
    path = tmp_path / f"joint.{fmt}"
    if fmt == "npy" and isinstance(value, np.ndarray):
        np.save(path, value)
    elif isinstance(value, np.ndarray) and value.ndim <= 2 and value.dtype.kind == "f":
        path.write_text("\n".join(",".join(repr(float(v)) for v in row) for row in np.atleast_2d(value)))
    else:  # text, None, objects, complex and 3-D arrays as a file of their text
        path.write_text(str(value))
    with case("cli curve"):
        one_line_error(capsys, main(["curve", str(path), "--betas", "1,2", "--out", str(tmp_path / "out")]), "cli curve")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.sampled_from(["0:1:5", "1:0:5", "a", "1,,2", "nan", "inf", "-1", "1e400", "1:2:0", "1:2:1.5", "", "1:2", ":::"]))
def test_curve_refuses_bad_betas_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str) -> None:
    path = tmp_path / "joint.npy"
    np.save(path, JOINT)
    with case("cli curve"):
        one_line_error(capsys, main(["curve", str(path), "--betas", spec, "--out", str(tmp_path / "out")]), "cli curve")


@pytest.mark.parametrize("command", [["curve", "JOINT", "--betas", "1,2"], ["derive", "--all"]])
@pytest.mark.parametrize("out", ["file", "under-file", "missing-parent-file"])
def test_unusable_out_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], out: str) -> None:
    joint = tmp_path / "joint.npy"
    np.save(joint, JOINT)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    target = {"file": blocker, "under-file": blocker / "out", "missing-parent-file": blocker / "a" / "b"}[out]
    argv = [str(joint) if a == "JOINT" else a for a in command] + ["--out", str(target)]
    with case(f"cli {command[0]}"):
        one_line_error(capsys, main(argv), f"cli {command[0]}")


@pytest.mark.parametrize("argv", [["ntk-info", "--data", "missing.npz"], ["ntk-info", "--n-train", "0"], ["sweep", "nope", "--out", "x", "--dry-run"]])
def test_other_commands_refuse_bad_arguments_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    argv = [a if a != "x" else str(tmp_path / "x") for a in argv]
    if argv[0] == "ntk-info":
        argv = [*argv, "--out", str(tmp_path / "o")]
    with case(f"cli {argv[0]}"):
        one_line_error(capsys, main(argv), f"cli {argv[0]}")
