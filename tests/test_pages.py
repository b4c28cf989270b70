"""AppTest checks that each page wires its widgets to the engine on the sample."""

import json

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 60


@pytest.fixture
def app(tmp_data_dir):
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at, path):
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def metric_values(at):
    return {m.label: m.value for m in at.metric}


def test_app_opens_on_the_sample_with_tiers(app):
    assert app.title[0].value == "分级结果"
    assert any("已评分" in c.value for c in app.caption)
    assert not app.error


def test_upload_page_loads_the_sample_and_reports_rows(app):
    open_page(app, "pages/upload.py")

    app.button(key="load_sample").click().run()

    assert any("已加载示例数据" in s.value for s in app.success)
    values = metric_values(app)
    assert values["已加载"] != "0"
    assert set(values) >= {"文件数据行", "已加载", "已排除", "无法使用"}


def test_moving_a_cut_off_changes_the_counts(app):
    open_page(app, "pages/standard.py")
    before = metric_values(app)

    app.slider(key="cut_钻石_0").set_value(65.0).run()

    after = metric_values(app)
    assert int(after["钻石"].replace(",", "")) > int(before["钻石"].replace(",", ""))
    assert not app.error


def test_weight_slider_keeps_every_client_in_a_tier(app):
    open_page(app, "pages/standard.py")
    total = sum(int(v.replace(",", "")) for v in metric_values(app).values())

    app.slider(key="dw_value_0").set_value(90).run()

    assert sum(int(v.replace(",", "")) for v in metric_values(app).values()) == total


def test_results_page_explains_a_chosen_client(app):
    open_page(app, "pages/results.py")
    first = app.selectbox[0].options[0]

    app.selectbox[0].set_value(first).run()

    assert any("综合分" in m.value for m in app.markdown)


def test_export_page_offers_both_downloads(app):
    open_page(app, "pages/export.py")

    labels = [b.proto.label for b in app.get("download_button")]
    assert labels[:2] == ["下载 Excel 分级清单", "下载 CSV"]
    assert "下载按负责人拆分的清单" in labels


def test_english_switch_translates_the_pages(app):
    # AppTest (Streamlit 1.67) drops sidebar widgets from the tree after the
    # second run of an st.navigation app, so the switch is used on the first.
    app.sidebar.selectbox[0].select("en").run()

    assert app.title[0].value == "Results"
    assert any("clients scored" in c.value for c in app.caption)


def test_a_cut_off_above_the_tier_above_is_refused_with_a_sentence(app):
    open_page(app, "pages/standard.py")

    app.slider(key="cut_钻石_0").set_value(40.0).run()

    assert "「黄金」的最低分 55 高于上一等级「钻石」的 40" in app.error[0].value


# --- upload page: header row, duplicates policy, remembered mapping, report ---

UPLOAD_CSV = (
    "2024年客户名单\n"
    "客户编号,累计金额,最近购买日期\n"
    "A1,10,2024-01-01\n"
    "A1,20,2024-02-01\n"
    "A2,5,2024-01-03\n"
).encode("utf-8")


def upload(at, content=UPLOAD_CSV, name="名单.csv"):
    open_page(at, "pages/upload.py")
    at.file_uploader[0].upload(name, content, "text/csv").run()
    assert not at.exception, at.exception
    return at


def test_upload_shows_the_detected_header_row_and_can_correct_it(app):
    upload(app)
    header = app.number_input(key="header_clients_名单.csv_名单")

    assert header.value == 2
    assert any("表头在第 2 行" in e.label for e in app.expander)

    header.set_value(1).run()

    assert any("表头在第 1 行" in e.label for e in app.expander)
    assert not app.error


def test_duplicate_policy_stop_refuses_with_the_repeated_row(app):
    upload(app)

    app.selectbox(key="duplicates").select("stop").run()
    app.button(key="apply_upload").click().run()

    assert app.error[0].value == (
        "客户编号列「客户编号」中有 1 行重复编号（第一处在第 4 行）。"
        "请删除重复行，或选择保留最新或最先的一行。"
    )


def test_applied_mapping_is_remembered_for_the_same_headers(app, tmp_data_dir):
    upload(app)
    app.text_input(key="mapname_clients_名单.csv_名单").set_value("月度名单")

    app.button(key="apply_upload").click().run()

    assert any("列对应已保存为「月度名单」" in c.value for c in app.caption)
    later = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    later.run()
    upload(later, name="名单2.csv")
    assert any("月度名单" in i.value for i in later.info)


