"""AppTest: the Management page and the standard page's publish, on the sample."""

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 90


@pytest.fixture
def app(tmp_data_dir):
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state["user_name"] = "王经理"
    at.run()
    assert not at.exception, at.exception
    return at


def open_manage(at):
    at.switch_page("pages/manage.py").run()
    assert not at.exception, at.exception
    return at


def test_taking_a_snapshot_lists_it_and_audits_it(app):
    open_manage(app)
    assert app.title[0].value == "动态管理"

    app.button(key="take_snapshot").click().run()

    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert any("已保存：快照 #1" in s.value for s in app.success)
    snapshots = app.dataframe[0].value
    assert list(snapshots["编号"]) == [1]
    assert list(snapshots["操作人"]) == ["王经理"]
    audit = app.dataframe[-1].value
    assert {"upload", "publish", "snapshot"} <= set(audit["操作"])


def test_two_snapshots_show_the_migration_matrix(app):
    open_manage(app)

    app.button(key="take_snapshot").click().run()
    app.button(key="take_snapshot").click().run()

    matrix = app.dataframe[1].value
    assert int(matrix.to_numpy().sum()) == 5000
    assert not app.error


def test_publishing_from_the_standard_page_adds_a_version(app):
    app.switch_page("pages/standard.py").run()
    app.text_input(key="publish_note").input("第一版").run()

    app.button(key="publish").click().run()

    assert not app.exception, app.exception
    assert any("已发布「默认分级标准」第 1 版" in s.value for s in app.success)
    app.button(key="impact_preview").click().run()
    assert any("0 位等级变化" in i.value for i in app.info)


def test_a_new_session_starts_from_the_latest_published_standard(app):
    # One manager moves a cut-off and publishes: version 1.
    app.switch_page("pages/standard.py").run()
    app.slider(key="cut_钻石_0").set_value(60.0).run()
    app.text_input(key="publish_note").input("钻石线 60").run()
    app.button(key="publish").click().run()
    assert any("第 1 版" in s.value for s in app.success)

    # A colleague opens the app afterwards: the published line, unmarked.
    other = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    other.run()
    other.switch_page("pages/standard.py").run()

    assert not other.exception, other.exception
    assert other.slider(key="cut_钻石_0").value == 60.0
    assert not any("修改稿" in c.value for c in other.caption)
    other.switch_page("pages/results.py").run()
    summary = next(c.value for c in other.caption if "已评分" in c.value)
    assert summary.endswith("标准：默认分级标准 v1"), summary
