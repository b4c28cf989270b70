"""Messages of the app's pages, sidebar and charts."""

from tiering.fields import FIELDS

_FIELD_LABELS = {
    "client_id": ("客户编号", "Client ID"),
    "name": ("客户姓名", "Name"),
    "phone": ("手机号", "Phone"),
    "id_card": ("身份证号", "ID card number"),
    "owner": ("置业顾问/客户经理", "Consultant / manager"),
    "branch": ("支行/项目", "Branch / project"),
    "last_purchase_date": ("最近购买日期", "Last purchase date"),
    "purchase_count": ("购买次数", "Purchase count"),
    "amount": ("累计金额", "Total amount"),
    "assets": ("金融资产", "Assets"),
    "income": ("年收入", "Income"),
    "debt": ("负债", "Debt"),
    "debt_ratio": ("负债率", "Debt ratio"),
    "credit_grade": ("信用等级", "Credit grade"),
    "credit_score": ("信用分", "Credit score"),
    "overdue_count": ("逾期次数", "Overdue count"),
    "interactions": ("互动次数", "Interactions"),
    "last_interaction_date": ("最近互动日期", "Last interaction date"),
    "satisfaction": ("满意度", "Satisfaction"),
    "referrals": ("转介绍人数", "Referrals"),
    "motive": ("购房动机", "Motive"),
    "channel": ("渠道", "Channel"),
    "info_source": ("信息来源", "Information source"),
    "decision_cycle_days": ("决策周期（天）", "Decision cycle (days)"),
    "price_sensitivity": ("价格敏感度", "Price sensitivity"),
    "preferred_layout": ("意向户型", "Preferred layout"),
    "preferred_area": ("意向面积", "Preferred area"),
    "preferred_district": ("意向区域", "Preferred district"),
    "service_needs": ("服务需求", "Service needs"),
}
assert set(_FIELD_LABELS) == {field.key for field in FIELDS}

