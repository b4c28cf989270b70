"""Command line for dynamic management: ``snapshot`` and ``compare``.

    python -m tiering snapshot INPUT --as-of DATE [--db PATH] [--standard FILE]
    python -m tiering compare SNAPSHOT_A SNAPSHOT_B --out report.xlsx [--db PATH]

``snapshot`` loads INPUT as ``score`` does, keeps its client rows as a
dataset in the database, scores them with the published standard (the
default standard is published as version 1 when none is; a ``--standard``
file is published as a new version when it differs from the one in force)
and stores the run. ``compare`` writes the comparison workbook. Both are
registered by ``tiering.cli`` and share its error handling.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import duckdb

from tiering.errors import TieringError
from tiering.i18n import DEFAULT_LANG, LANGS, t

# The note stored with a standard published by the command line.
CLI_NOTE = "python -m tiering snapshot"


def add_commands(commands: Any) -> None:
    """Add the ``snapshot`` and ``compare`` subcommands to ``commands``."""
    snapshot = commands.add_parser("snapshot", help="score a file and store the run")
    snapshot.add_argument("input", type=Path, help="client or transaction file")
    snapshot.add_argument("--as-of", required=True, help="as-of date YYYY-MM-DD")
    snapshot.add_argument("--db", type=Path, help="database file (default: data folder)")
    snapshot.add_argument("--standard", type=Path, help="tier standard (JSON)")
    snapshot.add_argument("--transactions", type=Path, help="transaction file to join")
    snapshot.add_argument("--sheet", help="sheet of INPUT to read")
    snapshot.add_argument("--mapping", type=Path, help="saved column mapping (JSON)")
    snapshot.add_argument("--row-ids", action="store_true", help="row numbers as ids")
    _common(snapshot)
    snapshot.set_defaults(run=run_snapshot)

    compare = commands.add_parser("compare", help="compare two stored snapshots")
    compare.add_argument("snapshot_a", type=int, help="earlier snapshot id")
    compare.add_argument("snapshot_b", type=int, help="later snapshot id")
    compare.add_argument("--out", type=Path, required=True, help="report .xlsx")
    compare.add_argument("--db", type=Path, help="database file (default: data folder)")
    _common(compare)
    compare.set_defaults(run=run_compare)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG)
    parser.add_argument("--verbose", action="store_true", help="log run details")


def run_snapshot(args: argparse.Namespace) -> list[str]:
    """Load, store and snapshot ``args.input``; return the lines to print.

    Raises:
        TieringError: a file, the date, the standard or the database is unusable.
    """
    from tiering import cli
    from tiering.snapshots import take_snapshot
    from tiering.store import open_store

    as_of = cli._parse_as_of(args.as_of)
    cli._check_input(args.input)
    if args.transactions:
        cli._check_input(args.transactions)
    con = duckdb.connect()
    try:
        prepared, sheet = cli._load(con, args, as_of)
        store = open_store(args.db)
        try:
            standard = _standard_in_force(store, args.standard)
            dataset_id = store.save_dataset(
                con, args.input.name, cli._operator() or CLI_NOTE, sheet=sheet,
                mapping=prepared.mapping.to_dict(), as_of=as_of, kind=prepared.kind,
            )
            info = take_snapshot(
                store, dataset_id, standard, as_of, cli._operator() or CLI_NOTE, args.lang
            )
            counts = _tier_counts(store, info.id, standard)
        finally:
            store.close()
    finally:
        con.close()
    lines = [t("manage.cli.snapshot", args.lang, id=info.id, clients=info.clients,
               name=standard.name, version=standard.version)]
    lines += [t("export.cli.tier_line", args.lang, tier=tier, clients=n) for tier, n in counts]
    return lines


def _standard_in_force(store: Any, path: Path | None) -> Any:
    """The published standard; publish the file or the default when needed."""
    from tiering import cli
    from tiering.standard import load_standard

    author = cli._operator() or CLI_NOTE
    if path is None:
        published = store.published_standard()
        if published is not None:
            return published
        return store.publish(load_standard(cli.DEFAULT_STANDARD), author, CLI_NOTE)
    wanted = load_standard(path)
    published = store.published_standard(wanted.name)
    if published is not None and _same_rule(published, wanted):
        return published
    return store.publish(wanted, author, f"{CLI_NOTE}: {path.name}")


def _same_rule(a: Any, b: Any) -> bool:
    first, second = a.to_dict(), b.to_dict()
    for data in (first, second):
        data.pop("version"), data.pop("note")
    return first == second


def _tier_counts(store: Any, snapshot_id: int, standard: Any) -> list[tuple[str, int]]:
    rows = store.snapshot_results(snapshot_id).column("tier").to_pylist()
    return [(name, rows.count(name)) for name in standard.tier_names()]


def run_compare(args: argparse.Namespace) -> list[str]:
    """Compare two snapshots and write the workbook; return the lines to print.

    Raises:
        TieringError: a snapshot does not exist, or the file cannot be written.
    """
    from tiering.snapshots import compare, write_comparison
    from tiering.store import open_store

    if args.out.suffix.lower() != ".xlsx":
        raise TieringError("manage.cli.out_xlsx", file=args.out.name)
    store = open_store(args.db)
    try:
        comparison = compare(store, args.snapshot_a, args.snapshot_b, args.lang)
    finally:
        store.close()
    write_comparison(args.out, comparison, args.lang)
    both = int(comparison.matrix.to_numpy().sum())
    return [
        t("manage.cli.compare", args.lang, both=both,
          up=len(comparison.upgraded), down=len(comparison.downgraded),
          new=len(comparison.new), lost=len(comparison.lost), file=args.out.name)
    ]
