"""Settings read from environment variables, with safe defaults.

Each function reads its variable when called, not at import, so a test can
change the environment with ``monkeypatch`` and the app picks up a new value
on its next run. A value that cannot be used (not a number, zero, negative)
is logged and replaced by the default rather than stopping the app.

| variable              | default                 | meaning                        |
|-----------------------|-------------------------|--------------------------------|
| TIERING_DATA_DIR      | ``<project>/data``      | folder for the DuckDB database |
| TIERING_MAX_UPLOAD_MB | 200                     | largest file a user may upload |
| TIERING_MAX_ROWS      | 2,000,000               | most data rows read per table  |
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1]
SAMPLE_DATA_DIR = PROJECT_DIR / "sample_data"

DEFAULT_MAX_UPLOAD_MB = 200
# Twice an Excel sheet's limit (1,048,576 rows): DuckDB copes with far more,
# but a browser session holding the preview and the scores should not.
DEFAULT_MAX_ROWS = 2_000_000
DATABASE_FILE_NAME = "tiering.duckdb"


def _positive_int(name: str, default: int) -> int:
    """Return the environment variable ``name`` as a positive int, or default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default

    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        logger.warning("%s is not a whole number; using %d", name, default)
        return default

    if value <= 0:
        logger.warning("%s must be above zero; using %d", name, default)
        return default
    return value


def max_upload_mb() -> int:
    """Return the upload size limit in megabytes (``TIERING_MAX_UPLOAD_MB``)."""
    return _positive_int("TIERING_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)


def max_rows() -> int:
    """Return the most data rows read from one table (``TIERING_MAX_ROWS``)."""
    return _positive_int("TIERING_MAX_ROWS", DEFAULT_MAX_ROWS)


def data_dir() -> Path:
    """Return the folder that holds what must last (``TIERING_DATA_DIR``).

    Defaults to ``<project>/data``. A relative path is taken from the current
    working directory. The folder is not created here; see ``ensure_data_dir``.
    """
    raw = os.environ.get("TIERING_DATA_DIR", "").strip()
    if not raw:
        return PROJECT_DIR / "data"
    return Path(raw).expanduser().resolve()


def ensure_data_dir() -> Path:
    """Create the data folder if needed and return it.

    Raises:
        OSError: the folder cannot be created (a file in the way, no rights).
    """
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_path() -> Path:
    """Return the path of the DuckDB database file inside the data folder."""
    return data_dir() / DATABASE_FILE_NAME


def sample_clients_path() -> Path:
    """Return the bundled sample client workbook."""
    return SAMPLE_DATA_DIR / "clients.xlsx"


def sample_transactions_path() -> Path:
    """Return the bundled sample transaction workbook."""
    return SAMPLE_DATA_DIR / "transactions.xlsx"


def default_standard_path() -> Path:
    """Return the bundled default tier standard (JSON)."""
    return SAMPLE_DATA_DIR / "default_standard.json"
