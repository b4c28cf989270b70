"""Command line: score a client file with a standard and write the tiered list.

    python -m tiering score INPUT [--transactions FILE] [--sheet NAME]
        [--standard FILE] [--mapping FILE] [--row-ids] [--as-of YYYY-MM-DD]
        [--lang zh|en] [--verbose] --out OUT.xlsx|OUT.csv

A thin shell over the engine: parse the arguments, call ``tiering``, print
the clients per tier, and turn errors into one sentence. A problem the user
can fix (a ``TieringError``) exits with 2 and its message; anything else
exits with 1, a generic sentence and the details in the log. Logging is
configured here and nowhere else in the package.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import getpass
import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from tiering.errors import ExportError, InputFileError, TieringError
from tiering.export import ExportMeta, write_csv, write_issues_workbook, write_workbook
from tiering.i18n import DEFAULT_LANG, LANGS, describe_error, t
from tiering.ingest import RawTable, read_table
from tiering.mapping import Mapping, detect_mapping, load_mapping
from tiering.prepare import PreparedData, load_clients
from tiering.insight import build_insight_table
from tiering.scoring import ScoredResult, score_clients
from tiering.standard import Standard, load_standard

logger = logging.getLogger(__name__)

DEFAULT_STANDARD = (
    Path(__file__).resolve().parents[1] / "sample_data" / "default_standard.json"
)
OUTPUT_SUFFIXES = (".xlsx", ".csv")
EXIT_OK, EXIT_UNEXPECTED, EXIT_USER_ERROR = 0, 1, 2
# Fields only a client table has. A file with none of them, but with ids,
# dates and amounts where an id repeats, is read as one row per purchase.
_CLIENT_LEVEL_FIELDS = frozenset(
    {
        "purchase_count",
        "assets",
        "income",
        "debt",
        "debt_ratio",
        "credit_grade",
        "credit_score",
        "overdue_count",
        "interactions",
        "last_interaction_date",
        "satisfaction",
        "referrals",
        "motive",
        "decision_cycle_days",
    }
)
# A date header saying "latest" belongs to a client table (最近购买日期).
_LATEST_WORDS = re.compile(r"最近|最后|最新|末次|last|latest|recent", re.IGNORECASE)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m tiering``."""
    parser = argparse.ArgumentParser(
        prog="python -m tiering",
        description="Tiering Studio: tier the clients of a spreadsheet in batch.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a file and write the tiered list")
    score.add_argument(
        "input", type=Path, help="client or transaction file (.xlsx/.csv)"
    )
    score.add_argument("--transactions", type=Path, help="transaction file to join")
    score.add_argument("--sheet", help="sheet of INPUT to read (default: the first)")
    score.add_argument(
        "--standard", type=Path, default=DEFAULT_STANDARD, help="tier standard (JSON)"
    )
    score.add_argument("--mapping", type=Path, help="saved column mapping (JSON)")
    score.add_argument(
        "--row-ids",
        action="store_true",
        help="use row numbers as client ids (the file has no id column)",
    )
    score.add_argument("--as-of", help="as-of date YYYY-MM-DD (default: latest date)")
    score.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG)
    score.add_argument("--out", type=Path, required=True, help="OUT.xlsx or OUT.csv")
    score.add_argument("--verbose", action="store_true", help="log run details")
    from tiering.cli_manage import add_commands

    add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1 or 2)."""
    args = build_parser().parse_args(argv)
    held = _configure_logging(args.verbose)
    try:
        lines = getattr(args, "run", run_score)(args)
    except TieringError as error:
        logger.info("stopped: %s", error.key)
        if held is not None:  # the sentence below says it all (see README)
            held.buffer.clear()
        print(describe_error(error, args.lang), file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as error:
        # The traceback only with --verbose: users must not meet one, and an
        # exception's text may quote a cell, so by default only its type.
        logger.error(
            "unexpected failure: %s", type(error).__name__, exc_info=args.verbose
        )
        print(t("error.unexpected", args.lang), file=sys.stderr)
        return EXIT_UNEXPECTED
    finally:
        if held is not None:
            held.flush()
    print("\n".join(lines))
    return EXIT_OK


def _configure_logging(verbose: bool) -> logging.handlers.MemoryHandler | None:
    """Send log lines to stderr; without --verbose, hold them until the end.

    A problem the user can fix is logged as a warning where it is found (a
    mapping file that is no mapping), then told as one sentence: held lines
    are dropped then. Other runs still show their warnings (a bad setting in
    the environment) when they end; --verbose streams every line at once.
    """
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    if verbose:
        logging.basicConfig(level=logging.INFO, handlers=[console])
        return None
    held = logging.handlers.MemoryHandler(
        capacity=1_000, flushLevel=logging.CRITICAL + 1, target=console
    )
    logging.basicConfig(level=logging.WARNING, handlers=[held])
    return held


def run_score(args: argparse.Namespace) -> list[str]:
    """Score ``args.input`` and write ``args.out``; return the lines to print.

    Raises:
        TieringError: a file cannot be read or written, the mapping or
            standard does not fit, or an argument is invalid.
    """
    started = time.perf_counter()
    as_of = _parse_as_of(args.as_of)
    _check_output(args.out)
    _check_input(args.input)
    if args.transactions:
        _check_input(args.transactions)
    for path in (args.standard, args.mapping):
        _refuse_folder(path)

    standard = load_standard(args.standard)
    con = duckdb.connect()
    try:
        prepared, sheet = _load(con, args, as_of)
        result = score_clients(con, standard, lang=args.lang)
        # The next step, RFM class, CLV and follow-up date go out as columns.
        build_insight_table(con, standard, prepared.as_of, lang=args.lang)
        _write(con, standard, prepared, result, args, sheet)
        issues = _write_issues(prepared, args)
    finally:
        con.close()
    logger.info("score run finished in %.1f s", time.perf_counter() - started)
    _warn_skipped_metrics(result, standard, args.lang)
    return _summary_lines(result, prepared, args.lang) + issues


# As-of dates a workbook can show and recency can be counted to.
EARLIEST_AS_OF = dt.date(1900, 1, 1)
LATEST_AS_OF = dt.date(2099, 12, 31)


def _parse_as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        as_of = dt.date.fromisoformat(text)
    except ValueError:
        raise TieringError("export.error.as_of", value=text) from None
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise TieringError(
            "export.error.as_of_range", value=text,
            earliest=EARLIEST_AS_OF.isoformat(), latest=LATEST_AS_OF.isoformat(),
        )
    return as_of


def _check_output(out: Path) -> None:
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise TieringError("export.error.format", file=out.name)
    # Said before reading a million rows, not after.
    if not out.resolve().parent.is_dir():
        raise ExportError("export.error.write", file=out.name)


def _check_input(path: Path) -> None:
    _refuse_folder(path)
    if not path.is_file():
        raise InputFileError("export.error.input_missing", file=path.name)


def _refuse_folder(path: Path | None) -> None:
    if path is not None and path.is_dir():
        raise InputFileError("cli.error.folder", file=path.name or str(path))


def _load(
    con: duckdb.DuckDBPyConnection, args: argparse.Namespace, as_of: dt.date | None
) -> tuple[PreparedData, str | None]:
    """Read, map and load the input (and transactions) into ``con``."""
    saved = load_mapping(args.mapping) if args.mapping else None
    raw = read_table(
        args.input,
        filename=args.input.name,
        sheet=args.sheet or (saved.sheet if saved else None),
        header_row=saved.header_row if saved else None,
    )
    mapping = saved or detect_mapping(raw)
    if args.row_ids:
        mapping = dataclasses.replace(mapping, row_ids=True)
    transactions = transaction_mapping = None
    if args.transactions:
        transactions = read_table(args.transactions, filename=args.transactions.name)
        transaction_mapping = detect_mapping(transactions)
    shape = "auto" if transactions else input_shape(raw, mapping)
    prepared = load_clients(
        con,
        raw,
        mapping,
        transactions=transactions,
        transaction_mapping=transaction_mapping,
        as_of=as_of,
        shape=shape,
    )
    return prepared, raw.sheet


def input_shape(raw: RawTable, mapping: Mapping) -> str:
    """Return ``transactions`` when INPUT is plainly one row per purchase.

    That is: a client id, a date and an amount are mapped, no field that only
    a client table has is, the date's header does not say it is the latest
    one, and some client id occurs more than once. Otherwise ``auto`` leaves
    the decision to ``prepare.load_clients`` (ids repeating a lot).
    """
    fields = set(mapping.columns)
    if not {"client_id", "last_purchase_date", "amount"} <= fields:
        return "auto"
    if fields & _CLIENT_LEVEL_FIELDS or mapping.row_ids:
        return "auto"
    if _LATEST_WORDS.search(mapping.columns["last_purchase_date"]):
        return "auto"
    ids = raw.frame[mapping.columns["client_id"]].dropna()
    return "transactions" if ids.duplicated().any() else "auto"


def _write(
    con: duckdb.DuckDBPyConnection,
    standard: Standard,
    prepared: PreparedData,
    result: ScoredResult,
    args: argparse.Namespace,
    sheet: str | None,
) -> None:
    """Write the workbook or the CSV, by the output's extension."""
    if args.out.suffix.lower() == ".csv":
        write_csv(args.out, con, standard, lang=args.lang, prepared=prepared)
        return
    meta = ExportMeta(
        dataset_name=args.input.name,
        sheet=sheet,
        generated_by=_operator(),
        generated_at=dt.datetime.now().replace(microsecond=0),
        as_of=prepared.as_of,
    )
    write_workbook(args.out, con, standard, prepared, result, meta, lang=args.lang)


