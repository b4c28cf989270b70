"""Messages of reading files, mapping columns and loading rows."""

MESSAGES = {
    # Files that cannot be read.
    "error.file.empty": {
        "zh": "文件「{file}」是空的。请确认导出时选中了数据，然后重新上传。",
        "en": "The file '{file}' is empty. Check that the export included the data "
        "and upload it again.",
    },
    "error.file.too_large": {
        "zh": "文件「{file}」有 {size_mb} MB，超过了 {limit_mb} MB 的上限。"
        "请拆分文件或删去不需要的列后重新上传。",
        "en": "The file '{file}' is {size_mb} MB, over the {limit_mb} MB limit. "
        "Split it or remove unneeded columns and upload it again.",
    },
    "error.file.too_many_rows": {
        "zh": "文件「{file}」有 {rows} 行数据，超过了 {limit} 行的上限。请拆分后分批上传。",
        "en": "The file '{file}' has {rows} data rows, over the limit of {limit}. "
        "Split it and upload the parts one by one.",
    },
    "error.file.not_spreadsheet": {
        "zh": "文件「{file}」不是可读取的表格，或已损坏。"
        "请用 Excel 打开后另存为 .xlsx 或 CSV，再重新上传。",
        "en": "The file '{file}' is not a readable spreadsheet, or it is damaged. "
        "Open it in Excel, save it as .xlsx or CSV, and upload it again.",
    },
    "error.file.pdf": {
        "zh": "文件「{file}」是 PDF 文档，不是表格，读不出其中的数据。"
        "请从 CRM 系统把这张表导出为 .xlsx 或 .csv 文件，再重新上传。",
        "en": "The file '{file}' is a PDF document, not a spreadsheet, so its data "
        "cannot be read. Export the table from the CRM as .xlsx or .csv and "
        "upload that file.",
    },
    "error.file.password_protected": {
        "zh": "文件「{file}」设置了打开密码，无法读取。请在 Excel 中取消密码"
        "（文件 → 信息 → 保护工作簿）后重新上传。",
        "en": "The file '{file}' is password-protected and cannot be read. Remove "
        "the password in Excel (File → Info → Protect Workbook) and upload it again.",
    },
    "error.file.no_data": {
        "zh": "文件「{file}」的工作表里没有数据。请确认选择了正确的文件后重新上传。",
        "en": "The file '{file}' has no data on any sheet. Check that you chose "
        "the right file and upload it again.",
    },
    "error.file.unknown_sheet": {
        "zh": "文件「{file}」中没有名为「{sheet}」的工作表。可选的工作表：{sheets}。",
        "en": "The file '{file}' has no sheet named '{sheet}'. Its sheets are: {sheets}.",
    },
    "error.file.bad_header_row": {
        "zh": "表头行 {row} 不在文件「{file}」的范围内（共 {rows} 行）。请重新选择表头行。",
        "en": "Header row {row} is outside the file '{file}' ({rows} rows). "
        "Choose another header row.",
    },
    "error.file.encoding": {
        "zh": "无法识别文件「{file}」的文字编码。请在 Excel 中另存为“CSV UTF-8”后重新上传。",
        "en": "The text encoding of '{file}' cannot be recognised. Save it from "
        "Excel as 'CSV UTF-8' and upload it again.",
    },
    # Mapping problems.
    "error.mapping.no_client_id": {
        "zh": "文件「{file}」中没有对应“客户编号”的列。请在列对应中指定客户编号列，"
        "或选择“用行号作为客户编号”。",
        "en": "No column of '{file}' is mapped to the client ID. Map a column to "
        "the client ID, or choose to use row numbers as client IDs.",
    },
    "error.mapping.id_formulas": {
        "zh": "文件「{file}」工作表「{sheet}」的客户编号列「{column}」全是公式，且没有保存计算结果。"
        "请用 Excel 打开文件、保存后重新上传，或把该列另存为数值。",
        "en": "The client ID column '{column}' on sheet '{sheet}' of '{file}' holds "
        "only formulas whose results were never saved. Open the file in Excel, "
        "save it and upload it again, or paste the column as values.",
    },
    "error.mapping.blank_name": {
        "zh": "请为要保存的列对应填写一个名称，例如“CRM 月度导出”。",
        "en": "Give the mapping to be saved a name, such as 'CRM monthly export'.",
    },
    "error.mapping.unknown_field": {
        "zh": "列对应中的字段「{field}」不存在。请删除这一项或改选其他字段。",
        "en": "The mapping names a field '{field}' that does not exist. Remove it "
        "or choose another field.",
    },
    "error.mapping.unknown_column": {
        "zh": "字段「{field}」对应的列「{column}」不在文件中。请重新选择该字段对应的列。",
        "en": "The column '{column}' mapped to '{field}' is not in the file. "
        "Choose another column for that field.",
    },
    "error.mapping.column_twice": {
        "zh": "列「{column}」同时对应了「{other}」和「{field}」两个字段。每列只能对应一个字段，请改正。",
        "en": "The column '{column}' is mapped to both '{other}' and '{field}'. "
        "A column can hold one field only; correct the mapping.",
    },
    "error.mapping.bad_unit": {
        "zh": "字段「{field}」的单位无效。单位只能用于数值字段，且须大于 0。",
        "en": "The unit of '{field}' is not valid. Units apply to number fields "
        "only and must be above zero.",
    },
    "error.mapping.file": {
        "zh": "列对应文件无法读取或格式不对。请重新设置列对应并保存。",
        "en": "The mapping file cannot be read or is not a mapping. Set the "
        "mapping again and save it.",
    },
    "error.mapping.duplicate_ids": {
        "zh": "客户编号列「{column}」中有 {count} 行重复编号（第一处在第 {row} 行）。"
        "请删除重复行，或选择保留最新或最先的一行。",
        "en": "The client ID column '{column}' repeats an ID on {count} rows "
        "(first on row {row}). Remove the repeats, or choose to keep the latest "
        "or the first row.",
    },
    "error.mapping.no_transaction_fields": {
        "zh": "交易表中没有对应“交易日期”或“金额”的列，无法按客户汇总。请在列对应中指定。",
        "en": "The transaction table has no column mapped to the date or the "
        "amount, so it cannot be rolled up per client. Map one of them.",
    },
    "error.mapping.no_table": {
        "zh": "没有可载入的表。请先上传客户表或交易表。",
        "en": "There is no table to load. Upload a client or transaction table first.",
    },
    # Reasons for rows and values listed in the data-quality report.
    "ingest.reason.blank_row": {
        "zh": "第 {row} 行是空行，已跳过。",
        "en": "Row {row} is blank and was skipped.",
    },
    "ingest.reason.total_row": {
        "zh": "第 {row} 行是合计或小计行，不参与分级。",
        "en": "Row {row} is a total or subtotal row and is not tiered.",
    },
    "ingest.reason.note_row": {
        "zh": "第 {row} 行是备注或说明，不参与分级。",
        "en": "Row {row} is a note and is not tiered.",
    },
    "ingest.reason.missing_id": {
        "zh": "第 {row} 行缺少客户编号，请补全后重新上传。",
        "en": "Row {row} has no client ID. Add it and upload again.",
    },
    "ingest.reason.duplicate_id_latest": {
        "zh": "第 {row} 行的客户编号「{value}」重复，已保留最近购买（或最靠后）的一行。",
        "en": "Row {row} repeats client ID '{value}'; the row with the latest "
        "purchase (or the last row) was kept.",
    },
    "ingest.reason.duplicate_id_first": {
        "zh": "第 {row} 行的客户编号「{value}」重复，已保留最先出现的一行。",
        "en": "Row {row} repeats client ID '{value}'; the first row was kept.",
    },
    "ingest.reason.duplicate_id_stop": {
        "zh": "第 {row} 行的客户编号「{value}」重复。",
        "en": "Row {row} repeats client ID '{value}'.",
    },
    "ingest.reason.bad_number": {
        "zh": "第 {row} 行「{column}」的值「{value}」不是数字，按空值处理。请改正后重新上传。",
        "en": "Row {row}, column '{column}': '{value}' is not a number and is "
        "treated as missing. Correct it and upload again.",
    },
    "ingest.reason.bad_number_more": {
        "zh": "「{column}」从第 {row} 行起还有 {detail} 个值同样不是数字，未逐一列出；"
        "它们都按空值处理。请核对这一列后重新上传。",
        "en": "Column '{column}': {detail} more values from row {row} on are not "
        "numbers either and are not listed one by one; all are treated as "
        "missing. Check the column and upload again.",
    },
    "ingest.reason.bad_date_more": {
        "zh": "「{column}」从第 {row} 行起还有 {detail} 个值同样不是可识别的日期，"
        "未逐一列出；它们都按空值处理。请核对这一列后重新上传。",
        "en": "Column '{column}': {detail} more values from row {row} on are not "
        "dates we can read either and are not listed one by one; all are "
        "treated as missing. Check the column and upload again.",
    },
    "ingest.reason.bad_date": {
        "zh": "第 {row} 行「{column}」的值「{value}」不是可识别的日期，按空值处理。"
        "请改成 2024-03-05 这样的格式后重新上传。",
        "en": "Row {row}, column '{column}': '{value}' is not a date we can read "
        "and is treated as missing. Write it like 2024-03-05 and upload again.",
    },
    "ingest.reason.coerced_number": {
        "zh": "第 {row} 行「{column}」的「{value}」按 {detail} 读取。",
        "en": "Row {row}, column '{column}': '{value}' was read as {detail}.",
    },
    "ingest.reason.coerced_date": {
        "zh": "第 {row} 行「{column}」的「{value}」是 Excel 日期序号，按 {detail} 读取。",
        "en": "Row {row}, column '{column}': '{value}' is an Excel date number, "
        "read as {detail}.",
    },
    "ingest.reason.future_date": {
        "zh": "第 {row} 行「{column}」的日期 {value} 晚于今天（{detail}），"
        "不用来确定统计基准日；该客户的距今天数不会为负，按 0 计。请核对后重新上传。",
        "en": "Row {row}, column '{column}': the date {value} is after today "
        "({detail}). It does not set the as-of date, and the client's days since "
        "it count as 0, never negative. Check it and upload again.",
    },
    "ingest.reason.after_as_of": {
        "zh": "第 {row} 行「{column}」的日期 {value} 晚于统计基准日 {detail}，"
        "距基准日的天数按 0 计，会与其他这样的客户并列。请核对统计基准日或这个日期。",
        "en": "Row {row}, column '{column}': the date {value} is after the as-of "
        "date {detail}, so the client's days since it count as 0, tied with every "
        "such client. Check the as-of date or the value.",
    },
    "ingest.reason.future_date_more": {
        "zh": "「{column}」从第 {row} 行起还有 {detail} 个日期同样晚于今天，未逐一列出；"
        "这些客户的距今天数同样按 0 计。请核对后重新上传。",
        "en": "Column '{column}': {detail} more dates from row {row} on are after "
        "today as well and are not listed one by one; their clients' days since "
        "them count as 0 too. Check them and upload again.",
    },
    "ingest.reason.after_as_of_more": {
        "zh": "「{column}」从第 {row} 行起还有 {detail} 个日期同样晚于统计基准日，"
        "未逐一列出；这些客户距基准日的天数同样按 0 计。请核对统计基准日或这些日期。",
        "en": "Column '{column}': {detail} more dates from row {row} on are after "
        "the as-of date as well and are not listed one by one; their clients' "
        "days since them count as 0 too. Check the as-of date or the values.",
    },
    "ingest.reason.day_first_guess": {
        "zh": "「{column}」列有 {detail} 个日期（如第 {row} 行的「{value}」）既可读作"
        "日/月/年也可读作月/日/年，列中没有能判断的值，已按日/月/年读取"
        "（03/04/2025 即 2025年4月3日）。如果是月/日/年，请把这一列改成 2025-03-04 "
        "这样的格式，或加入日或月大于 12 的日期后重新上传。",
        "en": "Column '{column}': {detail} dates (such as '{value}' on row {row}) "
        "read both as day/month/year and as month/day/year, and no value in the "
        "column decides, so they were read as day/month/year (03/04/2025 is "
        "3 April 2025). If they are month/day/year, write the column like "
        "2025-03-04 and upload again.",
    },
    "ingest.reason.out_of_range": {
        "zh": "第 {row} 行「{column}」的值 {value} 不在合理范围（{detail}）内，"
        "仍照常载入并参与评分。请核对后重新上传。",
        "en": "Row {row}, column '{column}': {value} is outside the sensible range "
        "({detail}). It is loaded and scored as it is; check it and upload again.",
    },
    "ingest.reason.id_precision_lost": {
        "zh": "第 {row} 行「{column}」在 Excel 中存成了数字，超过 15 位的尾数已丢失。"
        "请把该列设为文本格式、重新录入后上传。",
        "en": "Row {row}, column '{column}' is stored as a number in Excel, so "
        "digits beyond the 15th are lost. Format the column as text, re-enter it "
        "and upload again.",
    },
    "ingest.reason.unknown_client": {
        "zh": "交易表第 {row} 行的客户编号「{value}」不在客户表中，未计入任何客户。"
        "请核对编号，或把该客户补进客户表后重新上传。",
        "en": "Transaction row {row} names client ID '{value}', which is not in "
        "the client table, so it counts for no client. Check the ID, or add the "
        "client to the client table and upload again.",
    },
    "ingest.reason.coerced_more": {
        "zh": "「{column}」从第 {row} 行起还有 {detail} 个值做了同样的转换，未逐一列出。",
        "en": "Column '{column}': {detail} more values from row {row} on were "
        "converted the same way and are not listed one by one.",
    },
    "ingest.reason.formula_no_value": {
        "zh": "工作表「{detail}」的「{column}」列是公式，但文件没有保存计算结果，读出来是空的。"
        "请用 Excel 打开文件、保存后重新上传。",
        "en": "Column '{column}' of sheet '{detail}' holds formulas whose results "
        "were never saved, so it reads as empty. Open the file in Excel, save it "
        "and upload it again.",
    },
    "ingest.reason.extra_fields": {
        "zh": "第 {row} 行有 {value} 个字段，表头只有 {detail} 个：多出的值放在了"
        "新增的 {column} 列；请核对这一行。",
        "en": "Row {row} has {value} fields but the header has {detail}: the extra "
        "values went to the added column(s) {column}; check this row.",
    },
    "ingest.reason.missing_fields": {
        "zh": "第 {row} 行只有 {value} 个字段，表头有 {detail} 个：从「{column}」列起"
        "末尾缺少的值按空值载入；请核对这一行。",
        "en": "Row {row} has {value} fields but the header has {detail}: the missing "
        "values at the end, from column '{column}' on, were left empty; check "
        "this row.",
    },
    "ingest.reason.field_count_more": {
        "zh": "从第 {row} 行起还有 {detail} 行的字段数与表头不同，未逐一列出；请核对这些行。",
        "en": "{detail} more rows from row {row} on have another number of fields "
        "than the header and are not listed one by one; check them.",
    },
    # Data-quality report columns and statuses.
    "ingest.issues.row": {"zh": "行号", "en": "Row"},
    "ingest.issues.column": {"zh": "列", "en": "Column"},
    "ingest.issues.value": {"zh": "值", "en": "Value"},
    "ingest.issues.status": {"zh": "处理", "en": "Status"},
    "ingest.issues.reason": {"zh": "原因", "en": "Reason"},
    "ingest.status.excluded": {"zh": "已排除", "en": "Excluded"},
    "ingest.status.rejected": {"zh": "未载入", "en": "Rejected"},
    "ingest.status.flagged": {"zh": "需核对", "en": "Flagged"},
    "ingest.status.coerced": {"zh": "已转换", "en": "Converted"},
    # The upload page's read line when reading took under 0.1 s: a rate from
    # a few milliseconds would be noise ("0.0 s, 649 rows per second").
    "ingest.read_quick": {
        "zh": "已读取 {rows:,} 行，用时不到 0.1 秒。",
        "en": "Read {rows:,} rows in under 0.1 s.",
    },
    # The issues' table column, shown when a client table and a transaction
    # table were loaded together: each numbers its rows from its own header.
    "ingest.issues.file": {"zh": "表", "en": "Table"},
    "ingest.file.clients": {"zh": "客户表", "en": "Client table"},
    "ingest.file.transactions": {"zh": "交易表", "en": "Transaction table"},
}
