"""The canonical client fields and the column names that mean them.

A source column is mapped to at most one canonical field. Each field has a
kind that decides how its text is read: ``id`` and ``text`` stay text exactly
as typed, ``number`` is parsed as an amount or count, ``date`` as a date,
``category`` is trimmed text. Synonyms are compared after normalising the
header (lower case, no spaces, underscores, brackets or units in brackets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["id", "text", "number", "date", "category"]


@dataclass(frozen=True)
class Field:
    """One canonical field: its key, how it is read, and its synonyms."""

    key: str
    kind: FieldKind
    synonyms: tuple[str, ...]


FIELDS: tuple[Field, ...] = (
    Field(
        "client_id",
        "id",
        (
            "客户编号",
            "客户号",
            "客户代码",
            "客户代号",
            "客户id",
            "客户ID",
            "会员编号",
            "会员号",
            "会员账号",
            "卡号",
            "编号",
            "client_id",
            "clientid",
            "customer_id",
            "customerid",
            "customer",
            "custid",
            "cust_id",
            "id",
            "client",
            "account_id",
        ),
    ),
    Field(
        "name",
        "text",
        (
            "客户姓名",
            "客户名称",
            "姓名",
            "名称",
            "客户",
            "公司名称",
            "企业名称",
            "name",
            "client_name",
            "customer_name",
            "full_name",
        ),
    ),
    Field(
        "phone",
        "id",
        (
            "手机号",
            "手机",
            "手机号码",
            "电话",
            "联系电话",
            "联系方式",
            "phone",
            "mobile",
            "telephone",
            "tel",
        ),
    ),
    Field(
        "id_card",
        "id",
        (
            "身份证号",
            "身份证",
            "身份证号码",
            "证件号",
            "证件号码",
            "id_card",
            "idcard",
            "id_number",
        ),
    ),
    Field(
        "owner",
        "category",
        (
            "置业顾问",
            "客户经理",
            "销售顾问",
            "业务负责人",
            "负责人",
            "经办人",
            "销售",
            "owner",
            "consultant",
            "relationship_manager",
            "rm",
            "sales_rep",
        ),
    ),
    Field(
        "branch",
        "category",
        (
            "支行",
            "网点",
            "分行",
            "门店",
            "项目",
            "支行/项目",
            "所属分部",
            "部门",
            "区域",
            "branch",
            "store",
            "project",
            "region",
        ),
    ),
    Field(
        "last_purchase_date",
        "date",
        (
            "最近购买日期",
            "最近交易日期",
            "最近一次购买",
            "最后购买日期",
            "最近成交日期",
            "最后交易日期",
            "最近消费日期",
            "成交日期",
            "交易日期",
            "购买日期",
            "日期",
            "last_purchase_date",
            "last_purchase",
            "last_transaction_date",
            "date",
            "purchase_date",
            "transaction_date",
            "invoicedate",
            "invoice_date",
        ),
    ),
    Field(
        "purchase_count",
        "number",
        (
            "购买次数",
            "交易次数",
            "成交次数",
            "消费次数",
            "购买频次",
            "交易笔数",
            "次数",
            "purchase_count",
            "frequency",
            "transactions",
            "orders",
            "order_count",
        ),
    ),
    Field(
        "amount",
        "number",
        (
            "累计金额",
            "累计购买金额",
            "累计交易金额",
            "成交金额",
            "交易金额",
            "消费金额",
            "购买金额",
            "合同金额",
            "签单额",
            "金额",
            "amount",
            "monetary",
            "total_amount",
            "dollar_value",
            "sales",
            "revenue",
            "value",
        ),
    ),
    Field(
        "assets",
        "number",
        (
            "资产",
            "金融资产",
            "管理资产",
            "aum",
            "资产规模",
            "日均资产",
            "存款余额",
            "余额",
            "assets",
            "balance",
            "aum_balance",
        ),
    ),
    Field(
        "income",
        "number",
        (
            "年收入",
            "收入",
            "月收入",
            "家庭年收入",
            "income",
            "annual_income",
        ),
    ),
    Field(
        "debt",
        "number",
        (
            "负债",
            "负债金额",
            "贷款余额",
            "debt",
            "liabilities",
            "loan_balance",
        ),
    ),
    Field(
        "debt_ratio",
        "number",
        (
            "负债率",
            "负债收入比",
            "debt_ratio",
            "dti",
        ),
    ),
    Field(
        "credit_grade",
        "category",
        (
            "信用等级",
            "信用评级",
            "征信等级",
            "信用级别",
            "credit_grade",
            "credit_rating",
            "grade",
        ),
    ),
    Field(
        "credit_score",
        "number",
        (
            "信用分",
            "信用评分",
            "征信评分",
            "credit_score",
            "fico",
        ),
    ),
    Field(
        "overdue_count",
        "number",
        (
            "逾期次数",
            "逾期",
            "历史逾期次数",
            "overdue_count",
            "overdues",
            "late_payments",
        ),
    ),
    Field(
        "interactions",
        "number",
        (
            "互动次数",
            "沟通次数",
            "联系次数",
            "回访次数",
            "到访次数",
            "interactions",
            "contacts",
            "interaction_count",
            "campaign",
        ),
    ),
    Field(
        "last_interaction_date",
        "date",
        (
            "最近互动日期",
            "最近联系日期",
            "最近回访日期",
            "最近到访日期",
            "last_interaction_date",
            "last_contact_date",
        ),
    ),
    Field(
        "satisfaction",
        "number",
        (
            "满意度",
            "满意度评分",
            "客户满意度",
            "satisfaction",
            "csat",
        ),
    ),
    Field(
        "referrals",
        "number",
        (
            "推荐人数",
            "转介绍",
            "转介绍人数",
            "推荐客户数",
            "referrals",
            "referral_count",
        ),
    ),
    Field(
        "motive",
        "category",
        (
            "购房动机",
            "购买动机",
            "置业目的",
            "购房目的",
            "动机",
            "motive",
            "purpose",
        ),
    ),
    Field(
        "channel",
        "category",
        (
            "渠道",
            "购买渠道",
            "来源渠道",
            "成交渠道",
            "channel",
        ),
    ),
    Field(
        "info_source",
        "category",
        (
            "信息来源",
            "客户来源",
            "获客来源",
            "来源",
            "info_source",
            "source",
        ),
    ),
    Field(
        "decision_cycle_days",
        "number",
        (
            "决策周期",
            "决策周期天数",
            "决策天数",
            "成交周期",
            "decision_cycle",
            "decision_cycle_days",
        ),
    ),
    Field(
        "price_sensitivity",
        "category",
        (
            "价格敏感度",
            "价格敏感",
            "price_sensitivity",
        ),
    ),
    Field(
        "preferred_layout",
        "category",
        (
            "意向户型",
            "偏好户型",
            "户型",
            "preferred_layout",
            "layout",
        ),
    ),
    Field(
        "preferred_area",
        "number",
        (
            "意向面积",
            "偏好面积",
            "面积",
            "preferred_area",
            "area_sqm",
        ),
    ),
    Field(
        "preferred_district",
        "category",
        (
            "意向区域",
            "偏好区域",
            "意向板块",
            "preferred_district",
            "district",
        ),
    ),
    Field(
        "service_needs",
        "category",
        (
            "服务需求",
            "需求",
            "service_needs",
            "needs",
        ),
    ),
)

FIELD_BY_KEY: dict[str, Field] = {field.key: field for field in FIELDS}

# Derived fields, computed from a date field against the as-of date.
DERIVED_RECENCY: dict[str, str] = {
    "recency_days": "last_purchase_date",
    "interaction_recency_days": "last_interaction_date",
}

_UNIT_SUFFIX = re.compile(r"[（(][^）)]*[）)]$")
_SEPARATORS = re.compile(r"[\s_\-\.·/\\*：:]+")


def normalise_header(header: str) -> str:
    """Return ``header`` reduced for synonym matching.

    Lower-cased, with a trailing unit in brackets (``金额（万元）``), a leading
    required-field asterisk, spaces, underscores and dots removed.
    """
    reduced = str(header).strip().lstrip("*＊").strip()
    reduced = _UNIT_SUFFIX.sub("", reduced)
    return _SEPARATORS.sub("", reduced.lower())


_SYNONYM_INDEX: dict[str, str] = {}
for _field in FIELDS:
    for _synonym in _field.synonyms:
        _SYNONYM_INDEX.setdefault(normalise_header(_synonym), _field.key)


def field_for_header(header: str) -> str | None:
    """Return the canonical field key a header means, or None."""
    return _SYNONYM_INDEX.get(normalise_header(header))
