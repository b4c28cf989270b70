"""Messages of the command line (``python -m tiering``)."""

MESSAGES = {
    "cli.error.folder": {
        "zh": "「{file}」是文件夹，不是文件。请给出其中某个文件的路径后重试。",
        "en": "'{file}' is a folder, not a file. Give the path of a file in it "
        "and try again.",
    },
    # Joins the labels of the metrics that had no column.
    "cli.list_separator": {"zh": "、", "en": ", "},
}
