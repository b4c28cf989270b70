"""Time Tiering Studio's pipeline against a naive baseline, on the same files.

Every (engine, step, size) is measured in its own subprocess: the worker does
the step's set-up untimed (e.g. reading and scoring before a re-cut), then
times the step itself with ``time.perf_counter`` and prints the seconds. The
parent reads the worker's peak memory (max RSS, set-up included) from
``os.wait4``. Each cell of the table is the median over N runs, the
engines taking turns run by run; at 1M the export and the whole path run
once (minutes each).

Ours: ``tiering.ingest.read_table`` → ``prepare.load_clients`` →
``scoring`` (DuckDB SQL) → ``export.write_workbook`` / ``write_csv``.
Baseline (what a typical tiering app does): openpyxl (through
``pandas.read_excel``) to read, ``pd.qcut`` plus row-wise ``apply`` to score
and tier, openpyxl (through ``DataFrame.to_excel``) to write the same sheets
(all clients, one sheet per tier; bold frozen header, autofilter).

    .venv/bin/python bench/generate.py
    .venv/bin/python bench/run.py --sizes 10k,100k [--runs 3] [--data bench/data]

Run by hand, never from the test suite.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
STANDARD = ROOT / "sample_data" / "default_standard.json"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

STEPS = [
    ("read_xlsx", "read .xlsx"),
    ("read_csv", "read .csv"),
    ("load", "load into DuckDB (parse, type)"),
    ("score", "score all metrics and tier"),
    ("recut", "re-cut after a cut-off change"),
    ("reweight", "re-score after a weight change"),
    ("write_xlsx", "write the export workbook"),
    ("write_csv", "write CSV"),
    ("whole", "whole path: upload .xlsx → export .xlsx"),
]
# The baseline has no separate load: pandas types the columns while reading.
BASELINE_STEPS = {"read_xlsx", "read_csv", "score", "recut", "reweight",
                  "write_xlsx", "write_csv", "whole"}
FASTEST_STEPS = {"read_xlsx", "read_csv"}


# --- ours --------------------------------------------------------------------


def _ours_loaded(path: Path):
    import duckdb

    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients

    raw = read_table(path)
    con = duckdb.connect()
    prepared = load_clients(con, raw, detect_mapping(raw))
    return con, prepared


def _standard():
    from tiering.standard import load_standard

    return load_standard(STANDARD)


def _changed(standard, what: str):
    from tiering.standard import Standard

    data = copy.deepcopy(standard.to_dict())
    if what == "cut":
        data["tiers"][0]["min_score"] = data["tiers"][0]["min_score"] - 5
    else:
        data["dimensions"][0]["weight"] = data["dimensions"][0]["weight"] + 10
    return Standard.from_dict(data)


def _write_ours(con, standard, prepared, result, target) -> None:
    from tiering.export import ExportMeta, write_workbook

    meta = ExportMeta(dataset_name="bench", generated_by="bench")
    write_workbook(target, con, standard, prepared, result, meta)


def ours(step: str, xlsx: Path, csv: Path, out: Path) -> float:
    """Run one of our steps; return its seconds (set-up not counted)."""
    from tiering.export import write_csv
    from tiering.ingest import read_table
    from tiering.mapping import detect_mapping
    from tiering.prepare import load_clients
    from tiering.scoring import (
        composite_index,
        count_tiers_indexed,
        histogram_indexed,
        read_gate_groups,
        read_metric_arrays,
        score_clients,
    )

    import duckdb

    standard = _standard()
    if step in ("read_xlsx", "read_csv"):
        path = xlsx if step == "read_xlsx" else csv
        started = time.perf_counter()
        read_table(path)
        return time.perf_counter() - started
    if step == "load":
        raw = read_table(csv)
        con = duckdb.connect()
        started = time.perf_counter()
        load_clients(con, raw, detect_mapping(raw))
        return time.perf_counter() - started
    if step == "whole":
        started = time.perf_counter()
        raw = read_table(xlsx)
        con = duckdb.connect()
        prepared = load_clients(con, raw, detect_mapping(raw))
        result = score_clients(con, standard)
        _write_ours(con, standard, prepared, result, out)
        return time.perf_counter() - started

    con, prepared = _ours_loaded(csv)
    if step == "score":
        started = time.perf_counter()
        score_clients(con, standard)
        return time.perf_counter() - started
    result = score_clients(con, standard)
    if step in ("recut", "reweight"):
        # What the standard page holds once it has drawn the standard: the
        # metric scores and gate groups in memory, and the composite index.
        arrays = read_metric_arrays(con)
        groups = read_gate_groups(con, standard)
        index = composite_index(arrays, groups, standard)
    if step == "recut":
        # A cut-off move: counts and the histogram from the index.
        changed = _changed(standard, "cut")
        started = time.perf_counter()
        count_tiers_indexed(index, changed)
        histogram_indexed(index)
        return time.perf_counter() - started
    if step == "reweight":
        # A weight move: a new index composed in numpy, then counts and
        # the histogram.
        changed = _changed(standard, "weight")
        started = time.perf_counter()
        index = composite_index(arrays, groups, changed)
        count_tiers_indexed(index, changed)
        histogram_indexed(index)
        return time.perf_counter() - started
    if step == "write_xlsx":
        started = time.perf_counter()
        _write_ours(con, standard, prepared, result, out)
        return time.perf_counter() - started
    if step == "write_csv":
        started = time.perf_counter()
        write_csv(out, con, standard)
        return time.perf_counter() - started
    raise ValueError(step)


# --- the fastest maintained readers alone --------------------------------------


def fastest(step: str, xlsx: Path, csv: Path, out: Path) -> float:
    """Read with the fastest maintained reader alone, typing as it likes.

    fastexcel (calamine in Rust, Arrow out) for .xlsx and pyarrow's CSV
    reader: the reference for the read targets, not a competitor.
    """
    import fastexcel
    import pyarrow.csv as pacsv

    started = time.perf_counter()
    if step == "read_xlsx":
        fastexcel.read_excel(xlsx).load_sheet(0).to_arrow()
    elif step == "read_csv":
        pacsv.read_csv(csv)
    else:
        raise ValueError(step)
    return time.perf_counter() - started


# --- the naive baseline ------------------------------------------------------

TEXT_COLUMNS = {"客户编号": str, "手机号": str, "身份证号": str}


def _naive_read_xlsx(path: Path):
    import pandas as pd

    return pd.read_excel(path, engine="openpyxl", dtype=TEXT_COLUMNS)


def _naive_read_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype=TEXT_COLUMNS)


def _naive_metric(frame, metric, as_of):
    """One metric scored the way a typical app does it: qcut and apply."""
    import pandas as pd

    field = {"recency_days": "最近购买日期", "purchase_count": "购买次数",
             "amount": "累计金额", "assets": "资产", "credit_grade": "信用等级",
             "overdue_count": "逾期次数", "debt_ratio": "负债率",
             "interactions": "互动次数",
             "interaction_recency_days": "最近互动日期", "satisfaction": "满意度",
             "referrals": "推荐人数", "motive": "购房动机",
             "decision_cycle_days": "决策周期"}[metric["field"]]
    values = frame[field]
    if metric["field"].endswith("recency_days"):
        values = (as_of - pd.to_datetime(values)).dt.days
    lower = metric.get("direction") == "lower_better"
    if metric["method"] == "quantile":
        labels = [5, 4, 3, 2, 1] if lower else [1, 2, 3, 4, 5]
        ranks = values.rank(method="first")
        scores = pd.qcut(ranks, metric.get("bins", 5), labels=labels).astype(float)
        return scores.fillna(1)
    if metric["method"] == "thresholds":
        cuts = metric["cuts"]

        def score(value):
            if pd.isna(value):
                return 1
            if lower:
                return 5 - sum(value > cut for cut in cuts)
            return 1 + sum(value >= cut for cut in cuts)

        return values.apply(score)
    if metric["method"] == "category":
        table, other = metric["categories"], metric.get("other", 1)
        return values.apply(lambda v: 1 if pd.isna(v) else table.get(v, other))
    low, high = metric.get("low", 1), metric.get("high", 5)
    return values.apply(
        lambda v: 1 if pd.isna(v) else 1 + 4 * (min(max(v, low), high) - low) / (high - low)
    )


def _naive_composite(frame, data):
    def composite(row):
        total = weight = 0.0
        for dimension in data["dimensions"]:
            inner = sum(m["weight"] for m in dimension["metrics"])
            value = sum(row[f"m_{m['key']}"] * m["weight"] for m in dimension["metrics"])
            total += dimension["weight"] * value / inner
            weight += dimension["weight"]
        return 25 * (total / weight - 1)

    return frame.apply(composite, axis=1)


def _naive_tiers(frame, data):
    tiers = data["tiers"]

    def tier(row):
        name = next(t["name"] for t in tiers if row["composite"] >= t["min_score"])
        if row["信用等级"] == "D":
            return tiers[-1]["name"]
        return name

    return frame.apply(tier, axis=1)


def _naive_score(frame, data):
    import pandas as pd

    as_of = pd.Timestamp(pd.to_datetime(frame["最近购买日期"]).max())
    for dimension in data["dimensions"]:
        for metric in dimension["metrics"]:
            frame[f"m_{metric['key']}"] = _naive_metric(frame, metric, as_of)
    frame["composite"] = _naive_composite(frame, data)
    frame["tier"] = _naive_tiers(frame, data)
    return frame


def _naive_write_xlsx(frame, data, out) -> None:
    import pandas as pd
    from openpyxl.styles import Font

    frame = frame.sort_values("composite", ascending=False)
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        sheets = [("全部客户", frame)] + [
            (t["name"], frame[frame["tier"] == t["name"]]) for t in data["tiers"]
        ]
        for name, part in sheets:
            part.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions


def baseline(step: str, xlsx: Path, csv: Path, out: Path) -> float:
    """Run one baseline step; return its seconds (set-up not counted)."""
    data = json.loads(STANDARD.read_text(encoding="utf-8"))
    if step == "read_xlsx":
        started = time.perf_counter()
        _naive_read_xlsx(xlsx)
        return time.perf_counter() - started
    if step == "read_csv":
        started = time.perf_counter()
        _naive_read_csv(csv)
        return time.perf_counter() - started
    if step == "whole":
        started = time.perf_counter()
        frame = _naive_score(_naive_read_xlsx(xlsx), data)
        _naive_write_xlsx(frame, data, out)
        return time.perf_counter() - started

    frame = _naive_read_csv(csv)
    if step == "score":
        started = time.perf_counter()
        _naive_score(frame, data)
        return time.perf_counter() - started
    frame = _naive_score(frame, data)
    if step == "recut":
        data["tiers"][0]["min_score"] -= 5
        started = time.perf_counter()
        frame["tier"] = _naive_tiers(frame, data)
        frame["tier"].value_counts()
        return time.perf_counter() - started
    if step == "reweight":
        data["dimensions"][0]["weight"] += 10
        started = time.perf_counter()
        frame["composite"] = _naive_composite(frame, data)
        frame["tier"] = _naive_tiers(frame, data)
        frame["tier"].value_counts()
        return time.perf_counter() - started
    if step == "write_xlsx":
        started = time.perf_counter()
        _naive_write_xlsx(frame, data, out)
        return time.perf_counter() - started
    if step == "write_csv":
        started = time.perf_counter()
        frame.to_csv(out, index=False, encoding="utf-8-sig")
        return time.perf_counter() - started
    raise ValueError(step)


# --- the parent: subprocesses, medians, the table ------------------------------


def _measure(engine: str, step: str, size: str, data: Path) -> tuple[float, float]:
    """Run one step in a fresh process; return (seconds, peak RSS in MB)."""
    suffix = ".csv" if step == "write_csv" else ".xlsx"
    out = data / f"out_{engine}_{step}_{size}{suffix}"
    command = [sys.executable, __file__, "--worker", engine, step, size,
               "--data", str(data)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stdout.close()
    out.unlink(missing_ok=True)
    if status != 0:
        raise RuntimeError(f"{engine} {step} {size} failed ({status})")
    seconds = float(output.decode().strip().splitlines()[-1])
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def _worker(engine: str, step: str, size: str, data: Path) -> None:
    sys.path.insert(0, str(ROOT))
    suffix = ".csv" if step == "write_csv" else ".xlsx"
    out = data / f"out_{engine}_{step}_{size}{suffix}"
    xlsx, csv = data / f"clients_{size}.xlsx", data / f"clients_{size}.csv"
    # Libraries are imported before the clock starts, for both engines.
    import duckdb  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401

    import tiering.export  # noqa: F401
    import tiering.ingest  # noqa: F401

    run = {"ours": ours, "fastest": fastest, "baseline": baseline}[engine]
    print(f"{run(step, xlsx, csv, out):.6f}")


def machine() -> dict[str, str]:
    import duckdb
    import fastexcel
    import rvgsrust_xlsxwriter
    import xlsxwriter

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "xlsxwriter": xlsxwriter.__version__,
        "rvgsrust-xlsxwriter": rvgsrust_xlsxwriter.__version__,
        "fastexcel": fastexcel.__version__,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# Steps of minutes at 1M run once there; the rest as often as asked.
SLOW_AT_1M = {"write_xlsx", "whole"}


def _runs_for(size: str, step: str, runs: int) -> int:
    return 1 if size == "1m" and step in SLOW_AT_1M else runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--steps", default=",".join(key for key, _ in STEPS))
    parser.add_argument("--engines", default="ours,fastest,baseline")
    parser.add_argument(
        "--skip-baseline",
        default="1m:read_xlsx,1m:write_xlsx,1m:whole",
        help="size:step pairs where the baseline is not run (over 10 minutes "
        "at 1M); the table then shows the 100k ratio",
    )
    parser.add_argument(
        "--baseline-runs", type=int, default=3,
        help="at most this many runs of each baseline step (openpyxl is slow)",
    )
    parser.add_argument("--json", type=Path, help="also save the raw results")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "STEP", "SIZE"))
    args = parser.parse_args()

    if args.worker:
        _worker(*args.worker, args.data)
        return

    skip = {tuple(pair.split(":")) for pair in args.skip_baseline.split(",") if pair}
    steps = [key for key in args.steps.split(",")]
    engines = args.engines.split(",")
    results: dict[str, dict] = {}
    info = machine()
    for size in args.sizes.split(","):
        for step in steps:
            chosen = [
                engine for engine in engines
                if not (engine == "baseline" and (
                    step not in BASELINE_STEPS or (size, step) in skip))
                and not (engine == "fastest" and step not in FASTEST_STEPS)
            ]
            runs = _runs_for(size, step, args.runs)
            samples: dict[str, list] = {engine: [] for engine in chosen}
            # Engines take turns, run by run, so that a drift in the
            # machine's speed touches both sides of a ratio alike.
            for run in range(runs):
                for engine in chosen:
                    if engine == "baseline" and run >= args.baseline_runs:
                        continue
                    samples[engine].append(_measure(engine, step, size, args.data))
            for engine in chosen:
                taken = samples[engine]
                seconds = statistics.median(s for s, _ in taken)
                peak = max(m for _, m in taken)
                results[f"{engine}|{step}|{size}"] = {
                    "seconds": seconds, "peak_mb": peak, "runs": len(taken)
                }
                print(f"{size:>5} {step:<11} {engine:<8} {seconds:9.3f} s "
                      f"{peak:8.0f} MB  (n={len(taken)})", flush=True)
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print()
    print(markdown(results, args.sizes.split(","), steps, info))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results},
                                        ensure_ascii=False, indent=1))


def _seconds(value: float) -> str:
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def markdown(results: dict, sizes: list[str], steps: list[str], info: dict) -> str:
    """The results as Markdown: step × size, ours vs baseline, then targets."""
    names = dict(STEPS)
    lines = [
        "| step | size | ours | ours peak | baseline | baseline peak "
        "| baseline / ours | fastest reader alone |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in steps:
        for size in sizes:
            mine = results.get(f"ours|{step}|{size}")
            if mine is None:
                continue
            theirs = results.get(f"baseline|{step}|{size}")
            quick = results.get(f"fastest|{step}|{size}")
            base, base_peak, ratio, reader = "—", "—", "—", "—"
            if theirs is not None:
                base = _seconds(theirs["seconds"])
                base_peak = f"{theirs['peak_mb']:,.0f} MB"
                ratio = f"{theirs['seconds'] / mine['seconds']:.1f}×"
            elif f"baseline|{step}|100k" in results and size == "1m":
                base = "not run (> 10 min)"
                ratio = "see 100k"
            if quick is not None:
                reader = (f"{_seconds(quick['seconds'])} "
                          f"(ours {mine['seconds'] / quick['seconds']:.2f}×)")
            lines.append(
                f"| {names[step]} | {size} | {_seconds(mine['seconds'])} | "
                f"{mine['peak_mb']:,.0f} MB | {base} | {base_peak} | {ratio} "
                f"| {reader} |"
            )
    head = (
        f"Measured {info['date']} on {info['nproc']} cores ({info['cpu']}), "
        f"{info['memory']}; Python {info['python']}, DuckDB {info['duckdb']}, "
        f"rvgsrust-xlsxwriter {info['rvgsrust-xlsxwriter']}, fastexcel "
        f"{info['fastexcel']}, openpyxl as the baseline; load average {info['load']} before, "
        f"{info.get('load_after', '?')} after."
    )
    return "\n\n".join([head, "\n".join(lines), targets(results, sizes)])


def _largest(results: dict, step: str, sizes: list[str]) -> str | None:
    """The largest size at which both ours and the baseline ran ``step``."""
    both = [size for size in sizes
            if f"ours|{step}|{size}" in results
            and f"baseline|{step}|{size}" in results]
    return max(both, key=SIZES.get, default=None)


def targets(results: dict, sizes: list[str]) -> str:
    """Issue 5's targets at the largest size measured: met or missed."""
    size = max(sizes, key=SIZES.get)
    rows = ["| target | measured | met |", "|---|---|---|"]

    def seconds(engine: str, step: str, at: str = size) -> float | None:
        found = results.get(f"{engine}|{step}|{at}")
        return None if found is None else found["seconds"]

    def line(target: str, measured: str, met: bool | None) -> None:
        verdict = "not measured" if met is None else ("yes" if met else "**no**")
        rows.append(f"| {target} | {measured} | {verdict} |")

    ours_read, reader = seconds("ours", "read_xlsx"), seconds("fastest", "read_xlsx")
    if ours_read and reader:
        line(f"read .xlsx ≤ 1.2× the fastest reader ({size})",
             f"{ours_read / reader:.2f}×", ours_read <= 1.2 * reader)
    for step, limit, label in [("read_csv", 2.0, "read .csv < 2 s"),
                               ("score", 1.5, "score < 1.5 s"),
                               ("recut", 0.05, "cut-off move < 50 ms"),
                               ("reweight", 0.4, "weight change < 400 ms")]:
        value = seconds("ours", step)
        line(f"{label} ({size})", "—" if value is None else _seconds(value),
             None if value is None else value < limit)
    for step, factor, label in [("write_xlsx", 5, "export ≥ 5× openpyxl"),
                                ("whole", 15, "whole path ≥ 15× naive")]:
        at = _largest(results, step, sizes)
        if at is None:
            line(label, "—", None)
            continue
        ratio = seconds("baseline", step, at) / seconds("ours", step, at)
        line(f"{label} ({at})", f"{ratio:.1f}×", ratio >= factor)
    whole = results.get(f"ours|whole|{size}")
    if whole is not None:
        line(f"whole path peak memory < 2.5 GB ({size})",
             f"{whole['peak_mb']:,.0f} MB", whole["peak_mb"] < 2500)
    return "\n".join(rows)


if __name__ == "__main__":
    main()
