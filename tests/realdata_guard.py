"""The ``realdata`` rule of the test suite, as a pytest plugin (tests/conftest.py loads it).

A test that needs ../shared/data (the ``data_dir`` fixture, directly or through ``real_data`` or
any other fixture built on it) is marked ``realdata`` at collection, whether or not its module says
so. Without the data those tests skip, with a reason. With the data present (``data_present``, the
``data_dir`` fixture's own condition) a skipped ``realdata`` test is a failure: the session ends
with exit status 1 and a list of them, so CI on a machine with the data cannot pass while a
real-release test silently did not run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.config import default_data_dir

MARK = "realdata"
DATA_FIXTURES = frozenset({"data_dir", "real_data"})


def data_dir_path() -> Path:
    return default_data_dir()


def data_present() -> bool:
    """The reference data is there: the folder ../shared/data (or ``KG_DATA_DIR``) with its README.md."""
    return (data_dir_path() / "README.md").exists()


_skipped: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}: needs ../shared/data (skipped with a reason when absent)")
    _skipped.clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker(MARK) is None:
            item.add_marker(MARK)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and MARK in report.keywords:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.setdefault(report.nodeid, reason.removeprefix("Skipped: "))


def _offenders() -> dict[str, str]:
    return dict(_skipped) if data_present() else {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if _offenders() and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    offenders = _offenders()
    if not offenders:
        return
    terminalreporter.section("realdata tests skipped although the data is present", red=True, bold=True)
    terminalreporter.line(f"{data_dir_path()} is present, so every realdata test must run; these skipped:", red=True)
    for nodeid, reason in sorted(offenders.items()):
        terminalreporter.line(f"  {nodeid}: {reason}", red=True)
