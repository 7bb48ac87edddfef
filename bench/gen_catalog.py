"""Generate a synthetic catalogue of N implementation items in the platform's import template.

The county-level divisions of a province (from the division list shipped with zwfw) in turn
get a list of about 1,000 items: the usual county departments (市场监督管理局, 公安局,
民政局 …) with valid USCCs (GB 11714 and GB 32100 check characters computed) implement the
basic items of their trade (食品经营许可（新办）, 户口迁移登记 …) and their handling variants,
with realistic elements: legal bases, time limits, materials, process steps, fees, themes,
online depth. One basic item therefore has an implementation in every county, as in real
lists. Optionally injects rejected rows of the kinds J6 names (bad USCC, unknown item type,
time limit "十五天").

Usage: python bench/gen_catalog.py N OUT.xlsx|OUT.csv [--province 51] [--per-county 1000]
[--bad K] [--seed S]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (department suffix, org-code serial, [(item name, item type, targets, theme, fee)])
TRADES: list[tuple[str, int, list[tuple[str, str, str, str, bool]]]] = [
    (
        "市场监督管理局",
        4,
        [
            ("食品经营许可（新办）", "01", "企业法人、其他组织", "法人:准营准办", False),
            ("食品经营许可（变更）", "01", "企业法人、其他组织", "法人:准营准办", False),
            ("食品经营许可（延续）", "01", "企业法人、其他组织", "法人:准营准办", False),
            ("个体工商户设立登记", "07", "自然人", "自然人:设立变更", False),
            ("个体工商户注销登记", "07", "自然人", "自然人:设立变更", False),
            ("企业设立登记", "07", "企业法人", "法人:设立变更", False),
            ("特种设备使用登记", "01", "企业法人、事业法人", "法人:安全生产", False),
            ("计量器具型式批准", "01", "企业法人", "法人:质量技术", True),
            ("对无照经营行为的处罚", "02", "自然人、企业法人", "", False),
            ("消费者投诉举报处理", "20", "自然人", "自然人:消费维权", False),
        ],
    ),
    (
        "公安局",
        5,
        [
            ("户口迁移登记", "07", "自然人", "自然人:户籍办理", False),
            ("出生登记", "07", "自然人", "自然人:户籍办理", False),
            ("居民身份证申领", "20", "自然人", "自然人:证件办理", True),
            ("居住证申领", "20", "自然人", "自然人:证件办理", False),
            ("机动车注册登记", "07", "自然人、企业法人", "自然人:交通出行", True),
            ("普通护照签发", "01", "自然人", "自然人:出境入境", True),
            ("大型群众性活动安全许可", "01", "企业法人、社会组织法人", "法人:公安消防", False),
            ("剧毒化学品购买许可", "01", "企业法人", "法人:安全生产", False),
        ],
    ),
    (
        "民政局",
        6,
        [
            ("内地居民结婚登记", "07", "自然人", "自然人:婚姻登记", False),
            ("内地居民离婚登记", "07", "自然人", "自然人:婚姻登记", False),
            ("最低生活保障审核确认", "05", "自然人", "自然人:社会保障", False),
            ("特困人员认定", "05", "自然人", "自然人:社会保障", False),
            ("临时救助", "05", "自然人", "自然人:社会保障", False),
            ("社会团体成立登记", "01", "社会组织法人", "法人:设立变更", False),
            ("高龄津贴发放", "20", "自然人", "自然人:社会保障", False),
        ],
    ),
    (
        "人力资源和社会保障局",
        9,
        [
            ("就业创业证申领", "20", "自然人", "自然人:就业创业", False),
            ("失业保险金申领", "05", "自然人", "自然人:社会保障", False),
            ("职工参保登记", "20", "企业法人、事业法人", "法人:社会保障", False),
            ("劳务派遣经营许可", "01", "企业法人", "法人:人力资源", False),
            ("职业技能等级认定", "20", "自然人", "自然人:职业资格", False),
            ("创业担保贷款申请", "20", "自然人、企业法人", "自然人:就业创业", False),
        ],
    ),
    (
        "住房和城乡建设局",
        7,
        [
            ("建筑工程施工许可证核发", "01", "企业法人", "法人:国土和规划建设", False),
            ("商品房预售许可", "01", "企业法人", "法人:国土和规划建设", False),
            ("公共租赁住房资格审核", "20", "自然人", "自然人:住房保障", False),
            ("城镇污水排入排水管网许可", "01", "企业法人、事业法人", "法人:公用事业", False),
        ],
    ),
    (
        "自然资源局",
        8,
        [
            ("建设项目用地预审与选址意见书核发", "01", "企业法人", "法人:国土和规划建设", False),
            ("不动产首次登记", "07", "自然人、企业法人", "自然人:规划建设", True),
            ("乡村建设规划许可证核发", "01", "自然人", "自然人:规划建设", False),
        ],
    ),
    (
        "卫生健康局",
        11,
        [
            ("医疗机构执业登记", "01", "企业法人、事业法人", "法人:医疗卫生", False),
            ("出生医学证明首次签发", "20", "自然人", "自然人:生育收养", False),
            ("公共场所卫生许可", "01", "企业法人、其他组织", "法人:医疗卫生", False),
            ("医师执业注册", "01", "自然人", "自然人:职业资格", False),
        ],
    ),
    (
        "交通运输局",
        12,
        [
            ("道路货物运输经营许可", "01", "企业法人、自然人", "法人:交通运输", False),
            ("出租汽车驾驶员从业资格注册", "01", "自然人", "自然人:职业资格", False),
            ("公路超限运输许可", "01", "企业法人、自然人", "法人:交通运输", True),
        ],
    ),
    (
        "教育局",
        13,
        [
            ("教师资格认定", "01", "自然人", "自然人:职业资格", False),
            ("民办学校设立审批", "01", "社会组织法人", "法人:文体教育", False),
            ("义务教育阶段学生转学", "20", "自然人", "自然人:教育科研", False),
        ],
    ),
    (
        "医疗保障局",
        14,
        [
            ("基本医疗保险参保登记", "20", "自然人、企业法人", "自然人:社会保障", False),
            ("异地就医备案", "20", "自然人", "自然人:医疗卫生", False),
            ("医疗费用手工报销", "05", "自然人", "自然人:医疗卫生", False),
        ],
    ),
    (
        "生态环境局",
        15,
        [
            ("建设项目环境影响报告表审批", "01", "企业法人", "法人:环保绿化", False),
            ("排污许可证核发", "01", "企业法人、事业法人", "法人:环保绿化", False),
        ],
    ),
    (
        "农业农村局",
        16,
        [
            ("农药经营许可", "01", "企业法人、自然人", "法人:农林牧渔", False),
            ("动物防疫条件合格证核发", "01", "企业法人、自然人", "法人:农林牧渔", False),
            ("农村宅基地审批", "01", "自然人", "自然人:规划建设", False),
        ],
    ),
    (
        "退役军人事务局",
        17,
        [
            ("退役军人优待证申领", "20", "自然人", "自然人:优待抚恤", False),
            ("伤残抚恤关系转移", "05", "自然人", "自然人:优待抚恤", False),
        ],
    ),
    (
        "文化广播电视和旅游局",
        18,
        [
            ("娱乐场所经营许可", "01", "企业法人、自然人", "法人:文体教育", False),
            ("旅行社设立许可", "01", "企业法人", "法人:商务贸易", False),
        ],
    ),
]

LAWS = {
    "01": ("中华人民共和国行政许可法", "第十二条", "下列事项可以设定行政许可……"),
    "02": ("中华人民共和国行政处罚法", "第八条", "行政处罚的种类……"),
    "05": ("社会救助暂行办法", "第九条", "国家对共同生活的家庭成员人均收入低于……"),
    "07": ("中华人民共和国户口登记条例", "第十条", "公民迁出本户口管辖区……"),
}
PREFIX = {"01": "XK", "02": "CF", "05": "JF", "07": "QR", "20": "GG"}
MATERIALS = [
    "申请书|原件|纸质、电子|申请人自备||1|A4",
    "居民身份证|原件|纸质|政府部门核发|公安机关|1|A4",
    "营业执照|电子件|电子|政府部门核发|市场监督管理部门|0||是|||||||营业执照",
    "经营场所使用证明|复印件|纸质|申请人自备||1|A4",
    "法定代表人身份证明|复印件|纸质|申请人自备||1|A4|是",
    "授权委托书|原件|纸质|申请人自备||1|A4|否|委托他人办理时提供",
    "相关证明材料|复印件|电子|申请人自备",
]
STEPS = "\n".join(
    [
        "申请|网上或窗口提交申请材料",
        "受理|审查材料是否齐全、符合法定形式",
        "审查|审查申请材料实质内容",
        "决定|作出决定并送达",
    ]
)


def _county_divisions(province: str) -> list[tuple[str, str, str]]:
    """(code, name, prefecture code) of the current county-level divisions of a province."""
    sys.path.insert(0, str(REPO / "src"))
    from zwfw.organisations.divisions import division_index

    index = division_index()
    return [
        (code, rec.name, rec.parent_code or code)
        for code, rec in sorted(index.items())
        if rec.level == 3 and rec.is_current and code.startswith(province)
    ]


def department_uscc(division: str, serial: int) -> str:
    """A valid USCC of a government body (机构编制 1, 机关 1) registered in ``division``."""
    from zwfw.core.validators import org_code_check_char, uscc_check_char

    org_body = f"{division[2:6]}{serial:04d}"
    org_code = org_body + org_code_check_char(org_body)
    body = "11" + division + org_code
    return body + uscc_check_char(body)


#: Handling variants that turn the base items into a county list of ~1,000 items (子项).
VARIANTS = [
    "",
    "（变更）",
    "（延续）",
    "（注销）",
    "（补办）",
    "（换发）",
    "（迁移）",
    "（备案）",
    "（首次申请）",
    "（分支机构）",
    "（跨区域）",
    "（委托办理）",
    "（容缺受理）",
    "（告知承诺）",
    "（加急）",
    "（集中办理）",
    "（一件事）",
    "（预约办理）",
    "（网上申请）",
    "（窗口申请）",
]


def rows(
    count: int, province: str = "51", seed: int = 7, per_county: int = 1000
) -> Iterator[dict[str, str]]:
    """``count`` template rows (cells by field): ``per_county`` items in each county in turn.

    A county list has its 14 departments each implementing its trade's items and their
    handling variants; the next county has the same basic items (as real lists do).
    """
    rng = random.Random(seed)
    counties = _county_divisions(province)
    capacity = sum(len(items) for _s, _n, items in TRADES) * len(VARIANTS)
    per_county = min(per_county, capacity)
    if count > per_county * len(counties):
        raise SystemExit(
            f"{count} items need more than the {len(counties)} counties of province {province}"
        )
    produced = 0
    for code, county, _prefecture in counties:
        in_county = 0
        for variant_number, variant in enumerate(VARIANTS):
            main = 0
            for suffix, serial, items in TRADES:
                department = f"{county}{suffix}"
                uscc = department_uscc(code, serial)
                for base_name, item_type, targets, theme, fee in items:
                    main += 1
                    if produced >= count:
                        return
                    if in_county >= per_county:
                        break
                    basic = f"{PREFIX[item_type]}{main:05d}{variant_number:03d}"
                    yield _row(
                        rng,
                        (code, department, uscc),
                        (base_name + variant, item_type, targets, theme, fee, basic),
                    )
                    produced += 1
                    in_county += 1


def _row(
    rng: random.Random,
    body: tuple[str, str, str],
    item: tuple[str, str, str, str, bool, str],
) -> dict[str, str]:
    division, department, uscc = body
    name, item_type, targets, theme, fee, basic = item
    legal = rng.choice([5, 10, 15, 20, 30, 60])
    promised = max(1, legal // rng.choice([1, 2, 3]))
    depth = rng.choice(["Ⅱ", "Ⅲ", "Ⅳ", "Ⅳ"])
    law = LAWS.get(item_type)
    person = "自然人" in targets
    legal_theme = theme.removeprefix("法人:") if theme.startswith("法人:") else ""
    person_theme = theme.removeprefix("自然人:") if theme.startswith("自然人:") and person else ""
    if legal_theme and targets == "自然人":
        legal_theme = ""
    cells = {
        "name": name,
        "basic_code": basic,
        "implementation_code": f"{basic}-4-{division}-{uscc}-01",
        "item_type": {"01": "行政许可", "02": "行政处罚", "05": "行政给付", "07": "行政确认"}.get(
            item_type, "公共服务"
        ),
        "division_code": division,
        "department_name": department,
        "department_code": uscc,
        "level": "县级",
        "legal_basis": "|".join(law) if law else "",
        "power_source": "法定本级行使" if law else "",
        "legal_time_limit": str(legal),
        "legal_time_limit_unit": "工作日",
        "promised_time_limit": str(promised),
        "promised_time_limit_unit": "工作日",
        "case_type": "承诺件",
        "conditions": f"符合{name}的法定条件，申请材料齐全、符合法定形式。",
        "process_steps": STEPS,
        "online_depth": depth,
        "online_url": f"https://zwfw.sc.gov.cn/apply/{basic}" if depth != "Ⅱ" else "",
        "site_visits": {"Ⅱ": "2", "Ⅲ": "1", "Ⅳ": "0"}[depth],
        "site_visit_reason": "需核验原件" if depth != "Ⅳ" else "",
        "supports_delivery": rng.choice(["是", "否"]),
        "result_type": "出文办结",
        "charges_fee": "是" if fee else "否",
        "fees": f"{name}工本费|按国家规定标准收取|价格主管部门批复|{rng.choice([10, 20, 50])}"
        if fee
        else "",
        "target": targets,
        "person_theme": person_theme,
        "legal_theme": legal_theme,
        "channel": "窗口办理、网上办理（电脑端）、移动端",
        "place": f"{department}政务服务窗口",
        "hours": "周一至周五 9:00-12:00，14:00-17:30（法定节假日除外）",
        "phone": f"0{rng.randrange(810, 839)}-{rng.randrange(2000000, 2999999)}",
        "complaint_phone": "12345",
        "materials": "\n".join(rng.sample(MATERIALS[:2] + MATERIALS[3:], 3)),
    }
    return cells


def inject_bad(cells: dict[str, str], kind: int) -> dict[str, str]:
    """One of J6's rejected rows: 0 bad USCC, 1 unknown item type, 2 time limit 十五天."""
    bad = dict(cells)
    if kind == 0:
        uscc = bad["department_code"]
        bad["department_code"] = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    elif kind == 1:
        bad["item_type"] = "内部审批事项"
    else:
        bad["promised_time_limit"] = "十五天"
    return bad


