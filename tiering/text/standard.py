"""Messages about tier standards."""

MESSAGES = {
    "standard.problem.object": {"zh": "须为一个对象", "en": "must be an object"},
    "standard.problem.missing": {"zh": "缺失", "en": "is missing"},
    "standard.problem.weight": {
        "zh": "须为 0 到 100 的整数",
        "en": "must be a whole number from 0 to 100",
    },
    "standard.problem.number": {"zh": "须为数字", "en": "must be a number"},
    "standard.problem.label": {
        "zh": "须为文字，或按语言给出的文字",
        "en": "must be text or an object of texts per language",
    },
    "standard.problem.key": {
        "zh": "只能用小写字母、数字和下划线（最多 40 个）",
        "en": "must be lower-case letters, digits and _ (max 40)",
    },
    "standard.problem.score": {
        "zh": "须为 1 到 5 的整数分",
        "en": "must be a whole score from 1 to 5",
    },
    "standard.problem.bins": {
        "zh": "分箱数须为 2、3、4 或 5",
        "en": "must be 2, 3, 4 or 5",
    },
    "standard.problem.cuts": {
        "zh": "须为四个数字组成的列表",
        "en": "must be a list of four numbers",
    },
    "standard.problem.ascending": {
        "zh": "须从小到大排列",
        "en": "must be in ascending order",
    },
    "standard.problem.categories": {
        "zh": "至少要给一个取值设定分数",
        "en": "must map at least one value to a score",
    },
    "standard.problem.high": {"zh": "须大于下限 low", "en": "must be greater than low"},
    "standard.problem.metrics": {
        "zh": "至少要有一个指标",
        "en": "must list at least one metric",
    },
    "standard.problem.metric_weights": {
        "zh": "至少一个指标的权重须大于 0",
        "en": "at least one metric weight must be above 0",
    },
    "standard.problem.name": {"zh": "名称不能为空", "en": "must be a non-empty name"},
    "standard.problem.color": {
        "zh": "须为颜色，例如 #1f77b4",
        "en": "must be a colour like #1f77b4",
    },
    "standard.problem.min_score": {
        "zh": "须在 0 到 100 之间",
        "en": "must be from 0 to 100",
    },
    "standard.problem.share": {
        "zh": "须为 0 到 100 的百分比",
        "en": "must be a percentage from 0 to 100",
    },
    "standard.problem.tiers": {
        "zh": "至少要有两个等级，从高到低排列",
        "en": "must list at least two tiers, best first",
    },
    "standard.problem.tier_names": {
        "zh": "等级名称不能重复",
        "en": "tier names must be unique",
    },
    "standard.problem.tier_order": {
        "zh": "「{tier}」的最低分 {value} 高于上一等级「{above}」的 {limit}，"
        "请调低「{tier}」或调高「{above}」",
        "en": "the minimum score of '{tier}' ({value}) is above that of the "
        "tier above, '{above}' ({limit}); lower '{tier}' or raise '{above}'",
    },
    "standard.problem.share_order": {
        "zh": "「{tier}」的累计占比 {value}% 低于上一等级「{above}」的 {limit}%，"
        "请调高「{tier}」或调低「{above}」",
        "en": "the cumulative share of '{tier}' ({value} %) is below that of "
        "the tier above, '{above}' ({limit} %); raise '{tier}' or lower '{above}'",
    },
    "standard.problem.list": {"zh": "须为非空列表", "en": "must be a non-empty list"},
    "standard.problem.single": {"zh": "须为单个值", "en": "must be a single value"},
    "standard.problem.json_object": {
        "zh": "须为 JSON 对象",
        "en": "must be a JSON object",
    },
    "standard.problem.version": {
        "zh": "须为从 1 起的整数",
        "en": "must be a whole number from 1",
    },
    "standard.problem.dimensions": {
        "zh": "至少要有一个维度",
        "en": "must list at least one dimension",
    },
    "standard.problem.dimension_weights": {
        "zh": "至少一个维度的权重须大于 0",
        "en": "at least one dimension weight must be above 0",
    },
    "standard.problem.gates": {"zh": "须为列表", "en": "must be a list"},
    "standard.problem.choice": {
        "zh": "须为以下之一：{options}",
        "en": "must be one of {options}",
    },
    "standard.problem.unknown_field": {
        "zh": "「{value}」不是已知字段",
        "en": "'{value}' is not a known field",
    },
    "standard.problem.unknown_tier": {
        "zh": "「{value}」不是已定义的等级",
        "en": "'{value}' is not one of the tiers",
    },
    "standard.problem.duplicate_key": {
        "zh": "「{value}」重复使用",
        "en": "'{value}' is used twice",
    },
    "error.standard.file": {
        "zh": "无法打开分级标准文件「{file}」。请确认文件存在且为 UTF-8 编码的 JSON。",
        "en": "The standard file '{file}' cannot be opened. Make sure it exists "
        "and is UTF-8 JSON.",
    },
    "error.standard.json": {
        "zh": "分级标准文件「{file}」第 {line} 行不是有效的 JSON，请修正后重试。",
        "en": "The standard file '{file}' is not valid JSON at line {line}. "
        "Fix it and try again.",
    },
}