def _write_issues(prepared: PreparedData, args: argparse.Namespace) -> list[str]:
    """Say where the data issues are; beside a CSV, write them to a workbook.

    A CSV has no room for them, and every row not scored as it was read must
    be reported somewhere (ids as text, so a workbook, not another CSV).
    """
    lines = len(prepared.issues)
    if args.out.suffix.lower() != ".csv":
        if not lines:
            return []
        sheet = t("export.sheet.issues", args.lang)
        return [t("export.cli.issues_sheet", args.lang, lines=lines, sheet=sheet)]
    # Written on every run, none found included: a list left from an earlier
    # run to the same path would read as this run's.
    target = args.out.with_name(
        f"{args.out.stem}_{t('export.cli.issues_file', args.lang)}.xlsx"
    )
    write_issues_workbook(target, prepared, args.lang)
    key = "export.cli.issues_written" if lines else "export.cli.no_issues_written"
    return [t(key, args.lang, lines=lines, path=target)]


def _operator() -> str:
    """Return who runs the command, for the summary sheet ('' if unknown)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _summary_lines(
    result: ScoredResult, prepared: PreparedData, lang: str
) -> list[str]:
    """Return one line per tier, then the row accounting."""
    lines = [
        t("export.cli.tier_line", lang, tier=row.tier, clients=int(row.clients))
        for row in result.tier_counts.itertuples(index=False)
    ]
    lines.append(
        t(
            "export.cli.rows_line",
            lang,
            scored=result.rows_scored,
            excluded=prepared.rows_excluded,
            rejected=prepared.rows_rejected,
        )
    )
    if prepared.kind == "both":
        lines.append(
            t(
                "export.cli.transaction_rows_line",
                lang,
                loaded=prepared.transaction_rows_loaded,
                excluded=prepared.transaction_rows_excluded,
                rejected=prepared.transaction_rows_rejected,
            )
        )
    if result.rows_unscored:
        lines.append(t("export.cli.unscored_line", lang, unscored=result.rows_unscored))
    return lines


def _warn_skipped_metrics(
    result: ScoredResult, standard: Standard, lang: str
) -> None:
    """Say on stderr which metrics had no column: the tiers rest on the rest."""
    labels = {
        metric.key: standard.label(metric, lang) for _, metric in standard.metrics()
    }
    skipped = [
        labels.get(report.key, report.key)
        for report in result.metric_reports
        if not report.used
    ]
    if skipped:
        note = t(
            "export.cli.skipped_metrics",
            lang,
            skipped=len(skipped),
            total=len(result.metric_reports),
            metrics=t("cli.list_separator", lang).join(skipped),
        )
        print(note, file=sys.stderr)
