"""tests/realdata_guard.py: with the data present, a skipped realdata test fails the run.

Each case runs pytest in a subprocess on a small test file written here, with the guard as its
only plugin and ``KG_DATA_DIR`` pointing at a folder made here (present: it has a README.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INNER = """
import pytest


@pytest.fixture
def data_dir():
    pytest.skip("pretend a release file is missing")


@pytest.fixture
def loaded(data_dir):
    return data_dir


@pytest.mark.realdata
def test_marked_and_skipped():
    pytest.skip("pretend a release is not loaded")


def test_uses_the_data_fixture(data_dir):
    pass


def test_reaches_the_data_through_another_fixture(loaded):
    pass


def test_skipped_for_another_reason():
    pytest.skip("no docker here")


def test_runs():
    assert True
"""


def _run(tmp_path: Path, data: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "inner").mkdir(exist_ok=True)
    test_file = tmp_path / "inner" / "test_inner.py"
    test_file.write_text(INNER)
    ini = tmp_path / "inner" / "pytest.ini"
    ini.write_text("[pytest]\naddopts = --strict-markers\n")
    env = {**os.environ, "KG_DATA_DIR": str(data)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.realdata_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rs",
            "-c",
            str(ini),
            "--rootdir",
            str(tmp_path / "inner"),
            str(test_file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_data_realdata_skips_are_allowed(tmp_path: Path) -> None:
    result = _run(tmp_path, tmp_path / "absent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 4 skipped" in result.stdout
    assert "skipped although the data is present" not in result.stdout


def test_with_the_data_a_realdata_skip_fails_the_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "README.md").write_text("reference data\n")
    result = _run(tmp_path, data)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout.split("skipped although the data is present", 1)[1]
    # the marked test and those auto-marked through data_dir (directly or not); not the other skip
    assert "test_inner.py::test_marked_and_skipped: pretend a release is not loaded" in summary
    assert "test_inner.py::test_uses_the_data_fixture: pretend a release file is missing" in summary
    assert "test_inner.py::test_reaches_the_data_through_another_fixture: pretend" in summary
    assert "test_skipped_for_another_reason" not in summary
