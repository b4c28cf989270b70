"""App-side state shared by the pages: the session's workspace and caches.

The engine (``tiering``) knows nothing of Streamlit; this module keeps what a
browser session holds between reruns (its DuckDB connection, the loaded
table, the draft standard, the last scores) and decides which scoring steps a
change needs: a metric edit reruns all three, a weight change the composite
and tiers, a cut-off change only the tiers.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import streamlit as st

from tiering import config
from tiering.errors import TieringError
from tiering.i18n import describe_error, t
from tiering.ingest import RawTable, read_table
from tiering.mapping import Mapping, detect_mapping
from tiering.prepare import PreparedData, load_clients
from tiering.scoring import (
    MetricReport,
    ScoredResult,
    assign_tiers,
    compose_scores,
    composite_histogram,
    score_metrics,
)
from tiering.standard import Standard, load_standard

logger = logging.getLogger(__name__)

HISTOGRAM_WIDTH = 2.0


@dataclass
class Workspace:
    """Everything one browser session works on."""

    con: duckdb.DuckDBPyConnection | None = None
    raw: RawTable | None = None
    transactions: RawTable | None = None
    mapping: Mapping | None = None
    transaction_mapping: Mapping | None = None
    prepared: PreparedData | None = None
    dataset_name: str = ""
    load_seconds: float = 0.0
    standard: Standard | None = None
    standard_token: int = 0
    reports: tuple[MetricReport, ...] = ()
    result: ScoredResult | None = None
    signatures: dict[str, str] = field(default_factory=dict)


def lang() -> str:
    """The language chosen in the sidebar (Chinese by default)."""
    return st.session_state.get("lang", "zh")


def tr(key: str, **facts: Any) -> str:
    """Translate ``key`` into the session's language."""
    return t(key, lang(), **facts)


def current_user() -> str:
    """The name the user typed in the sidebar: the one place identity is read."""
    return st.session_state.get("user_name", "").strip() or tr("app.user.anonymous")


def show_error(error: BaseException) -> None:
    """Show ``error`` as a sentence in the user's language; log the details.

    The single exit for errors on every page.
    """
    if isinstance(error, TieringError):
        logger.warning("user-facing error %s", error.key)
    else:
        logger.exception("unexpected error on a page")
    st.error(describe_error(error, lang()), icon="⚠️")


def workspace() -> Workspace:
    """Return this session's workspace, creating it (with the standard) once."""
    if "workspace" not in st.session_state:
        st.session_state["workspace"] = Workspace(
            standard=load_standard(config.SAMPLE_DATA_DIR / "default_standard.json")
        )
    return st.session_state["workspace"]


@st.cache_data(max_entries=4, show_spinner=False)
def read_cached(
    content: bytes, filename: str, sheet: str | None, header_row: int | None
) -> RawTable:
    """Read an uploaded file once per content, sheet and header row."""
    return read_table(content, filename=filename, sheet=sheet, header_row=header_row)


def load_dataset(
    raw: RawTable,
    mapping: Mapping | None = None,
    transactions: RawTable | None = None,
    transaction_mapping: Mapping | None = None,
) -> None:
    """Load a read table into a fresh DuckDB connection and score it.

    Raises:
        TieringError: the mapping or the data cannot be used.
    """
    ws = workspace()
    started = time.perf_counter()
    mapping = mapping or (detect_mapping(raw) if raw is not None else None)
    if transactions is not None:
        transaction_mapping = transaction_mapping or detect_mapping(transactions)
    con = duckdb.connect()
    prepared = load_clients(
        con, raw, mapping, transactions=transactions,
        transaction_mapping=transaction_mapping,
    )
    if ws.con is not None:
        ws.con.close()
    ws.con, ws.raw, ws.mapping = con, raw, mapping
    ws.transactions, ws.transaction_mapping = transactions, transaction_mapping
    ws.prepared = prepared
    source = raw if raw is not None else transactions
    ws.dataset_name = source.source_name
    ws.load_seconds = time.perf_counter() - started
    ws.signatures = {}
    ws.result = None
    ensure_scored()


def load_sample() -> None:
    """Load the bundled client workbook (and its transactions)."""
    path = config.sample_clients_path()
    raw = read_cached(path.read_bytes(), path.name, None, None)
    load_dataset(raw)


def set_standard(standard: Standard, reset_widgets: bool = False) -> None:
    """Make ``standard`` the session's draft; new widget keys if reset."""
    ws = workspace()
    ws.standard = standard
    if reset_widgets:
        ws.standard_token += 1


def _signature(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def scoring_signatures(standard: Standard) -> dict[str, str]:
    """What each scoring step depends on, as comparable text."""
    data = standard.to_dict()
    metrics = [
        {k: v for k, v in metric.items() if k not in ("weight", "label")}
        for dimension in data["dimensions"]
        for metric in dimension["metrics"]
    ]
    weights = [
        (d["key"], d["weight"], [(m["key"], m["weight"]) for m in d["metrics"]])
        for d in data["dimensions"]
    ]
    tiers = (data["tiers"], data["tier_mode"], data["gates"], lang())
    return {
        "metrics": _signature(metrics),
        "weights": _signature(weights),
        "tiers": _signature(tiers),
    }


def ensure_metrics_and_composite() -> None:
    """Rerun steps 1 and 2 of scoring if the standard changed what they use."""
    ws = workspace()
    if ws.con is None:
        return
    wanted = scoring_signatures(ws.standard)
    if ws.signatures.get("metrics") != wanted["metrics"]:
        ws.reports = score_metrics(ws.con, ws.standard)
        ws.signatures = {"metrics": wanted["metrics"]}
    if ws.signatures.get("weights") != wanted["weights"]:
        compose_scores(ws.con, ws.standard)
        ws.signatures["weights"] = wanted["weights"]
        ws.signatures.pop("tiers", None)


def ensure_scored() -> ScoredResult | None:
    """Bring the ``scored`` table up to date with the draft standard."""
    ws = workspace()
    if ws.con is None:
        return None
    ensure_metrics_and_composite()
    wanted = scoring_signatures(ws.standard)
    if ws.signatures.get("tiers") != wanted["tiers"] or ws.result is None:
        ws.result = assign_tiers(ws.con, ws.standard, ws.reports, lang())
        ws.signatures["tiers"] = wanted["tiers"]
    return ws.result


def histogram() -> Any:
    """Composite histogram of the current scores (2-point bands)."""
    ensure_metrics_and_composite()
    return composite_histogram(workspace().con, HISTOGRAM_WIDTH)


def to_bytes(writer: Any, *args: Any, **kwargs: Any) -> bytes:
    """Run a writer that takes a binary target and return what it wrote."""
    buffer = io.BytesIO()
    writer(buffer, *args, **kwargs)
    return buffer.getvalue()
