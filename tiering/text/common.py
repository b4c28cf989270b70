"""Messages shared by every part of the product."""

MESSAGES = {
    "error.unexpected": {
        "zh": "处理时出现意外错误，已记录到日志。请重试；若仍失败，请联系管理员。",
        "en": "Something unexpected went wrong and was logged. Try again; "
        "if it keeps failing, contact your administrator.",
    },
    "error.file.unreadable": {
        "zh": "无法读取文件「{file}」。请确认它是 Excel（.xlsx/.xlsm/.xls）或 CSV 文件后重新上传。",
        "en": "The file '{file}' cannot be read. Make sure it is an Excel "
        "(.xlsx/.xlsm/.xls) or CSV file and upload it again.",
    },
    "error.mapping.invalid": {
        "zh": "列对应关系有误，请检查后重试。",
        "en": "The column mapping is not valid. Check it and try again.",
    },
    "error.standard.invalid": {
        "zh": "分级标准中的「{field}」有误：{problem}。请修改后重试。",
        "en": "The tier standard's field '{field}' is invalid: {problem}. "
        "Correct it and try again.",
    },
    "error.scoring.failed": {
        "zh": "无法按当前分级标准评分，请检查标准与数据列。",
        "en": "The data cannot be scored with this standard. Check the "
        "standard and the columns.",
    },
    "error.export.failed": {
        "zh": "无法生成导出文件，请重试。",
        "en": "The export file could not be written. Try again.",
    },
}
