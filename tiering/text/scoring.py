"""Messages about scoring and tiers."""

MESSAGES = {
    "error.scoring.no_clients": {
        "zh": "还没有可评分的客户数据，请先在「导入数据」页上传文件或加载示例数据。",
        "en": "There is no client data to score yet. Upload a file or load the "
        "sample on the Upload page first.",
    },
    "error.scoring.no_metrics": {
        "zh": "分级标准中的指标在数据里都找不到对应列。请在「导入数据」页核对列对应关系，"
        "或换用与数据匹配的分级标准。",
        "en": "None of the standard's metrics matches a column of the data. Check "
        "the column mapping on the Upload page, or use a standard that fits the data.",
    },
    "scoring.reason.score": {
        "zh": "综合分 {:.2f}，达到「{}」线 {:g} 分",
        "en": "Composite {:.2f}, at or above the {} line of {:g}",
    },
    "scoring.reason.quota": {
        "zh": "综合分 {:.2f}，位于「{}」名额（前 {:g}%）内",
        "en": "Composite {:.2f}, within the {} quota (top {:g}%)",
    },
    "scoring.reason.gate": {
        "zh": "；规则「{}」调整为「{}」",
        "en": "; rule '{}' set the tier to {}",
    },
    "scoring.reason.unscored": {
        "zh": "所有指标均缺失且按规则不计分，未评分",
        "en": "Not scored: every metric is missing and excluded by the standard",
    },
}