def test_loaded_upload_offers_the_issues_as_a_workbook(app):
    upload(app)

    app.button(key="apply_upload").click().run()

    values = metric_values(app)
    assert (values["文件数据行"], values["已加载"], values["已排除"]) == ("3", "2", "1")
    labels = [b.proto.label for b in app.get("download_button")]
    assert "下载问题清单（Excel）" in labels


# --- issue 6: insight sections and the playbook page -------------------------


def test_results_page_shows_the_eight_classes_and_the_next_step(app):
    open_page(app, "pages/results.py")

    app.selectbox[0].set_value(app.selectbox[0].options[0]).run()

    assert not app.exception, app.exception
    assert "客户价值八分类（RFM）" in [h.value for h in app.subheader]
    first_columns = [list(d.value.iloc[:, 0]) for d in app.dataframe]
    assert any(col[:2] == ["重要价值客户", "重要发展客户"] for col in first_columns)
    assert any(s.value.startswith("升级建议：") for s in app.success)


def test_playbook_page_shows_every_tier_and_saves(app):
    open_page(app, "pages/playbook.py")

    app.button(key="save_playbook").click().run()

    assert not app.exception, app.exception
    assert app.title[0].value == "服务策略"
    assert any("服务策略已保存" in s.value for s in app.success)


def test_moving_a_cut_off_neither_rereads_the_file_nor_rescores_metrics(
    app, monkeypatch
):
    import app_state

    calls = {"read_table": 0, "score_metrics": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        app_state, "read_table", counted("read_table", app_state.read_table)
    )
    for name in ("score_metrics", "compose_scores", "composite_index"):
        monkeypatch.setattr(app_state, name, counted(name, getattr(app_state, name)))
    calls.update(compose_scores=0, composite_index=0)
    open_page(app, "pages/standard.py")
    before = dict(calls)

    app.slider(key="cut_钻石_0").set_value(60.0).run()
    app.slider(key="cut_黄金_0").set_value(40.0).run()
    app.radio(key="mode_0_zh").set_value("quota").run()
    app.slider(key="share_钻石_0").set_value(10.0).run()

    assert not app.exception, app.exception
    # Cut-off, mode and quota moves count on the composites already in memory.
    assert calls == before
    assert before["composite_index"] == 1
    # A weight move reads the composites once more, without storing them;
    # the results page stores them when it needs every client's tier.
    app.slider(key="dw_value_0").set_value(60).run()
    assert calls["compose_scores"] == before["compose_scores"]
    assert calls["composite_index"] == before["composite_index"] + 1
    open_page(app, "pages/results.py")
    assert calls["compose_scores"] == before["compose_scores"] + 1
    open_page(app, "pages/standard.py")
    # The counters are wired: a metric change does rescore, once.
    app.select_slider(key="bins_recency_0").set_value(3).run()
    app.button(key="apply_metrics").click().run()
    assert calls["score_metrics"] == before["score_metrics"] + 1
    assert calls["read_table"] == before["read_table"]


# --- new-user review: stale counts, sidebar, empty files, preview labels -----


def test_an_invalid_cut_off_marks_the_counts_as_the_last_valid_ones(app):
    open_page(app, "pages/standard.py")
    before = metric_values(app)

    app.slider(key="cut_钻石_0").set_value(0.0).run()

    assert app.error
    assert any("上一次有效等级线" in w.value for w in app.warning)
    assert metric_values(app) == before

    app.slider(key="cut_钻石_0").set_value(80.0).run()

    assert not app.error
    assert not any("上一次有效等级线" in w.value for w in app.warning)


def test_a_cut_off_at_the_edge_keeps_its_label_inside_the_histogram(app):
    import json

    open_page(app, "pages/standard.py")

    app.slider(key="cut_钻石_0").set_value(100.0).run()

    chart = next(c for c in app.get("plotly_chart") if "histogram" in c.proto.id)
    notes = json.loads(chart.proto.spec)["layout"]["annotations"]
    anchors = {note["text"]: note["xanchor"] for note in notes}
    assert anchors["钻石 ≥ 100"] == "right"
    assert anchors["黄金 ≥ 55"] == "center"


def test_the_sidebar_names_the_data_and_the_standard_once(app):
    # AppTest empties the sidebar after the second run of an st.navigation
    # app, so the line written again after an upload is checked in a browser.
    captions = [c.value for c in app.sidebar.caption]

    assert captions == ["数据：clients.xlsx（5,000 位客户）", "标准：默认分级标准 v1"]


