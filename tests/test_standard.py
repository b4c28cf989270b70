import copy
import json

import pytest

from tiering.errors import StandardError
from tiering.i18n import describe_error
from tiering.standard import Standard, dumps_standard, load_standard, loads_standard

MINIMAL = {
    "name": "测试标准",
    "dimensions": [
        {
            "key": "value",
            "weight": 100,
            "metrics": [
                {
                    "key": "monetary",
                    "field": "amount",
                    "method": "quantile",
                    "weight": 100,
                }
            ],
        }
    ],
    "tiers": [
        {"name": "钻石", "color": "#111111", "min_score": 60, "share": 10},
        {"name": "普通", "color": "#999999", "min_score": 0, "share": 100},
    ],
}


def with_change(path, value):
    data = copy.deepcopy(MINIMAL)
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def test_default_standard_loads_and_round_trips(default_standard_path):
    standard = load_standard(default_standard_path)

    again = loads_standard(dumps_standard(standard))

    assert again == standard
    assert standard.tier_names() == ["钻石", "黄金", "白银", "普通"]


@pytest.mark.parametrize(
    "path, value, field, en_problem",
    [
        (("tiers",), [], "tiers", "at least two tiers"),
        (("dimensions", 0, "weight"), 120, "dimensions[0].weight", "0 to 100"),
        (
            ("dimensions", 0, "metrics", 0, "field"),
            "shoe_size",
            "dimensions[0].metrics[0].field",
            "'shoe_size' is not a known field",
        ),
        (
            ("dimensions", 0, "metrics", 0, "method"),
            "magic",
            "dimensions[0].metrics[0].method",
            "must be one of",
        ),
        (
            ("dimensions", 0, "metrics", 0, "bins"),
            7,
            "dimensions[0].metrics[0].bins",
            "2, 3, 4 or 5",
        ),
        (
            ("tiers", 1, "min_score"),
            80,
            "tiers[1].min_score",
            "is above that of the tier above",
        ),
        (("tiers", 0, "color"), "red", "tiers[0].color", "colour"),
    ],
)
def test_invalid_standard_names_the_bad_field(path, value, field, en_problem):
    with pytest.raises(StandardError) as caught:
        Standard.from_dict(with_change(path, value))

    assert caught.value.facts["field"] == field
    assert en_problem in describe_error(caught.value, "en")
    assert field in describe_error(caught.value, "zh")


def test_thresholds_must_be_four_ascending_cuts():
    metric = {"key": "m", "field": "amount", "method": "thresholds", "weight": 1}
    data = with_change(("dimensions", 0, "metrics"), [{**metric, "cuts": [4, 3, 2, 1]}])

    with pytest.raises(StandardError) as caught:
        Standard.from_dict(data)

    assert describe_error(caught.value, "zh") == (
        "分级标准中的「dimensions[0].metrics[0].cuts」有误：须从小到大排列。请修改后重试。"
    )


def test_tier_order_message_names_both_tiers_and_scores(default_standard_path):
    data = load_standard(default_standard_path).to_dict()
    data["tiers"][1]["min_score"] = 80

    with pytest.raises(StandardError) as caught:
        Standard.from_dict(data)

    assert "「黄金」的最低分 80 高于上一等级「钻石」的 75" in describe_error(
        caught.value, "zh"
    )
    assert "'黄金' (80)" in describe_error(caught.value, "en")


def test_gate_must_name_an_existing_tier():
    gate = {"field": "credit_grade", "op": "==", "value": "D", "tier": "白金"}

    with pytest.raises(StandardError) as caught:
        Standard.from_dict({**MINIMAL, "gates": [gate]})

    assert caught.value.facts["field"] == "gates[0].tier"


def test_broken_json_file_reports_the_line(tmp_path):
    path = tmp_path / "standard.json"
    path.write_text('{"name": "x",\n "tiers": [,]}', encoding="utf-8")

    with pytest.raises(StandardError) as caught:
        load_standard(path)

    assert describe_error(caught.value, "en") == (
        "The standard file 'standard.json' is not valid JSON at line 2. Fix it and try again."
    )


def test_changing_dimension_weights_keeps_everything_else():
    standard = Standard.from_dict(MINIMAL)

    changed = standard.with_dimension_weights({"value": 40})

    assert changed.dimensions[0].weight == 40
    assert changed.tiers == standard.tiers
    assert json.loads(dumps_standard(changed))["dimensions"][0]["weight"] == 40