MESSAGES = {
    f"field.{key}": {"zh": zh, "en": en} for key, (zh, en) in _FIELD_LABELS.items()
}
MESSAGES.update(
    {
        "app.user.label": {"zh": "您的姓名", "en": "Your name"},
        "app.user.placeholder": {
            "zh": "用于记录操作人",
            "en": "Recorded with your actions",
        },
        "app.user.anonymous": {"zh": "未署名", "en": "anonymous"},
        "app.dataset": {
            "zh": "数据：{name}（{rows:,} 位客户）",
            "en": "Data: {name} ({rows:,} clients)",
        },
        "app.standard": {
            "zh": "标准：{name} v{version}",
            "en": "Standard: {name} v{version}",
        },
        # After the version number wherever a draft differs from it.
        "app.standard.edited": {
            "zh": "（已修改，未发布）",
            "en": " (edited, not published)",
        },
        # After the version number of a standard loaded from a file and
        # never published under that name, number and rules.
        "app.standard.unpublished": {
            "zh": "（未发布）",
            "en": " (not published)",
        },
        "app.no_data": {
            "zh": "还没有加载数据。请到「导入数据」页上传文件或加载示例数据。",
            "en": "No data is loaded yet. Upload a file or load the sample on the Upload page.",
        },
        "page.upload": {"zh": "导入数据", "en": "Upload"},
        "page.standard": {"zh": "分级标准", "en": "Standard"},
        "page.results": {"zh": "分级结果", "en": "Results"},
        "page.export": {"zh": "导出", "en": "Export"},
        "upload.intro": {
            "zh": "上传 CRM/ERP 导出的客户表（.xlsx/.xlsm/.xls/.csv），或交易明细表（每笔交易一行），核对列对应关系后加载。",
            "en": "Upload the client table your CRM or ERP exports (.xlsx/.xlsm/.xls/.csv), "
            "or a transaction table (one row per purchase); check the column mapping, then load.",
        },
        "upload.sample": {"zh": "加载示例数据", "en": "Load the sample data"},
        "upload.sample_loaded": {
            "zh": "已加载示例数据：{rows:,} 位客户。",
            "en": "Sample loaded: {rows:,} clients.",
        },
        "upload.clients": {"zh": "客户表", "en": "Client table"},
        "upload.transactions": {
            "zh": "交易明细表（可选）",
            "en": "Transaction table (optional)",
        },
        "upload.sheet": {"zh": "「{file}」的工作表", "en": "Sheet of '{file}'"},
        "upload.mapping_title": {
            "zh": "「{file}」列对应关系（表头在第 {header} 行）",
            "en": "Column mapping of '{file}' (header on row {header})",
        },
        "upload.map.field": {"zh": "字段", "en": "Field"},
        "upload.map.column": {"zh": "文件中的列", "en": "Column in the file"},
        "upload.map.unit": {"zh": "单位", "en": "Unit"},
        "upload.no_id": {
            "zh": "没有找到客户编号列。请在上表为「客户编号」选择一列；若文件确实没有编号，可勾选下面的选项用行号作编号。",
            "en": "No client ID column was found. Choose one for 'Client ID' above; if the file "
            "really has none, tick the option below to use row numbers as IDs.",
        },
        "upload.no_rows": {
            "zh": "「{file}」在表头（第 {header} 行）下面没有数据行，无法加载。请确认导出时包含了客户数据，"
            "或在上面改选工作表、表头所在行后再试。",
            "en": "'{file}' has no data rows below its header (row {header}), so it cannot be "
            "loaded. Check that the export included the data, or choose another sheet or "
            "header row above.",
        },
        "upload.row_number": {"zh": "行号", "en": "Row"},
        "upload.row_ids": {
            "zh": "用行号作为客户编号",
            "en": "Use row numbers as client IDs",
        },
        "upload.apply": {
            "zh": "按此对应关系加载并评分",
            "en": "Load and score with this mapping",
        },
        "upload.loading": {"zh": "正在读取并评分…", "en": "Reading and scoring…"},
        "upload.loaded": {
            "zh": "已加载 {rows:,} 位客户，用时 {seconds} 秒。",
            "en": "Loaded {rows:,} clients in {seconds} s.",
        },
        "upload.read_speed": {
            "zh": "已读取 {rows:,} 行，用时 {seconds} 秒（每秒 {rate:,} 行）。",
            "en": "Read {rows:,} rows in {seconds} s ({rate:,} rows per second).",
        },
        "progress.read": {"zh": "正在读取文件…", "en": "Reading the file…"},
        "progress.load": {
            "zh": "已载入 {done:,} / {total:,} 行",
            "en": "Loaded {done:,} of {total:,} rows",
        },
        "progress.score": {
            "zh": "评分：{done} / {total} 步",
            "en": "Scoring: step {done} of {total}",
        },
        "progress.write": {
            "zh": "正在写入「{step}」：{done:,} / {total:,} 行",
            "en": "Writing {step}: {done:,} of {total:,} rows",
        },
        "upload.report": {
            "zh": "数据质量报告：{name}",
            "en": "Data quality report: {name}",
        },
        "upload.rows_in_file": {"zh": "文件数据行", "en": "Data rows in file"},
        "upload.rows_loaded": {"zh": "已加载", "en": "Loaded"},
        "upload.rows_excluded": {"zh": "已排除", "en": "Excluded"},
        "upload.rows_rejected": {"zh": "无法使用", "en": "Rejected"},
        "upload.as_of": {"zh": "统计基准日：{date}", "en": "As-of date: {date}"},
        "upload.issues_download": {
            "zh": "下载问题清单（Excel）",
            "en": "Download the issues (Excel)",
        },
        "upload.header_preview": {
            "zh": "「{file}」的表头在第 {row} 行（预览前几行）",
            "en": "Header of '{file}' on row {row} (first rows)",
        },
        "upload.header_row": {"zh": "表头所在行", "en": "Header row"},
        "upload.formula_columns": {
            "zh": "「{file}」中这些列是公式但没有保存计算结果，读出来是空的：{columns}。请用 Excel 打开、保存后重新上传。",
            "en": "These columns of '{file}' hold formulas whose results were never saved, "
            "so they read as empty: {columns}. Open the file in Excel, save it and upload it again.",
        },
        "upload.mapping_remembered": {
            "zh": "已自动套用保存过的列对应「{name}」（表头相同）。",
            "en": "The saved mapping '{name}' was applied (same headers).",
        },
        "upload.mapping_name": {
            "zh": "列对应名称（加载后保存，表头相同的文件会自动套用）",
            "en": "Mapping name (saved on load; files with the same headers get it again)",
        },
        "upload.mapping_saved": {
            "zh": "列对应已保存为「{name}」。",
            "en": "Mapping saved as '{name}'.",
        },
        "upload.duplicates": {"zh": "客户编号重复时", "en": "When a client ID repeats"},
        "upload.duplicates.latest": {"zh": "保留最新", "en": "Keep the latest"},
        "upload.duplicates.first": {"zh": "保留第一条", "en": "Keep the first"},
        "upload.duplicates.stop": {"zh": "停止并提示", "en": "Stop and tell me"},
        "upload.no_issues": {
            "zh": "所有行均已加载，没有发现问题。",
            "en": "Every row was loaded; no problems found.",
        },
        "upload.kept_data": {
            "zh": "这次上传的文件没有加载，当前使用的仍是之前的数据「{name}」（{rows:,} 位客户）。",
            "en": "Nothing from this upload was loaded; the data in use is still "
            "'{name}' ({rows:,} clients).",
        },
        "upload.unmapped": {
            "zh": "未使用的列：{columns}",
            "en": "Columns not used: {columns}",
        },
        "standard.weights": {"zh": "维度权重", "en": "Dimension weights"},
        "standard.tiers": {"zh": "等级线", "en": "Tier lines"},
        "standard.mode": {"zh": "分级方式", "en": "Tiering mode"},
        "standard.mode.score": {
            "zh": "按综合分下限",
            "en": "By minimum composite score",
        },
        "standard.mode.quota": {"zh": "按名额比例", "en": "By quota share"},
        "standard.cutoff": {"zh": "{tier} 最低分", "en": "{tier} minimum score"},
        "standard.share": {
            "zh": "{tier} 及以上占前 %",
            "en": "{tier} or better: top %",
        },
        "standard.metrics": {"zh": "指标与计分规则", "en": "Metrics and scoring rules"},
        "standard.metric_weight": {"zh": "权重", "en": "Weight"},
        "standard.cuts": {
            "zh": "四个分界值（从小到大）",
            "en": "Four cut points (ascending)",
        },
        "standard.cuts_help": {
            "zh": "越大越好时：≥第4个得5分，≥第3个得4分……；越小越好时：≤第1个得5分……",
            "en": "Higher is better: ≥ the 4th scores 5, ≥ the 3rd scores 4…; lower is better: ≤ the 1st scores 5…",
        },
        "standard.cuts_invalid": {
            "zh": "「{metric}」的分界值须是用逗号分隔的四个数字。",
            "en": "The cut points of '{metric}' must be four numbers separated by commas.",
        },
        "standard.stale_counts": {
            "zh": "等级线有误，下面的人数和分布图仍是上一次有效等级线的结果，不是当前滑块的取值。请按上面的提示修正。",
            "en": "The tier lines are invalid: the counts and charts below still show the "
            "last valid tier lines, not the sliders' current values. Fix them as the message above says.",
        },
        "standard.draft_edited": {
            "zh": "当前为修改稿，尚未发布：分级结果和导出已按它计算，发布后才记入版本记录。",
            "en": "This is an edited draft, not published: results and exports "
            "already use it; it enters the version history once published.",
        },
        "standard.bins": {"zh": "分箱数", "en": "Bins"},
        "standard.apply_metrics": {"zh": "应用指标修改", "en": "Apply metric changes"},
        "standard.file": {"zh": "保存与载入", "en": "Save and load"},
        "standard.save": {
            "zh": "下载分级标准（JSON）",
            "en": "Download the standard (JSON)",
        },
        "standard.load": {"zh": "载入分级标准（JSON）", "en": "Load a standard (JSON)"},
        "method.quantile": {"zh": "分位数", "en": "quantile"},
        "method.thresholds": {"zh": "阈值", "en": "thresholds"},
        "method.category": {"zh": "类别映射", "en": "category map"},
        "method.range": {"zh": "区间换算", "en": "range"},
        "report.metric": {"zh": "指标", "en": "Metric"},
        "report.used": {"zh": "使用", "en": "Used"},
        "report.skipped": {
            "zh": "数据中无此列，已跳过",
            "en": "no such column, skipped",
        },
        "report.missing": {"zh": "缺失数", "en": "Missing"},
        "report.distinct": {"zh": "实际分档/设定", "en": "Scores used / bins"},
        "report.cuts": {
            "zh": "各分值对应取值（人数）",
            "en": "Values per score (clients)",
        },
        "results.summary": {
            "zh": "已评分 {scored:,} 位客户，未评分 {unscored:,} 位；标准：{name} v{version}",
            "en": "{scored:,} clients scored, {unscored:,} not scored; standard: {name} v{version}",
        },
        "results.dimension_means": {
            "zh": "各等级的维度平均分（1–5）",
            "en": "Average dimension scores per tier (1–5)",
        },
        "results.clients": {"zh": "客户清单", "en": "Clients"},
        "results.filter_tiers": {"zh": "等级", "en": "Tiers"},
        "results.search": {"zh": "搜索编号或姓名", "en": "Search ID or name"},
        "results.showing": {
            "zh": "显示 {shown:,} / {total:,} 位客户",
            "en": "Showing {shown:,} of {total:,} clients",
        },
        "results.explain": {
            "zh": "单个客户的得分构成",
            "en": "One client's score breakdown",
        },
        "results.pick_client": {"zh": "选择客户编号", "en": "Choose a client ID"},
        "results.pick_placeholder": {
            "zh": "从上方清单中选择",
            "en": "Pick from the list above",
        },
        "results.next_tier": {
            "zh": "距「{tier}」还差 {points:g} 分。",
            "en": "{points:g} points short of {tier}.",
        },
        "results.column.client_id": {"zh": "客户编号", "en": "Client ID"},
        "results.column.name": {"zh": "姓名", "en": "Name"},
        "results.column.composite": {"zh": "综合分", "en": "Composite"},
        "results.column.tier": {"zh": "等级", "en": "Tier"},
        "results.column.reason": {"zh": "分级理由", "en": "Reason"},
        "results.breakdown.dimension": {"zh": "维度", "en": "Dimension"},
        "results.breakdown.metric": {"zh": "指标", "en": "Metric"},
        "results.breakdown.value": {"zh": "取值", "en": "Value"},
        "results.breakdown.score": {"zh": "得分（1–5）", "en": "Score (1–5)"},
        "results.breakdown.weight": {"zh": "权重", "en": "Weight"},
        "results.breakdown.points": {"zh": "贡献分", "en": "Points"},
        "exportpage.summary": {
            "zh": "数据：{name}；{rows:,} 位客户；标准：{standard} v{version}；统计基准日：{as_of}",
            "en": "Data: {name}; {rows:,} clients; standard: {standard} v{version}; as of {as_of}",
        },
        "exportpage.edited_file": {"zh": "修改稿", "en": "edited"},
        "exportpage.unpublished_file": {"zh": "未发布", "en": "unpublished"},
        "exportpage.xlsx": {
            "zh": "下载 Excel 分级清单",
            "en": "Download the Excel workbook",
        },
        "exportpage.csv": {"zh": "下载 CSV", "en": "Download CSV"},
        "exportpage.note": {
            "zh": "工作簿含汇总、全部客户、各等级分表、数据问题和分级标准参数；文件在点击时生成。",
            "en": "The workbook has a summary, all clients, a sheet per tier, the data issues "
            "and the standard's parameters; it is built when you click.",
        },
        "chart.tiers.title": {"zh": "各等级客户数", "en": "Clients per tier"},
        "chart.clients": {"zh": "客户数", "en": "Clients"},
        "chart.histogram.title": {
            "zh": "综合分分布与等级线",
            "en": "Composite scores and tier lines",
        },
        "chart.composite": {"zh": "综合分", "en": "Composite"},
        "chart.rf.title": {
            "zh": "R×F 客户分布（分值）",
            "en": "Clients by R × F score",
        },
        "chart.rf.frequency": {"zh": "F 购买频次得分", "en": "F frequency score"},
        "chart.rf.recency": {"zh": "R 最近购买得分", "en": "R recency score"},
        "chart.waterfall.title": {
            "zh": "客户 {client} 的得分构成",
            "en": "Score of client {client}",
        },
        "chart.points": {"zh": "分", "en": "Points"},
        # The upload page's row counts, per table when two are loaded.
        "upload.counts.clients": {
            "zh": "客户表「{file}」",
            "en": "Client table '{file}'",
        },
        "upload.counts.transactions": {
            "zh": "交易明细表「{file}」",
            "en": "Transaction table '{file}'",
        },
        "upload.rows_used": {"zh": "已使用", "en": "Used"},
        "upload.rolled_up": {
            "zh": "{rows:,} 行交易汇总为 {clients:,} 位客户。",
            "en": "{rows:,} transaction rows were rolled up into {clients:,} clients.",
        },
    }
)