def test_a_header_only_file_is_refused_before_the_mapping(app):
    upload(app, content="客户编号,累计金额\n".encode(), name="空表.csv")

    assert "「空表.csv」在表头（第 1 行）下面没有数据行" in app.error[0].value
    assert not [t.key for t in app.text_input if t.key.startswith("mapname_")]
    assert not [d.key for d in app.dataframe if d.key and d.key.startswith("mapping_")]
    assert "apply_upload" not in [b.key for b in app.button]


def test_a_refused_file_leaves_no_progress_text(app):
    upload(app, content=b"\x00\x01 not a workbook", name="broken.xlsx")

    assert app.error
    assert not app.get("progress")


def test_the_preview_labels_the_row_number_in_the_users_language(app):
    upload(app)

    columns = [list(d.value.columns) for d in app.dataframe]
    assert ["行号", "客户编号", "累计金额", "最近购买日期"] in columns
    assert not any("_row" in names for names in columns)


def test_the_tiering_mode_stays_chosen_after_a_language_switch(app):
    open_page(app, "pages/standard.py")
    app.radio(key="mode_0_zh").set_value("quota").run()

    app.session_state["lang"] = "en"
    app.run()

    assert not app.exception, app.exception
    assert app.radio(key="mode_0_en").value == "quota"


def test_quota_mode_draws_where_each_share_falls_on_the_histogram(app):
    def histogram_lines():
        figure = json.loads(app.get("plotly_chart")[0].proto.spec)
        return [shape["x0"] for shape in figure["layout"].get("shapes", [])]

    open_page(app, "pages/standard.py")
    app.radio(key="mode_0_zh").set_value("quota").run()
    narrow = histogram_lines()

    app.slider(key="share_钻石_0").set_value(15.0).run()

    wide = histogram_lines()
    assert len(narrow) == len(wide) == 3, (narrow, wide)
    assert wide == sorted(wide, reverse=True)
    # A larger share of the top tier lowers where it starts.
    assert wide[0] < narrow[0]


def test_close_tier_lines_keep_their_labels_apart(app):
    open_page(app, "pages/standard.py")

    app.slider(key="cut_钻石_0").set_value(56.0).run()

    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    notes = {note["text"]: note["y"] for note in figure["layout"]["annotations"]}
    # 钻石 at 56 and 黄金 at 55 would print over each other; 白银 at 35 not.
    assert notes["钻石 ≥ 56"] != notes["黄金 ≥ 55"], notes
    assert notes["白银 ≥ 35"] == notes["钻石 ≥ 56"], notes


# --- an edited draft and a refused upload say what they are ------------------


def workspace_with_an_edited_standard():
    """A fresh workspace whose draft is v1 with one dimension weight changed."""
    import app_state
    from tiering import config
    from tiering.standard import load_standard

    standard = load_standard(config.default_standard_path())
    weights = {d.key: d.weight for d in standard.dimensions}
    weights[standard.dimensions[0].key] += 5
    edited = standard.with_dimension_weights(weights)
    return app_state.Workspace(standard=edited, origin=standard)


@pytest.mark.parametrize(
    "page, marker",
    [("pages/results.py", "已评分"), ("pages/export.py", "基准日")],
)
def test_pages_mark_an_edited_standard_as_not_published(app, page, marker):
    open_page(app, page)
    assert not any("已修改" in c.value for c in app.caption)

    open_page(app, "pages/standard.py")
    app.slider(key="cut_钻石_0").set_value(60.0).run()
    open_page(app, page)

    summary = next(c.value for c in app.caption if marker in c.value)
    assert "标准：默认分级标准 v1（已修改，未发布）" in summary, summary


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("zh", "标准：默认分级标准 v1（已修改，未发布）"),
        ("en", "Standard: 默认分级标准 v1 (edited, not published)"),
    ],
)
def test_the_sidebar_marks_an_edited_standard_as_not_published(
    tmp_data_dir, lang, expected
):
    # Seeded before the first run: AppTest empties the sidebar of an
    # st.navigation app after its second run (see
    # test_the_sidebar_names_the_data_and_the_standard_once).
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state["workspace"] = workspace_with_an_edited_standard()
    at.session_state["lang"] = lang

    at.run()

    assert not at.exception, at.exception
    assert [c.value for c in at.sidebar.caption][-1] == expected


