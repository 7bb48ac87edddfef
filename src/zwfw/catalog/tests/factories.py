"""Builders of valid catalogue data for tests (exact, readable, overridable)."""

from __future__ import annotations

from typing import Any

from zwfw.organisations.models import Department, Division

DEPARTMENT_USCC = "11511600511600040M"


def department(name: str = "广安市市场监督管理局") -> Department:
    """A department of 广安市 (creating the divisions it needs)."""
    province, _ = Division.objects.get_or_create(
        code="510000", defaults={"name": "四川省", "level": 1, "full_name": "四川省"}
    )
    city, _ = Division.objects.get_or_create(
        code="511600",
        defaults={"name": "广安市", "level": 2, "parent": province, "full_name": "四川省广安市"},
    )
    found, _ = Department.objects.get_or_create(division=city, name=name, defaults={"level": 3})
    return found


def content(**overrides: Any) -> dict[str, Any]:
    """A complete, valid content document of a 行政许可 item (食品经营许可)."""
    data: dict[str, Any] = {
        "name": "食品经营许可（新办）",
        "basic_code": "XK00012000",
        "implementation_code": "XK00012000-3-511600-11511600511600040M-01",
        "item_type": "01",
        "legal_bases": [
            {
                "law_name": "中华人民共和国食品安全法",
                "article": "第三十五条",
                "text": "国家对食品生产经营实行许可制度。",
            }
        ],
        "power_source": "法定本级行使",
        "level": "3",
        "implementing_body": {"name": "广安市市场监督管理局", "uscc": ""},
        "body_nature": "1",
        "handling_unit": "广安市市场监督管理局食品经营监管科",
        "legal_time_limit": {"value": 20, "unit": "1", "note": "自受理之日起20个工作日"},
        "promised_time_limit": {"value": 10, "unit": "1", "note": ""},
        "conditions": "申请人应当具有与经营的食品品种、数量相适应的经营场所。",
        "process_steps": [
            {"name": "申请", "description": "网上提交申请材料"},
            {"name": "受理", "description": "审查材料是否齐全"},
            {"name": "审查", "description": "必要时现场核查"},
            {"name": "决定", "description": "作出准予或不予许可决定"},
        ],
        "case_type": "2",
        "special_procedures": ["24"],
        "site_visits": 0,
        "online_steps": ["1", "2", "3", "4", "5", "6", "7"],
        "online_url": "https://zwfw.example.gov.cn/apply/XK00012000",
        "supports_delivery": True,
        "result_type": "1",
        "result_name": "食品经营许可证",
        "licence_types": ["食品经营许可证"],
        "charges_fee": False,
        "targets": ["2", "6"],
        "legal_themes": ["010"],
        "channels": ["1", "2"],
        "place": "广安市政务服务中心二楼市场监管窗口",
        "hours": "周一至周五 9:00-12:00，13:30-17:00（法定节假日除外）",
        "consult_phone": "0826-2300004",
        "complaint_phone": "12345",
        "faqs": [{"question": "办理需要多长时间？", "answer": "承诺10个工作日内办结。"}],
        "materials": [
            {
                "name": "食品经营许可申请书",
                "kinds": ["1"],
                "forms": ["1", "2"],
                "source": "1",
                "paper_copies": 1,
                "paper_spec": "A4",
                "required": True,
            },
            {
                "name": "营业执照",
                "kinds": ["3"],
                "forms": ["2"],
                "source": "2",
                "issuer": "市场监督管理部门",
                "licence_type": "营业执照",
                "required": True,
            },
            {
                "name": "经营场所平面图",
                "kinds": ["2"],
                "forms": ["2"],
                "source": "1",
                "required": True,
            },
        ],
    }
    data.update(overrides)
    return data
