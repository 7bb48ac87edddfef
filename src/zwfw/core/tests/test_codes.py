"""Code tables (SPEC §3.1, §3.3, §6; GB/T 39046 appendix A; GB/T 2261.1; GB/T 3304)."""

from __future__ import annotations

import inspect

import pytest
from django.db import models

from zwfw.core import codes
from zwfw.core.codes import (
    BasicCodePrefix,
    CaseType,
    Channel,
    Ethnicity,
    ExerciseLevel,
    IdentityDocumentType,
    ImplementingBodyNature,
    ItemType,
    LegalPersonTheme,
    NaturalPersonTheme,
    OnlineDepth,
    OnlineStep,
    ServiceTarget,
    Sex,
    SpecialProcedureKind,
    TimeLimitUnit,
    label,
    online_depth_level,
    validate_code,
)
from zwfw.core.errors import ValidationError


def _error(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


# --- item types and basic-code prefixes ---------------------------------------------------


def test_item_types_are_the_spec_codes_as_strings() -> None:
    assert ItemType.choices == [
        ("01", "行政许可"),
        ("02", "行政处罚"),
        ("03", "行政强制"),
        ("04", "行政征收"),
        ("05", "行政给付"),
        ("06", "行政检查"),
        ("07", "行政确认"),
        ("08", "行政奖励"),
        ("09", "行政裁决"),
        ("10", "其他行政权力"),
        ("20", "公共服务"),
    ]


def test_group_00_is_a_label_not_an_item_type() -> None:
    assert codes.ITEM_TYPE_GROUPS == {"00": "行政权力", "20": "公共服务"}
    assert _error(validate_code, ItemType, "00").code == "code.unknown"
    assert codes.item_type_group("01") == "00"
    assert codes.item_type_group("10") == "00"
    assert codes.item_type_group("13") == "00"
    assert codes.item_type_group("20") == "20"
    assert codes.item_type_group("27") == "20"
    assert _error(codes.item_type_group, "30").code == "code.unknown"


def test_local_item_type_extensions() -> None:
    assert [c for c in (f"{n:02d}" for n in range(100)) if codes.is_local_item_type(c)] == [
        *(f"{n}" for n in range(11, 20)),
        *(f"{n}" for n in range(21, 30)),
    ]
    assert codes.validate_item_type(" 11 ") == "11"
    assert codes.validate_item_type("05") == "05"
    error = _error(codes.validate_item_type, "11", allow_local=False)
    assert error.code == "code.unknown"
    assert error.details["field"] == "item_type"
    assert codes.item_type_label("11") == "地方扩展事项类型（11）"
    assert codes.item_type_label("11", {"11": "内部审批"}) == "内部审批"
    assert codes.item_type_label("01") == "行政许可"


def test_basic_code_prefix_mapping_both_ways() -> None:
    pairs = {
        "01": "XK",
        "02": "CF",
        "03": "QZ",
        "04": "ZS",
        "05": "JF",
        "06": "JC",
        "07": "QR",
        "08": "JL",
        "09": "CJ",
        "10": "QT",
        "20": "GG",
    }
    assert {t: codes.basic_code_prefix(t) for t in ItemType.values} == pairs
    assert {p: codes.item_type_for_prefix(p) for p in BasicCodePrefix.values} == {
        p: t for t, p in pairs.items()
    }
    assert codes.basic_code_prefix("12") == "QT"
    assert codes.basic_code_prefix("21") == "GG"
    assert _error(codes.item_type_for_prefix, "XX").code == "code.unknown"
    assert _error(codes.basic_code_prefix, "99").code == "code.unknown"


# --- the other §3.1 tables ------------------------------------------------------------------


def test_small_tables() -> None:
    assert ServiceTarget.choices == [
        ("1", "自然人"),
        ("2", "企业法人"),
        ("3", "事业法人"),
        ("4", "社会组织法人"),
        ("5", "行政机关"),
        ("6", "其他组织"),
    ]
    assert ImplementingBodyNature.values == ["1", "2", "3", "9"]
    assert ExerciseLevel.values == ["1", "2", "3", "4", "5", "6", "7"]
    assert ExerciseLevel("5").label == "镇（乡、街道）级"
    assert ExerciseLevel("7").label == "分级管理"
    assert Channel.values == ["1", "2", "3", "4", "9"]
    assert OnlineStep.values == ["1", "2", "3", "4", "5", "6", "7"]
    assert OnlineStep("7").label == "互联网电子证照反馈"
    assert TimeLimitUnit.choices == [("1", "工作日"), ("2", "自然日")]
    assert codes.TongbanScope.values == ["1", "2", "3", "4"]
    assert codes.ResultType.labels == ["出证办结", "出文办结", "审批办结"]
    assert codes.ReviewType.labels == ["即审即办", "前审后批"]
    assert codes.StepStatus.choices == [("1", "待办"), ("2", "已办")]
    assert codes.Satisfaction("5").label == "非常不满意"


def test_themes_are_two_separate_tables() -> None:
    assert len(NaturalPersonTheme.values) == 32
    assert len(LegalPersonTheme.values) == 35
    assert label(NaturalPersonTheme, "005") == "生育收养"
    assert label(LegalPersonTheme, "005") == "设立变更"
    assert label(NaturalPersonTheme, "085") == "社会保障"
    assert label(LegalPersonTheme, "085") == "国土和规划建设"
    assert label(LegalPersonTheme, "170") == "档案文物"
    # 080 is in neither list; 160/165/170 only in the legal-person list.
    assert _error(validate_code, NaturalPersonTheme, "080").code == "code.unknown"
    assert _error(validate_code, LegalPersonTheme, "080").code == "code.unknown"
    assert _error(validate_code, NaturalPersonTheme, "170").code == "code.unknown"
    for table in (NaturalPersonTheme, LegalPersonTheme):
        assert all(len(code) == 3 and code.isdigit() for code in table.values)
        assert table.values[-2:] == ["998", "999"]


def test_case_types_and_their_wire_codes() -> None:
    assert CaseType.choices == [
        ("1", "即办件"),
        ("2", "承诺件"),
        ("3", "上报件"),
        ("4", "联办件"),
        ("9", "其他"),
    ]
    assert [codes.case_type_wire_code(c) for c in CaseType.values] == ["1", "2", "9", "9", "9"]


def test_special_procedures_and_their_wire_codes() -> None:
    assert SpecialProcedureKind.labels == [
        "延长审批",
        "除延长审批之外的情况",
        "听证",
        "检验检测",
        "鉴定",
        "实地核查",
        "专家评审",
        "其他",
    ]
    wire = {k: codes.special_procedure_wire_code(k) for k in SpecialProcedureKind.values}
    assert wire == {
        "1": "1",
        "2": "2",
        "21": "2",
        "22": "2",
        "23": "2",
        "24": "2",
        "25": "2",
        "29": "2",
    }


# --- online depth ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "level"),
    [
        ([], "I"),
        (["1"], "I"),
        (["1", "7"], "I"),
        (["3"], "II"),
        (["2"], "II"),
        (["1", "2", "3"], "II"),
        (["2", "4"], "III"),
        (["2", "3", "4", "5"], "III"),
        (["4", "5", "6"], "I"),  # nothing is submitted online, so nothing is accepted online
        (["2", "4", "5", "6"], "IV"),
        (["1", "2", "3", "4", "5", "6", "7"], "IV"),
    ],
)
def test_online_depth_level(steps: list[str], level: str) -> None:
    assert online_depth_level(steps) == level