REFUSED_UPLOADS = [
    pytest.param(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "报告.xlsx", "是 PDF 文档", id="pdf"),
    pytest.param(b"", "空.csv", "是空的", id="empty"),
    pytest.param("客户编号,累计金额\n".encode(), "表头.csv", "没有数据行", id="header-only"),
]


@pytest.mark.parametrize("content, name, reason", REFUSED_UPLOADS)
def test_a_refused_upload_hides_the_report_of_the_earlier_data(
    app, content, name, reason
):
    upload(app, content=content, name=name)

    assert reason in app.error[0].value
    assert not app.metric
    assert not [h.value for h in app.subheader if h.value.startswith("数据质量报告")]
    assert [i.value for i in app.info] == [
        "这次上传的文件没有加载，当前使用的仍是之前的数据「clients.xlsx」（5,000 位客户）。"
    ]


def test_a_refused_load_hides_the_report_of_the_earlier_data(app):
    upload(app)

    app.selectbox(key="duplicates").select("stop").run()
    app.button(key="apply_upload").click().run()

    assert "重复编号" in app.error[0].value
    assert not app.metric
    assert any("仍是之前的数据「clients.xlsx」" in i.value for i in app.info)


# --- a draft remembers the standard it started from ---------------------------


def my_standard_json():
    """The bundled default renamed 我的标准 and numbered 3: in no store."""
    from tiering import config

    data = json.loads(config.default_standard_path().read_text(encoding="utf-8"))
    data.update(name="我的标准", version=3)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def load_my_standard(at):
    open_page(at, "pages/standard.py")
    at.file_uploader(key="standard_file_0").upload(
        "我的标准.json", my_standard_json(), "application/json"
    ).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture
def download_names(monkeypatch):
    """The file names the pages give their download buttons, in the order offered."""
    from streamlit.delta_generator import DeltaGenerator

    names = []
    offer = DeltaGenerator.download_button

    def recorded(self, *args, **kwargs):
        names.append(kwargs.get("file_name"))
        return offer(self, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recorded)
    return names


def export_names(at, download_names):
    download_names.clear()
    open_page(at, "pages/export.py")
    return download_names[:2]


def results_summary(at):
    open_page(at, "pages/results.py")
    return next(c.value for c in at.caption if "已评分" in c.value)


def test_a_standard_loaded_from_a_file_is_marked_not_published(
    app, download_names
):
    load_my_standard(app)

    assert results_summary(app).endswith("标准：我的标准 v3（未发布）")
    assert export_names(app, download_names) == [
        "clients_我的标准_v3_未发布.xlsx",
        "clients_我的标准_v3_未发布.csv",
    ]
    assert any("我的标准 v3（未发布）" in c.value for c in app.caption)


def test_a_standard_loaded_from_a_file_and_moved_is_marked_edited(
    app, download_names
):
    load_my_standard(app)

    app.slider(key="cut_钻石_1").set_value(60.0).run()

    assert results_summary(app).endswith("标准：我的标准 v3（已修改，未发布）")
    assert export_names(app, download_names) == [
        "clients_我的标准_v3_修改稿.xlsx",
        "clients_我的标准_v3_修改稿.csv",
    ]
    assert any("我的标准 v3（已修改，未发布）" in c.value for c in app.caption)


def test_a_stored_version_chosen_again_is_not_marked(app):
    open_page(app, "pages/standard.py")
    app.button(key="publish").click().run()
    # Publishing gives the sliders new keys, from the next full run on.
    open_page(app, "pages/standard.py")
    app.slider(key="cut_钻石_1").set_value(60.0).run()
    assert results_summary(app).endswith("v1（已修改，未发布）")
    open_page(app, "pages/manage.py")

    app.button(key="rollback").click().run()

    assert not app.exception, app.exception
    summary = results_summary(app)

    assert summary.endswith("标准：默认分级标准 v2"), summary


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("zh", "标准：我的标准 v3（未发布）"),
        ("en", "Standard: 我的标准 v3 (not published)"),
    ],
)
def test_the_sidebar_marks_a_standard_never_published(tmp_data_dir, lang, expected):
    import app_state
    from tiering.standard import loads_standard

    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    mine = loads_standard(my_standard_json(), "我的标准.json")
    at.session_state["workspace"] = app_state.Workspace(standard=mine)
    at.session_state["lang"] = lang

    at.run()

    assert not at.exception, at.exception
    assert [c.value for c in at.sidebar.caption][-1] == expected


