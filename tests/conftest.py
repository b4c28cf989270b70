"""Fixtures shared by the test suite, named for what they give."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
SAMPLE_DIR = PROJECT_DIR / "sample_data"
# The public datasets sit beside the repository, not inside it.
REAL_DATA_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, for fixtures to read."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    """Keep every test away from the project's own data folder."""
    monkeypatch.setenv("TIERING_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def tmp_data_dir(tmp_path, monkeypatch) -> Path:
    """A temporary data folder, set as TIERING_DATA_DIR for this test."""
    monkeypatch.setenv("TIERING_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def duckdb_con():
    """An in-memory DuckDB connection, closed after the test."""
    con = duckdb.connect(":memory:")
    try:
        yield con
    finally:
        con.close()


def _bundled(name: str) -> Path:
    """Path of a file in sample_data/, failing clearly if it is absent."""
    path = SAMPLE_DIR / name
    if not path.exists():
        pytest.fail(f"{path} is missing; run: python sample_data/generate.py")
    return path


@pytest.fixture(scope="session")
def sample_clients_path() -> Path:
    """The bundled client workbook (sheet 客户名单, title row above header)."""
    return _bundled("clients.xlsx")


@pytest.fixture(scope="session")
def sample_transactions_path() -> Path:
    """The bundled transaction workbook (one row per purchase)."""
    return _bundled("transactions.xlsx")


@pytest.fixture(scope="session")
def default_standard_path() -> Path:
    """The bundled default tier standard (JSON)."""
    path = SAMPLE_DIR / "default_standard.json"
    if not path.exists():
        pytest.fail(f"{path} is missing; the default standard ships with the app")
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The public datasets (TIERING_REAL_DATA or ../shared/data/real)."""
    path = Path(os.environ.get("TIERING_REAL_DATA") or REAL_DATA_DEFAULT)
    if not path.is_dir():
        pytest.skip(f"public datasets not found at {path}; set TIERING_REAL_DATA")
    return path