def test_online_depth_level_iv_needs_licence_feedback_when_a_licence_is_issued() -> None:
    assert online_depth_level(["2", "4", "5", "6"], issues_licence=True) == "III"
    assert online_depth_level(["2", "4", "5", "6", "7"], issues_licence=True) == "IV"
    assert online_depth_level(iter(["2", "4", "5", "6", "2"])) == "IV"  # any iterable, dupes


def test_online_depth_level_rejects_unknown_steps() -> None:
    error = _error(online_depth_level, ["2", "8"])
    assert error.code == "code.unknown"
    assert error.details["table"] == "OnlineStep"
    assert error.details["value"] == "8"
    assert error.details["field"] == "online_steps"
    assert _error(online_depth_level, [2]).code == "code.unknown"  # ints are not codes


def test_site_visits_follow_the_depth() -> None:
    assert OnlineDepth.values == ["I", "II", "III", "IV"]
    assert codes.validate_site_visits("IV", 0) == 0
    assert codes.validate_site_visits("III", 1) == 1
    assert codes.validate_site_visits("I", 3) == 3
    error = _error(codes.validate_site_visits, "IV", 1)
    assert error.code == "online_depth.site_visits"
    assert error.message == "网上办理深度为Ⅳ 全程网办的事项，到办事现场次数最多0次，填写的是1次。"
    assert error.details == {"depth": "IV", "visits": 1, "max_visits": 0, "field": "site_visits"}
    assert _error(codes.validate_site_visits, "III", 2).code == "online_depth.site_visits"
    assert _error(codes.validate_site_visits, "II", -1).code == "online_depth.site_visits"
    assert _error(codes.validate_site_visits, "V", 0).code == "code.unknown"


# --- person data ----------------------------------------------------------------------------


