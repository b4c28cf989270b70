"""The store: schema, standard versions, overrides, audit, threads and crashes."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace

import duckdb
import pytest

from tiering.errors import StoreError
from tiering.i18n import describe_error
from tiering.impact import diff_standards
from tiering.scoring import score_clients
from tiering.snapshots import take_snapshot
from tiering.standard import load_standard
from tiering.store import MIGRATIONS, Store

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic_clients(con, count=200, seed=1):
    """A clients table with the fields the default standard reads."""
    con.execute(
        """
        CREATE OR REPLACE TABLE clients AS
        SELECT i AS _row, printf('C%06d', i) AS client_id,
               CAST((i * $seed * 7919) % 1000 AS DOUBLE) * 1000 AS amount,
               CAST(i % 9 + 1 AS DOUBLE) AS purchase_count,
               CAST((i * 31) % 365 AS INTEGER) AS recency_days,
               ['A', 'B', 'C', 'D'][i % 4 + 1] AS credit_grade,
               CAST(i % 5 AS DOUBLE) AS overdue_count
        FROM range(1, $count + 1) AS t(i)
        """,
        {"count": count, "seed": seed},
    )


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / "tiering.duckdb")
    yield opened
    opened.close()


@pytest.fixture
def standard(default_standard_path):
    return load_standard(default_standard_path)


@pytest.fixture
def dataset_id(store):
    con = duckdb.connect()
    synthetic_clients(con)
    stored = store.save_dataset(con, "clients.xlsx", "王经理", as_of=dt.date(2024, 6, 30))
    con.close()
    return stored


def test_a_new_file_gets_every_migration_and_reopens_unchanged(tmp_path):
    path = tmp_path / "db.duckdb"
    Store(path).close()

    reopened = Store(path)

    assert reopened.schema_version() == len(MIGRATIONS)
    reopened.close()


def test_publishing_numbers_versions_per_name_and_audits_who(store, standard):
    first = store.publish(standard, "王经理", "初版")
    second = store.publish(standard.with_dimension_weights({"value": 60}), "李行长", "加重价值")
    other = store.publish(replace(standard, name="另一标准"), "王经理")

    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert [v.version for v in store.versions(standard.name)] == [2, 1]
    assert store.published_standard(standard.name) == second
    log = store.audit_log()
    assert list(log["action"]) == ["publish"] * 3
    assert "李行长" in set(log["actor"])


def test_a_reloaded_version_scores_identically(store, standard):
    published = store.publish(standard.with_dimension_weights({"credit": 35}), "王经理")
    con = duckdb.connect()
    synthetic_clients(con)

    score_clients(con, published)
    before = con.execute("SELECT * FROM scored ORDER BY _row").fetchall()
    reloaded = store.load_version(published.name, published.version)
    score_clients(con, reloaded)
    after = con.execute("SELECT * FROM scored ORDER BY _row").fetchall()

    assert reloaded == published
    assert before == after


def test_rollback_publishes_the_earlier_rules_as_a_new_audited_version(store, standard):
    store.publish(standard, "王经理", "v1")
    store.publish(standard.with_dimension_weights({"value": 90}), "王经理", "v2")

    restored = store.rollback(standard.name, 1, "李行长", "恢复初版")

    assert restored.version == 3
    assert diff_standards(store.load_version(standard.name, 1), restored) == [
        ("note", "v1", "恢复初版")
    ]
    assert store.audit_log()["action"].iloc[0] == "rollback"


def test_diff_lists_changed_fields_by_key_and_tier_name(standard):
    draft = standard.with_dimension_weights({"value": 55})
    draft = draft.with_tiers([replace(draft.tiers[0], min_score=70)] + list(draft.tiers[1:]))

    rows = diff_standards(standard, draft)

    assert ("dimensions[value].weight", 40, 55) in rows
    assert ("tiers[钻石].min_score", 75.0, 70.0) in rows
    assert all(path != "version" for path, _, _ in rows)


def test_a_missing_version_is_a_sentence(store):
    with pytest.raises(StoreError) as caught:
        store.load_version("默认分级标准", 9)

    assert describe_error(caught.value) == "分级标准「默认分级标准」没有第 9 版。请从版本列表中选择。"


def test_an_override_replaces_the_active_one_and_is_removable(store):
    store.set_override("00123", "钻石", "战略客户", "王经理")
    store.set_override("00123", "黄金", "调整", "李行长")

    assert list(store.overrides()["tier"]) == ["黄金"]
    assert store.remove_override("00123", "李行长") is True
    assert store.overrides().empty
    assert len(store.overrides(active_only=False)) == 2
    assert list(store.audit_log()["action"]) == ["override"] * 3


def test_an_incomplete_override_is_refused(store):
    with pytest.raises(StoreError):
        store.set_override("00123", "钻石", "  ", "王经理")


def test_threads_publishing_and_snapshotting_at_once_lose_nothing(store, standard, dataset_id):
    errors = []

    def work(worker):
        try:
            for step in range(20):
                if step % 2:
                    store.publish(standard, f"user{worker}", f"{worker}-{step}")
                else:
                    day = dt.date(2024, 1, 1) + dt.timedelta(days=worker * 20 + step)
                    take_snapshot(store, dataset_id, standard, day, f"user{worker}")
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    versions = [v.version for v in store.versions(standard.name)]
    assert sorted(versions) == list(range(1, 81))
    snapshots = store.snapshots()
    assert len(snapshots) == 80
    assert all(store.snapshot_results(s.id).num_rows == 200 for s in snapshots)


KILLED_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    import duckdb
    sys.path.insert(0, {project!r})
    from tests.test_store import synthetic_clients
    from tiering.snapshots import take_snapshot
    from tiering.standard import load_standard
    from tiering.store import Store

    store = Store({path!r})
    standard = store.publish(load_standard({standard!r}), "cron", "v1")
    con = duckdb.connect()
    synthetic_clients(con, count=120_000)
    dataset_id = store.save_dataset(con, "big.xlsx", "cron")
    take_snapshot(store, dataset_id, standard, dt.date(2024, 5, 31), "cron")
    print("committed", flush=True)

    def stall(rows):
        # Hold the transaction open after the first batch, so the kill lands
        # in the middle of the write.
        print("writing", rows, flush=True)
        time.sleep(120)

    take_snapshot(store, dataset_id, standard, dt.date(2024, 6, 30), "cron", progress=stall)
    """
)


def test_a_process_killed_mid_snapshot_leaves_committed_data_intact(tmp_path, default_standard_path):
    path = tmp_path / "killed.duckdb"
    script = KILLED_WRITER.format(
        project=PROJECT_DIR, path=str(path), standard=str(default_standard_path)
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=PROJECT_DIR
    )
    try:
        lines = [writer.stdout.readline(), writer.stdout.readline()]
        assert lines[0].startswith("committed"), lines
        assert lines[1].startswith("writing"), lines
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.stdout.close()

    reopened = Store(path)
    try:
        snapshots = reopened.snapshots()
        assert [s.as_of for s in snapshots] == [dt.date(2024, 5, 31)]
        assert reopened.snapshot_results(snapshots[0].id).num_rows == 120_000
        orphans = reopened._rows(
            "SELECT count(*) FROM snapshot_results WHERE snapshot_id NOT IN "
            "(SELECT id FROM snapshots)"
        )
        assert orphans == [(0,)]
        assert [v.version for v in reopened.versions()] == [1]
    finally:
        reopened.close()