DRAFT_NOTICE = "修改稿，尚未发布"


def main_elements(block):
    """The main area's elements in page order (blocks flattened)."""
    from streamlit.testing.v1.element_tree import Block

    for child in block.children.values():
        if isinstance(child, Block):
            yield from main_elements(child)
        else:
            yield child


def test_the_standard_page_says_at_once_when_the_draft_is_edited(app):
    open_page(app, "pages/standard.py")
    assert not any(DRAFT_NOTICE in c.value for c in app.caption)

    app.slider(key="cut_钻石_0").set_value(60.0).run()

    order = [e.type for e in main_elements(app.main)]
    notice = next(c for c in app.caption if DRAFT_NOTICE in c.value)
    # Written by the sliders' fragment, above the counts it reruns with.
    assert order.index("caption") < order.index("metric"), order
    assert "发布" in notice.value

    app.slider(key="cut_钻石_0").set_value(75.0).run()

    assert not any(DRAFT_NOTICE in c.value for c in app.caption)


# --- two tables: every row of each accounted for, issues name their table -----

CLIENTS_CSV = "客户编号,累计金额\nA1,100\nA2,200\nA3,300\nA4,abc\n".encode()
TRANSACTIONS_CSV = (
    "客户编号,交易日期,交易金额\n"
    "A1,2024-01-05,100\n"
    "B9,2024-01-06,200\n"
    "A2,2024-02-01,300\n"
    ",2024-02-02,50\n"
    "A1,2024-03-02,10\n"
).encode()


def upload_tables(at, clients=None, transactions=None):
    open_page(at, "pages/upload.py")
    if clients is not None:
        at.file_uploader[0].upload("clients.csv", clients, "text/csv").run()
    if transactions is not None:
        at.file_uploader[1].upload("tx.csv", transactions, "text/csv").run()
    at.button(key="apply_upload").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def metric_rows(at):
    pairs = [(m.label, m.value) for m in at.metric]
    return [pairs[i : i + 4] for i in range(0, len(pairs), 4)]


def test_two_tables_report_the_rows_of_each(app):
    upload_tables(app, CLIENTS_CSV, TRANSACTIONS_CSV)

    captions = [c.value for c in app.caption]
    assert "客户表「clients.csv」" in captions
    assert "交易明细表「tx.csv」" in captions
    assert metric_rows(app) == [
        [("文件数据行", "4"), ("已加载", "4"), ("已排除", "0"), ("无法使用", "0")],
        [("文件数据行", "5"), ("已使用", "3"), ("已排除", "1"), ("无法使用", "1")],
    ]


def test_two_tables_issues_name_the_table_of_each_row(app):
    upload_tables(app, CLIENTS_CSV, TRANSACTIONS_CSV)

    frames = [d.value for d in app.dataframe]
    issues = [f for f in frames if list(f.columns)[:2] == ["表", "行号"]]
    assert len(issues) == 1
    rows = list(zip(issues[0]["表"], issues[0]["行号"]))
    assert ("客户表", 5) in rows
    assert ("交易表", 5) in rows


def test_one_table_issues_have_no_table_column(app):
    upload_tables(app, UPLOAD_CSV)

    columns = [list(d.value.columns) for d in app.dataframe]
    assert ["行号", "列", "值", "处理", "原因"] in columns
    assert not [names for names in columns if "表" in names]


def test_a_transaction_table_alone_counts_clients_not_rows(app):
    upload_tables(app, transactions=TRANSACTIONS_CSV)

    assert [s.value for s in app.success][0].startswith("已加载 3 位客户，")
    assert "交易明细表「tx.csv」" in [c.value for c in app.caption]
    assert "4 行交易汇总为 3 位客户。" in [c.value for c in app.caption]
    assert metric_rows(app) == [
        [("文件数据行", "5"), ("已使用", "4"), ("已排除", "0"), ("无法使用", "1")],
    ]


def test_an_empty_transactions_file_stops_the_load_of_both(app):
    open_page(app, "pages/upload.py")
    app.file_uploader[0].upload("clients.csv", CLIENTS_CSV, "text/csv").run()
    app.file_uploader[1].upload("tx.csv", "客户编号,交易日期,交易金额\n".encode(), "text/csv").run()

    assert not app.exception, app.exception
    assert "tx.csv" in app.error[0].value
    # Loading the client table alone would score clients without their purchases.
    assert not [b for b in app.button if b.key == "apply_upload"]
