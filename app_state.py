"""App-side state shared by the pages: the session's workspace and caches.

The engine (``tiering``) knows nothing of Streamlit; this module keeps what a
browser session holds between reruns (its DuckDB connection, the loaded
table, the draft standard, the last scores) and decides which scoring steps a
change needs: a metric edit reruns all three, a weight change the composite
and tiers, a cut-off change only the tiers.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import duckdb
import streamlit as st

from tiering import config
from tiering.errors import TieringError
from tiering.i18n import describe_error, t
from tiering.ingest import RawTable, head_rows, read_table
from tiering.mapping import Mapping, detect_mapping
from tiering.prepare import Duplicates, PreparedData, load_clients
from tiering.scoring import (
    CompositeIndex,
    GateGroups,
    MetricArrays,
    MetricReport,
    ScoredResult,
    assign_tiers,
    compose_scores,
    composite_index,
    count_tiers_indexed,
    histogram_indexed,
    read_gate_groups,
    tier_lines_indexed,
    read_metric_arrays,
    score_clients,
    score_metrics,
)
from tiering.snapshots import apply_overrides as apply_scored_overrides
from tiering.standard import Standard, load_standard
from tiering.store import Store, open_store

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
    # For slider moves, in memory: the metric scores and gate groups, kept
    # until the metrics or the gates change; the composites counted from
    # them, kept until the weights change too (see scoring.composite_index).
    metric_arrays: MetricArrays | None = None
    gate_groups: GateGroups | None = None
    index: CompositeIndex | None = None
    index_key: str = ""
    # The composite histogram, from the index: kept until the index changes.
    histogram: Any = None
    dataset_id: int | None = None  # the stored copy of this data, once saved
    # What the draft started from: the bundled default, a stored version
    # chosen or just published, or a file loaded (see ``set_standard``).
    origin: Standard | None = None

    def __post_init__(self) -> None:
        if self.origin is None:
            self.origin = self.standard


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
        st.session_state["workspace"] = Workspace(standard=_starting_standard())
    return st.session_state["workspace"]


def _starting_standard() -> Standard:
    """The standard a new session starts from: the latest published one.

    Before anything is published, or when the store cannot be read, the
    bundled default (read from its file; nothing is published by looking).
    """
    try:
        published = store().published_standard()
    except TieringError as error:
        logger.warning("new session on the bundled standard: %s", error.key)
        published = None
    return published or load_standard(config.default_standard_path())


READS_KEPT = 4


def read_cached(
    content: bytes,
    filename: str,
    sheet: str | None,
    header_row: int | None,
    identity: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RawTable:
    """Read a file once per upload, sheet and header row; kept in the session.

    ``identity`` names the upload (Streamlit's file id); without it the
    content's digest does. Not ``st.cache_data``: a hit there hashes the
    whole file and unpickles the table, about 0.7 s and 300 MB on every
    rerun at a million rows, and its replay rules forbid a progress bar.
    """
    reads = st.session_state.setdefault("reads", {})
    key = (identity or hashlib.sha1(content).hexdigest(), filename, sheet, header_row)
    if key not in reads:
        reads[key] = read_table(
            content, filename=filename, sheet=sheet, header_row=header_row,
            progress=progress,
        )
        while len(reads) > READS_KEPT:
            reads.pop(next(iter(reads)))
    return reads[key]


def progress_bar() -> Callable[[str, int, int], None]:
    """A progress bar and the engine callback that moves it: (step, done, total)."""
    bar = st.progress(0.0, text=tr("progress.read"))

    def report(step: str, done: int, total: int) -> None:
        share = min(done / total, 1.0) if total else 0.0
        if step in ("read", "load", "score"):
            key = f"progress.{step}"
        else:
            key = "progress.write"
        bar.progress(share, text=tr(key, step=step, done=done, total=total))

    return report


def head_cached(
    content: bytes, filename: str, sheet: str | None, identity: str | None = None
) -> Any:
    """The first rows of an uploaded file as they stand, for the header choice."""
    heads = st.session_state.setdefault("heads", {})
    key = (identity or hashlib.sha1(content).hexdigest(), filename, sheet)
    if key not in heads:
        heads[key] = head_rows(content, filename=filename, sheet=sheet)
        while len(heads) > READS_KEPT:
            heads.pop(next(iter(heads)))
    return heads[key]


def load_dataset(
    raw: RawTable,
    mapping: Mapping | None = None,
    transactions: RawTable | None = None,
    transaction_mapping: Mapping | None = None,
    duplicates: Duplicates = "latest",
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Load a read table into a fresh DuckDB connection and score it.

    ``duplicates`` is the policy for repeated client ids (``latest``,
    ``first`` or ``stop``); ``progress`` hears (step, done, total).

    Raises:
        TieringError: the mapping or the data cannot be used.
    """
    ws = workspace()
    started = time.perf_counter()
    mapping = mapping or (detect_mapping(raw) if raw is not None else None)
    if transactions is not None:
        transaction_mapping = transaction_mapping or detect_mapping(transactions)
    con = duckdb.connect()
    try:
        prepared = load_clients(
            con, raw, mapping, transactions=transactions,
            transaction_mapping=transaction_mapping, duplicates=duplicates,
            progress=progress,
        )
    except BaseException:
        con.close()  # a refused load leaves the current dataset as it was
        raise
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
    ws.dataset_id = None
    if progress:
        progress("score", 0, 3)
    ensure_scored()
    if progress:
        progress("score", 3, 3)


def load_sample() -> None:
    """Load the bundled client workbook (and its transactions)."""
    path = config.sample_clients_path()
    raw = read_cached(path.read_bytes(), path.name, None, None)
    load_dataset(raw)


def set_standard(standard: Standard, reset_widgets: bool = False) -> None:
    """Make ``standard`` the session's draft: an edit, or a new draft if reset.

    ``reset_widgets`` is for a standard set as a whole (a file loaded, a
    stored version chosen or just published): the widgets get new keys, so
    they start from its values, and later edits are measured against it.
    """
    ws = workspace()
    ws.standard = standard
    if reset_widgets:
        ws.origin = standard
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
    # CLV parameters change the derived clv field that step 1 may score.
    metrics.append(data.get("clv"))
    return {
        "metrics": _signature(metrics),
        "weights": _signature(weights),
        "tiers": _signature(tiers),
    }


def ensure_metrics() -> None:
    """Rerun step 1 of scoring if the standard changed what it uses."""
    ws = workspace()
    if ws.con is None:
        return
    wanted = scoring_signatures(ws.standard)
    if ws.signatures.get("metrics") != wanted["metrics"]:
        ws.reports = score_metrics(ws.con, ws.standard)
        ws.signatures = {"metrics": wanted["metrics"]}
        _forget_slider_data(ws)


def _forget_slider_data(ws: Workspace) -> None:
    """Drop what slider moves keep in memory, after the metrics were rescored."""
    ws.metric_arrays = ws.gate_groups = ws.index = None


def ensure_metrics_and_composite() -> None:
    """Rerun steps 1 and 2 of scoring if the standard changed what they use."""
    ws = workspace()
    if ws.con is None:
        return
    ensure_metrics()
    wanted = scoring_signatures(ws.standard)
    if ws.signatures.get("weights") != wanted["weights"]:
        compose_scores(ws.con, ws.standard)
        ws.signatures["weights"] = wanted["weights"]
        ws.signatures.pop("tiers", None)


def ensure_scored() -> ScoredResult | None:
    """Bring the ``scored`` table up to date with the draft standard."""
    ws = workspace()
    if ws.con is None:
        return None
    wanted = scoring_signatures(ws.standard)
    if ws.signatures.get("metrics") != wanted["metrics"]:
        # Nothing to reuse (new data or metrics): all steps in one pass.
        ws.result = score_clients(ws.con, ws.standard, lang())
        ws.reports = ws.result.metric_reports
        ws.signatures = dict(wanted)
        _forget_slider_data(ws)
        apply_overrides()
        return ws.result
    ensure_metrics_and_composite()
    if ws.signatures.get("tiers") != wanted["tiers"] or ws.result is None:
        ws.result = assign_tiers(ws.con, ws.standard, ws.reports, lang())
        apply_overrides()
        ws.signatures["tiers"] = wanted["tiers"]
    return ws.result


def scored_or_stop() -> ScoredResult:
    """Return the current scores, or stop the page with a sentence.

    For pages that show results: no data loaded, or a standard that cannot
    be applied, ends the page here with the reason.
    """
    if workspace().con is None:
        st.info(tr("app.no_data"))
        st.stop()
    try:
        result = ensure_scored()
    except Exception as error:  # one exit for errors: show_error
        show_error(error)
        st.stop()
    return result


def tier_counts(standard: Standard) -> Any:
    """Clients per tier for ``standard``, for the sliders.

    Counted on the composites held in memory (``scoring.CompositeIndex``),
    read once per weight, metric or gate change; a cut-off or quota move
    runs no SQL.
    """
    return count_tiers_indexed(composite_index_for(standard), standard)


def composite_index_for(standard: Standard) -> CompositeIndex:
    """The session's composite index, rebuilt when it no longer fits.

    A weight move rebuilds it in numpy from the metric scores held in
    memory, without SQL and without storing the composite; ``ensure_scored``
    stores it when a page needs the tiers of every client.
    """
    ensure_metrics()
    ws = workspace()
    wanted = scoring_signatures(standard)
    key = _signature((wanted["weights"], standard.to_dict()["gates"]))
    if ws.index is None or ws.index_key != key:
        if ws.metric_arrays is None:
            ws.metric_arrays = read_metric_arrays(ws.con)
        if ws.gate_groups is None or ws.gate_groups.gates != standard.gates:
            ws.gate_groups = read_gate_groups(ws.con, standard)
        ws.index = composite_index(ws.metric_arrays, ws.gate_groups, standard)
        ws.index_key = key
        ws.histogram = None
    return ws.index


def tier_lines(standard: Standard) -> list[float | None]:
    """Where each tier starts on the composite for ``standard`` (quota lines)."""
    return tier_lines_indexed(composite_index_for(standard), standard)


def histogram() -> Any:
    """Composite histogram of the current scores (2-point bands).

    A cut-off move reuses it; only a weight, metric or gate change
    recomputes it, from the composite index.
    """
    ws = workspace()
    index = composite_index_for(ws.standard)
    if ws.histogram is None:
        ws.histogram = histogram_indexed(index, HISTOGRAM_WIDTH)
    return ws.histogram


def to_bytes(writer: Any, *args: Any, **kwargs: Any) -> bytes:
    """Run a writer that takes a binary target and return what it wrote."""
    buffer = io.BytesIO()
    writer(buffer, *args, **kwargs)
    return buffer.getvalue()


# --- dynamic management: the shared database ---------------------------------


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    """One store per database file and process, shared by every session."""
    return open_store(path)


def store() -> Store:
    """The database of versions, snapshots, overrides and the audit log.

    Raises:
        StoreError: the file cannot be opened.
    """
    return _open_store(str(config.database_path()))


def apply_overrides() -> None:
    """Apply the manual overrides to the session's ``scored`` table."""
    ws = workspace()
    try:
        frame = store().overrides()
    except TieringError as error:
        logger.warning("overrides not applied: %s", error.key)
        st.warning(tr("manage.overrides_unavailable"))
        return
    if apply_scored_overrides(ws.con, frame, ws.standard, lang()):
        counts = ws.con.execute(
            "SELECT tier_rank, count(*) FROM scored WHERE tier_rank IS NOT NULL "
            "GROUP BY tier_rank"
        ).fetchall()
        tiers = ws.result.tier_counts.copy()
        tiers["clients"] = [dict(counts).get(i, 0) for i in range(len(tiers))]
        ws.result = replace(ws.result, tier_counts=tiers)


def refresh_overrides() -> None:
    """Re-cut tiers on the next ``ensure_scored`` (after an override change)."""
    workspace().signatures.pop("tiers", None)


def stored_dataset_id() -> int:
    """Save the session's data in the store once, and return its id."""
    ws = workspace()
    if ws.dataset_id is None:
        source = ws.raw if ws.raw is not None else ws.transactions
        ws.dataset_id = store().save_dataset(
            ws.con, ws.dataset_name, current_user(),
            sheet=getattr(source, "sheet", None),
            mapping=ws.mapping.to_dict() if ws.mapping is not None else None,
            as_of=ws.prepared.as_of, kind=ws.prepared.kind,
        )
    return ws.dataset_id


def published_standard() -> Standard:
    """The published standard; the bundled default is published as v1 if none."""
    published = store().published_standard()
    if published is None:
        default = load_standard(config.default_standard_path())
        published = store().publish(default, current_user(), tr("manage.first_publish"))
    return published


StandardState = Literal["published", "edited", "unpublished"]


def standard_edited() -> bool:
    """Whether the draft differs from the standard it started from.

    Only the workspace is read, no store: cheap enough for every slider move.
    """
    ws = workspace()
    return _rules(ws.standard) != _rules(ws.origin)


def _rules(standard: Standard) -> dict[str, Any]:
    # The note is the publisher's comment, not a rule.
    return {**standard.to_dict(), "note": ""}


def standard_state() -> StandardState:
    """How the draft stands against the published versions.

    ``edited``: changed since it started (see ``standard_edited``);
    ``unpublished``: unchanged, but no published version has its name,
    number and rules (a file loaded); ``published``: otherwise, and also
    when the store cannot be read, so nothing is claimed without knowing.
    """
    if standard_edited():
        return "edited"
    standard = workspace().standard
    try:
        stored = _stored_version(standard.name, standard.version)
    except TieringError as error:
        logger.warning("publication of the standard unknown: %s", error.key)
        return "published"
    if stored is None or _rules(stored) != _rules(standard):
        return "unpublished"
    return "published"


def _stored_version(name: str, version: int) -> Standard | None:
    """The published standard ``name`` ``version``, or None if there is none.

    Before anything is published, the bundled default stands as v1, read
    from its file: only looking, as the sidebar does on every page, must
    not publish it.

    Raises:
        StoreError: the store cannot be opened.
    """
    database = store()
    if database.published_standard() is None:
        default = load_standard(config.default_standard_path())
        same = (default.name, default.version) == (name, version)
        return default if same else None
    published = [
        v for v in database.versions(name)
        if v.version == version and v.status == "published"
    ]
    return database.load_version(name, version) if published else None


def standard_version(state: StandardState | None = None) -> str:
    """The draft's version as pages show it after a "v", with its state.

    A draft changed since it started, or a file never published, was never
    published under that number, so it is not shown as if it were. A page
    that already has ``standard_state()`` passes it, saving a store read.
    """
    version = str(workspace().standard.version)
    state = state or standard_state()
    if state != "published":
        version += tr(f"app.standard.{state}")
    return version


def export_recorder(kind: str) -> Callable[[], None]:
    """Return a function that adds an export of ``kind`` to the audit log.

    Who, what and the store are read now, in the script run: a download's
    data function runs later outside it, where session state is not readable.
    """
    ws = workspace()
    who = current_user()
    details = {
        "format": kind, "dataset": ws.dataset_name,
        "standard": ws.standard.name, "version": ws.standard.version,
    }

    try:
        database = store()
    except TieringError as error:
        logger.warning("export will not be audited: %s", error.key)
        return lambda: None

    def record() -> None:
        try:
            database.record("export", who, details)
        except duckdb.Error as error:
            logger.warning("export not audited: %s", type(error).__name__)

    return record



def ensure_insight(split: Any = None) -> None:
    """Build the ``insight`` table (next steps, RFM classes, CLV, follow-ups).

    Scoring drops the table when tiers are recut, so it is rebuilt then, or
    when the RFM split, the language or the playbook changed.
    """
    from tiering.insight import RfmSplit, build_insight_table

    ws = workspace()
    if ensure_scored() is None:
        return
    split = split or st.session_state.get("insight_split") or RfmSplit()
    key = (repr(split), lang(), _signature(ws.standard.to_dict().get("playbook")))
    exists = ws.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'insight'"
    ).fetchall()[0][0]
    if exists and st.session_state.get("insight_key") == key:
        return
    build_insight_table(ws.con, ws.standard, ws.prepared.as_of, lang(), split)
    st.session_state["insight_key"] = key
    st.session_state["insight_split"] = split
