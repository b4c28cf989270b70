"""Messages of the insight pages: next steps, RFM classes, CLV, playbook."""

MESSAGES = {
    "insight.problem.fraction": {
        "zh": "须为 0 到 1 之间的小数（如 0.3 表示 30%）",
        "en": "must be a fraction from 0 to 1 (0.3 means 30%)",
    },
    "insight.problem.horizon": {
        "zh": "须为 1 到 30 之间的整数年",
        "en": "must be a whole number of years from 1 to 30",
    },
    "insight.problem.positive": {"zh": "须大于 0", "en": "must be greater than 0"},
    "insight.problem.cadence": {
        "zh": "须为 1 到 365 之间的整数天",
        "en": "must be a whole number of days from 1 to 365",
    },
    "insight.problem.text": {"zh": "须为文字", "en": "must be text"},
    "insight.problem.duplicate_tier": {
        "zh": "每个等级只能有一条服务策略",
        "en": "must have at most one entry per tier",
    },
    # Templates for DuckDB format(): {} in order.
    "insight.next.up": {
        "zh": "{}再增加 {}（达到 {}）",
        "en": "{} up by {} (to {})",
    },
    "insight.next.down": {
        "zh": "{}再减少 {}（降至 {}）",
        "en": "{} down by {} (to {})",
    },
    "insight.next.fill": {
        "zh": "补充{}（达到 {}）",
        "en": "Record {} (at least {})",
    },
    "insight.next.category": {
        "zh": "{}为「{}」",
        "en": "{} of '{}'",
    },
    "insight.next.short": {
        "zh": "单项指标不足以升级：{}后仍差 {} 分才到 {}",
        "en": "No single metric is enough: after {}, still {} points short of {}",
    },
    "insight.next.reach": {"zh": "{} → 升至 {}", "en": "{} → {}"},
    "insight.next.top": {"zh": "已是最高等级", "en": "Already in the top tier"},
    "insight.next.gate": {
        "zh": "受规则「{}」限制，需先不再触发该规则",
        "en": "Held back by the rule '{}': it must no longer apply first",
    },
    "insight.unit.wan": {"zh": " 万元", "en": " × 10,000 yuan"},
    "insight.unit.yuan": {"zh": " 元", "en": " yuan"},
    "insight.rfm.high": {"zh": "高", "en": "high"},
    "insight.rfm.low": {"zh": "低", "en": "low"},
    "insight.rfm.class": {"zh": "客户价值八分类", "en": "RFM class"},
    "insight.rfm.r_rule": {
        "zh": "最近购买天数 < {value} 为高",
        "en": "high: fewer than {value} days",
    },
    "insight.rfm.f_rule": {
        "zh": "购买次数 > {value} 为高",
        "en": "high: above {value}",
    },
    "insight.rfm.m_rule": {
        "zh": "累计金额 > {value} 为高",
        "en": "high: above {value}",
    },
    "insight.rfm.important_value": {"zh": "重要价值客户", "en": "Important value"},
    "insight.rfm.important_develop": {
        "zh": "重要发展客户",
        "en": "Important to develop",
    },
    "insight.rfm.important_keep": {"zh": "重要保持客户", "en": "Important to keep"},
    "insight.rfm.important_retain": {
        "zh": "重要挽留客户",
        "en": "Important to win back",
    },
    "insight.rfm.general_value": {"zh": "一般价值客户", "en": "General value"},
    "insight.rfm.general_develop": {"zh": "一般发展客户", "en": "General to develop"},
    "insight.rfm.general_keep": {"zh": "一般保持客户", "en": "General to keep"},
    "insight.rfm.general_retain": {"zh": "一般挽留客户", "en": "General to win back"},
    "insight.rfm.none": {"zh": "数据不足未分类", "en": "Not classified (data missing)"},
    "insight.group.blank": {"zh": "（空白）", "en": "(blank)"},
    "insight.group.group": {"zh": "分组", "en": "Group"},
    "insight.group.share": {"zh": "占该级比例（%）", "en": "Share of tier (%)"},
    "insight.group.composite": {"zh": "平均综合分", "en": "Average composite"},
    "insight.column.points_to_next": {
        "zh": "距上一级差分",
        "en": "points_to_next_tier",
    },
    "insight.column.next_step": {"zh": "升级建议", "en": "next_step"},
    "insight.column.rfm_class": {"zh": "客户价值八分类", "en": "rfm_class"},
    "insight.column.clv": {"zh": "客户终身价值（元）", "en": "clv"},
    "insight.column.next_follow_up": {"zh": "下次回访日期", "en": "next_follow_up"},
    "insight.playbook.tier": {"zh": "等级", "en": "Tier"},
    "insight.playbook.services": {"zh": "服务内容", "en": "Services"},
    "insight.playbook.cadence_days": {
        "zh": "回访频率（天）",
        "en": "Follow-up every (days)",
    },
    "insight.playbook.owner_role": {"zh": "负责角色", "en": "Owner role"},
    "insight.playbook.note": {"zh": "备注", "en": "Note"},
    "insight.sheet.playbook": {"zh": "服务策略", "en": "Service playbook"},
    "owners.unassigned": {"zh": "未分配", "en": "Unassigned"},
    "owners.error.no_field": {
        "zh": "数据里没有对应「{field}」的列，无法按负责人拆分。请在「导入数据」页把置业顾问、"
        "客户经理或支行列对应上。",
        "en": "The data has no column mapped to '{field}', so the list cannot be "
        "split by owner. Map the consultant, manager or branch column on the "
        "Upload page.",
    },
    "owners.column.owner": {"zh": "负责人", "en": "Owner"},
    "owners.column.client_id": {"zh": "客户编号", "en": "Client ID"},
    "owners.column.name": {"zh": "客户姓名", "en": "Name"},
    "owners.column.composite": {"zh": "综合得分", "en": "Composite"},
    "owners.column.tier": {"zh": "分级", "en": "Tier"},
    "owners.column.reason": {"zh": "分级说明", "en": "Reason"},
    "owners.column.next_step": {"zh": "升级建议", "en": "Next step"},
    "owners.column.next_follow_up": {"zh": "下次回访日期", "en": "Next follow-up"},
    "owners.column.services": {"zh": "服务内容", "en": "Services"},
    "owners.column.cadence_days": {
        "zh": "回访频率（天）",
        "en": "Follow-up every (days)",
    },
    "owners.column.owner_role": {"zh": "负责角色", "en": "Owner role"},
    "insight.chart.rfm_treemap": {
        "zh": "客户价值八分类 × 分级",
        "en": "RFM classes × tiers",
    },
    "insight.page.next_step": {
        "zh": "升级建议：{step}",
        "en": "What would move it up: {step}",
    },
    "insight.page.rfm": {"zh": "客户价值八分类（RFM）", "en": "RFM eight classes"},
    "insight.page.split": {"zh": "高低划分依据", "en": "Split high and low at"},
    "insight.split.mean": {"zh": "平均值", "en": "the mean"},
    "insight.split.median": {"zh": "中位数", "en": "the median"},
    "insight.split.manual": {"zh": "手动设定", "en": "values I set"},
    "insight.split.recency_days": {"zh": "最近购买天数", "en": "Days since purchase"},
    "insight.split.purchase_count": {"zh": "购买次数", "en": "Purchases"},
    "insight.split.amount": {"zh": "累计金额（元）", "en": "Amount (yuan)"},
    "insight.page.no_rfm": {
        "zh": "数据里缺少最近购买日期、购买次数或金额，无法做八分类。",
        "en": "The data lacks the last purchase date, purchase count or amount, "
        "so the eight classes cannot be formed.",
    },
    "insight.page.groups": {"zh": "需求与行为分组", "en": "Needs and behaviour groups"},
    "insight.page.group_field": {"zh": "分组字段", "en": "Group by"},
    "insight.field.motive": {"zh": "购房动机", "en": "Motive"},
    "insight.field.preferred_layout": {"zh": "意向户型", "en": "Preferred layout"},
    "insight.field.preferred_area": {
        "zh": "意向面积（㎡）",
        "en": "Preferred area (㎡)",
    },
    "insight.field.preferred_district": {"zh": "意向区域", "en": "Preferred district"},
    "insight.field.price_sensitivity": {"zh": "价格敏感度", "en": "Price sensitivity"},
    "insight.field.service_needs": {"zh": "服务需求", "en": "Service needs"},
    "insight.field.channel": {"zh": "购买渠道", "en": "Channel"},
    "insight.field.info_source": {"zh": "信息来源", "en": "Information source"},
    "insight.field.decision_cycle_days": {
        "zh": "决策周期（天）",
        "en": "Decision cycle (days)",
    },
    "insight.page.clv": {
        "zh": "客户终身价值（CLV）",
        "en": "Customer lifetime value (CLV)",
    },
    "insight.page.clv_formula": {
        "zh": "CLV = 平均每次购买金额 × 毛利率 × 每年预计购买次数 × Σ(t=1..H) 留存率^(t−1) ÷ (1+折现率)^t。"
        "每年预计购买次数 = 购买次数 ÷ 统计年数；参数保存在分级标准的 clv 中，"
        "在标准中加入字段为 clv 的指标即可让它计入客户价值。",
        "en": "CLV = average purchase value × gross margin × expected purchases per "
        "year × Σ(t=1..H) retention^(t−1) ÷ (1+discount rate)^t. Purchases per year "
        "= purchase count ÷ years of history; the parameters live in the standard's "
        "clv block, and a metric on the field clv makes it count in the value "
        "dimension.",
    },
    "page.playbook": {"zh": "服务策略", "en": "Playbook"},
    "insight.playbook.help": {
        "zh": "为每个等级填写服务内容、回访频率（天）和负责角色；保存后随分级标准一起保存，"
        "并写入导出的「服务策略」表和每位客户的下次回访日期。回访频率留空表示该级不设策略。",
        "en": "For each tier, set the services, follow-up cadence (days) and owner "
        "role. Saving stores them with the standard; the export gains a playbook "
        "sheet and each client's next follow-up date. Leave the cadence blank for "
        "no entry.",
    },
    "insight.playbook.save": {"zh": "保存服务策略", "en": "Save playbook"},
    "insight.playbook.saved": {
        "zh": "服务策略已保存到当前分级标准。",
        "en": "The playbook is saved in the current standard.",
    },
    "owners.page.title": {"zh": "按负责人拆分", "en": "Lists per owner"},
    "owners.page.no_field": {
        "zh": "数据里没有置业顾问、客户经理或支行列，无法按负责人拆分。",
        "en": "The data has no consultant, manager or branch column to split by.",
    },
    "owners.page.by": {"zh": "拆分依据", "en": "Split by"},
    "owners.by.owner": {"zh": "置业顾问 / 客户经理", "en": "Consultant / manager"},
    "owners.by.branch": {"zh": "支行 / 项目", "en": "Branch / project"},
    "owners.page.shape": {"zh": "文件形式", "en": "Files"},
    "owners.shape.sheets": {
        "zh": "一个工作簿，每人一张表",
        "en": "One workbook, a sheet each",
    },
    "owners.shape.zip": {
        "zh": "每人一个工作簿（zip 压缩包）",
        "en": "A workbook each, in a zip",
    },
    "owners.page.download": {
        "zh": "下载按负责人拆分的清单",
        "en": "Download the lists per owner",
    },
}