def write(
    path: Path,
    count: int,
    *,
    province: str = "51",
    bad: int = 0,
    seed: int = 7,
    per_county: int = 1000,
) -> int:
    """Write the file; returns its size in bytes."""
    sys.path.insert(0, str(REPO / "src"))
    from zwfw.catalog import spreadsheet

    columns = spreadsheet.TEMPLATE_COLUMNS
    every = count // bad if bad else 0

    def table() -> Iterator[list[str]]:
        for number, good in enumerate(rows(count, province, seed, per_county)):
            bad_row = every and number % every == every - 1
            cells = inject_bad(good, (number // every) % 3) if bad_row else good
            yield [cells.get(c.field, "") for c in columns]

    buffer = io.BytesIO()
    if path.suffix.lower() == ".csv":
        spreadsheet.write_csv(buffer, table())
    else:
        spreadsheet.write_xlsx(buffer, table())
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--province", default="51", help="2-digit province code (51 四川)")
    parser.add_argument("--per-county", type=int, default=1000, help="items per county")
    parser.add_argument("--bad", type=int, default=0, help="rows to make invalid (J6 kinds)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    size = write(
        args.out,
        args.count,
        province=args.province,
        bad=args.bad,
        seed=args.seed,
        per_county=args.per_county,
    )
    print(
        f"{args.count:,} items → {args.out} ({size / 1e6:.1f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