def test_sex_gb_t_2261_1() -> None:
    assert Sex.choices == [("0", "未知的性别"), ("1", "男性"), ("2", "女性"), ("9", "未说明的性别")]


def test_ethnicity_gb_t_3304_order() -> None:
    names = [
        "汉族",
        "蒙古族",
        "回族",
        "藏族",
        "维吾尔族",
        "苗族",
        "彝族",
        "壮族",
        "布依族",
        "朝鲜族",
        "满族",
        "侗族",
        "瑶族",
        "白族",
        "土家族",
        "哈尼族",
        "哈萨克族",
        "傣族",
        "黎族",
        "傈僳族",
        "佤族",
        "畲族",
        "高山族",
        "拉祜族",
        "水族",
        "东乡族",
        "纳西族",
        "景颇族",
        "柯尔克孜族",
        "土族",
        "达斡尔族",
        "仫佬族",
        "羌族",
        "布朗族",
        "撒拉族",
        "毛南族",
        "仡佬族",
        "锡伯族",
        "阿昌族",
        "普米族",
        "塔吉克族",
        "怒族",
        "乌孜别克族",
        "俄罗斯族",
        "鄂温克族",
        "德昂族",
        "保安族",
        "裕固族",
        "京族",
        "塔塔尔族",
        "独龙族",
        "鄂伦春族",
        "赫哲族",
        "门巴族",
        "珞巴族",
        "基诺族",
    ]
    assert len(names) == 56
    assert Ethnicity.choices == [
        *((f"{i:02d}", name) for i, name in enumerate(names, start=1)),
        ("97", "其他"),
        ("98", "外国血统中国籍人士"),
    ]


def test_identity_document_types() -> None:
    assert label(IdentityDocumentType, "111") == "居民身份证"
    assert label(IdentityDocumentType, "414") == "普通护照"
    assert label(IdentityDocumentType, "516") == "港澳居民来往内地通行证"
    assert label(IdentityDocumentType, "511") == "台湾居民来往大陆通行证"
    assert label(IdentityDocumentType, "553") == "外国人永久居留身份证"
    assert label(IdentityDocumentType, "901") == "统一社会信用代码"
    assert all(len(c) == 3 and c.isdigit() for c in IdentityDocumentType.values)


def test_uscc_authorities_and_categories_agree() -> None:
    assert list(codes.USCC_CATEGORIES) == codes.UsccAuthority.values
    assert codes.USCC_CATEGORIES["1"] == {
        "1": "机关",
        "2": "事业单位",
        "3": "中央编办直接管理机构编制的群众团体",
        "9": "其他",
    }
    assert codes.USCC_CATEGORIES["5"] == {
        "1": "社会团体",
        "2": "民办非企业单位",
        "3": "基金会",
        "9": "其他",
    }
    assert codes.USCC_CATEGORIES["9"] == {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}
    assert codes.USCC_CATEGORIES["Y"] == {"1": "其他"}


# --- generic helpers ------------------------------------------------------------------------


def test_validate_code_is_exact_about_strings() -> None:
    assert validate_code(ItemType, "01") == "01"
    assert validate_code(ItemType, " 01\t") == "01"
    assert validate_code(ServiceTarget, ServiceTarget.ENTERPRISE) == "2"
    error = _error(validate_code, ItemType, "1", "type")
    assert error.code == "code.unknown"
    assert error.message == (
        "“事项类型”中没有代码“1”。可用代码：01、02、03、04、05、06、07、08、09、10、20。"
    )
    assert error.message_en == (
        "Code '1' is not in the item type table "
        "(known: 01, 02, 03, 04, 05, 06, 07, 08, 09, 10, 20)."
    )
    assert error.details == {
        "table": "ItemType",
        "value": "1",
        "allowed": ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20"],
        "field": "type",
    }
    assert _error(validate_code, ServiceTarget, 1).details["value"] == "1"
    assert _error(validate_code, ServiceTarget, None).code == "code.unknown"


def test_label() -> None:
    assert label(ItemType, "20") == "公共服务"
    assert label(Sex, "9") == "未说明的性别"
    assert label(Sex, "3", default="—") == "—"
    assert _error(label, Sex, "3").code == "code.unknown"


def test_every_table_has_a_name() -> None:
    tables = [
        obj
        for _, obj in inspect.getmembers(codes, inspect.isclass)
        if issubclass(obj, models.Choices) and obj.__module__ == codes.__name__
    ]
    assert len(tables) == 22
    for table in tables:
        zh, en = codes.table_name(table)
        assert zh != table.__name__
        assert en != table.__name__
    assert codes.table_name(ItemType) == ("事项类型", "item type")
