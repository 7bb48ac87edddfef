"""Bulk loader of a large, realistic published catalogue for the search benchmark.

Names are built from real item-name parts (户口迁移, 社会保险登记, 食品经营许可, 建设工程规划
许可 …) with real actions and variants, implemented by departments of 广安市 and its counties,
so that one basic item has many implementations as in a real list. Items, versions, facets
and search documents are written with bulk operations; the search documents are built by
the same ``build_document`` that ``index_items`` uses.
"""

from __future__ import annotations

import random
import time
from typing import Any

OBJECTS: list[tuple[str, list[str], str]] = [
    # (object, actions, person theme or legal theme "L…")
    ("户口", ["迁移", "迁入", "迁出", "登记", "注销", "恢复"], "010"),
    ("居民身份证", ["申领", "换领", "补领", "临时申领"], "090"),
    ("居住证", ["申领", "签注", "换领"], "090"),
    ("社会保险", ["登记", "参保登记", "关系转移接续", "缴费基数申报", "待遇核定"], "085"),
    ("社保卡", ["申领", "补领", "换领", "挂失", "启用"], "085"),
    ("基本医疗保险", ["参保登记", "异地就医备案", "费用报销", "关系转移接续"], "145"),
    ("城乡居民养老保险", ["参保登记", "待遇申领", "注销登记"], "085"),
    ("失业保险金", ["申领", "发放"], "085"),
    ("住房公积金", ["提取", "缴存", "贷款", "转移接续", "个人账户设立"], "075"),
    ("机动车驾驶证", ["申领", "换证", "补证", "审验"], "095"),
    ("机动车", ["注册登记", "转移登记", "抵押登记", "注销登记", "检验合格标志核发"], "095"),
    ("婚姻", ["登记", "登记档案查询"], "060"),
    ("结婚", ["登记", "补领结婚证"], "060"),
    ("离婚", ["登记"], "060"),
    ("出生医学证明", ["首次签发", "补发", "换发"], "005"),
    ("生育", ["登记", "服务证办理"], "005"),
    ("收养", ["登记", "解除登记"], "005"),
    ("残疾人证", ["申领", "换领", "迁移"], "065"),
    ("最低生活保障", ["审核确认", "申请"], "085"),
    ("特困人员", ["认定", "救助供养"], "085"),
    ("临时救助", ["申请", "审批"], "085"),
    ("高龄津贴", ["申领", "发放"], "085"),
    ("退役军人", ["优待证申领", "安置", "档案接收"], "065"),
    ("普通护照", ["签发", "换发", "补发"], "105"),
    ("往来港澳通行证", ["签发", "签注"], "105"),
    ("教师资格", ["认定", "证书补发"], "050"),
    ("职业技能等级", ["认定", "证书查询"], "050"),
    ("就业创业证", ["申领", "补领"], "030"),
    ("创业担保贷款", ["申请", "贴息"], "030"),
    ("不动产", ["首次登记", "转移登记", "抵押登记", "变更登记", "注销登记"], "070"),
    ("殡葬", ["补贴申领", "火化证明"], "155"),
    ("营业执照", ["核发", "变更", "注销", "补领"], "L005"),
    ("个体工商户", ["设立登记", "变更登记", "注销登记"], "L005"),
    ("公司", ["设立登记", "变更登记", "注销登记", "备案"], "L005"),
    ("农民专业合作社", ["设立登记", "变更登记"], "L005"),
    ("食品经营许可", ["（新办）", "（变更）", "（延续）", "（注销）"], "L010"),
    ("食品生产许可", ["（新办）", "（变更）", "（延续）"], "L010"),
    ("药品经营许可", ["（新办）", "（变更）", "（换证）"], "L010"),
    ("医疗器械经营", ["许可", "备案"], "L010"),
    ("建设工程规划许可", ["（新办）", "（变更）", "（延期）"], "L085"),
    ("建筑工程施工许可", ["（新办）", "（变更）"], "L085"),
    ("建设用地规划许可", ["核发", "变更"], "L085"),
    ("商品房预售许可", ["核发", "变更"], "L085"),
    ("城市道路", ["占用许可", "挖掘许可"], "L085"),
    ("户外广告设施", ["设置许可", "延续"], "L085"),
    ("道路运输经营许可", ["（新办）", "（变更）", "（注销）"], "L090"),
    ("出租汽车", ["经营许可", "车辆运营证核发"], "L090"),
    ("烟草专卖零售许可", ["（新办）", "（延续）", "（停业）"], "L010"),
    ("排污许可", ["核发", "变更", "延续"], "L095"),
    ("取水许可", ["审批", "延续"], "L105"),
    ("林木采伐许可", ["核发"], "L075"),
    ("种子生产经营许可", ["核发", "变更"], "L075"),
    ("兽药经营许可", ["核发", "换发"], "L075"),
    ("危险化学品经营许可", ["核发", "变更", "延期"], "L145"),
    ("娱乐场所经营许可", ["核发", "变更"], "L010"),
    ("民办学校办学许可", ["设立", "变更", "终止"], "L120"),
    ("医疗机构执业许可", ["登记", "校验", "变更"], "L110"),
    ("医师执业", ["注册", "变更注册"], "L110"),
    ("护士执业", ["注册", "延续注册"], "L110"),
    ("公共场所卫生许可", ["（新办）", "（延续）", "（变更）"], "L110"),
    ("消防安全检查", ["公众聚集场所投入使用前"], "L150"),
    ("特种设备使用", ["登记", "变更登记"], "L145"),
    ("税务登记", ["信息确认", "变更", "注销"], "L025"),
    ("发票", ["领用", "代开", "验旧"], "L025"),
    ("契税", ["申报", "减免"], "L025"),
    ("劳动合同", ["备案", "鉴证"], "L030"),
    ("社会团体", ["成立登记", "变更登记", "注销登记"], "L005"),
    ("民办非企业单位", ["成立登记", "变更登记"], "L005"),
]
PREFIXES = ["", "", "", "", "个人", "单位", "企业", "跨省", "市内", "省内", "网上"]
MATERIALS = [
    "申请表",
    "居民身份证",
    "户口簿",
    "营业执照",
    "结婚证",
    "社会保障卡",
    "不动产权证书",
    "授权委托书",
    "法定代表人身份证明",
    "经营场所证明",
    "近期免冠照片",
    "医学证明",
    "劳动合同",
    "建设工程设计方案",
    "环境影响评价文件",
    "机动车行驶证",
    "出生医学证明",
    "公司章程",
    "验资报告",
    "工作人员名单",
]
CONDITIONS = [
    "申请人应当具有完全民事行为能力并提交真实有效的{m}。",
    "在本行政区域内具有合法稳定住所，已参加{o}的人员可以申请。",
    "符合法律法规规定条件的{t}，持{m}向{d}提出申请。",
    "申请人应当具有与申请事项相适应的场所、设备和人员，并提交{m}。",
    "依法办理{o}相关手续，材料齐全、符合法定形式的予以受理。",
]
LAWS = [
    "中华人民共和国行政许可法",
    "中华人民共和国社会保险法",
    "中华人民共和国户口登记条例",
    "住房公积金管理条例",
    "中华人民共和国道路交通安全法",
    "中华人民共和国食品安全法",
    "中华人民共和国城乡规划法",
    "婚姻登记条例",
    "中华人民共和国税收征收管理法",
]
DEPARTMENT_KINDS = [
    "公安局",
    "人力资源和社会保障局",
    "医疗保障局",
    "市场监督管理局",
    "住房和城乡建设局",
    "自然资源和规划局",
    "交通运输局",
    "民政局",
    "卫生健康委员会",
    "税务局",
    "退役军人事务局",
    "教育和体育局",
    "农业农村局",
    "生态环境局",
    "水利局",
    "应急管理局",
    "行政审批局",
    "住房公积金管理中心",
]
DIVISIONS = [
    ("511600", "广安市", 2),
    ("511602", "广安区", 3),
    ("511603", "前锋区", 3),
    ("511621", "岳池县", 3),
    ("511622", "武胜县", 3),
    ("511623", "邻水县", 3),
    ("511681", "华蓥市", 3),
]
LIFE_EVENTS = ["birth", "school", "work", "marriage", "move", "retire", "open_business"]


def _divisions_and_departments() -> list[Any]:
    from zwfw.organisations.models import Department, Division

    province, _ = Division.objects.get_or_create(
        code="510000", defaults={"name": "四川省", "level": 1, "full_name": "四川省"}
    )
    departments = []
    for code, name, level in DIVISIONS:
        parent = province if level == 2 else Division.objects.get(code="511600")
        division, _ = Division.objects.get_or_create(
            code=code,
            defaults={"name": name, "level": level, "parent": parent, "full_name": name},
        )
        for kind in DEPARTMENT_KINDS:
            department, _ = Department.objects.get_or_create(
                division=division, name=f"{name}{kind}", defaults={"level": level + 1}
            )
            departments.append(department)
    return departments


def _content(name: str, rng: random.Random, theme: str, dept: str, targets: list[str]) -> dict:
    materials = rng.sample(MATERIALS, rng.randint(2, 6))
    obj = name[:4]
    conditions = "".join(
        template.format(m=rng.choice(materials), o=obj, t="申请人", d=dept)
        for template in rng.sample(CONDITIONS, 2)
    )
    is_legal = theme.startswith("L")
    return {
        "name": name,
        "item_type": "01",
        "level": "3",
        "conditions": conditions,
        "materials": [{"name": m, "kinds": ["1"], "forms": ["1"]} for m in materials],
        "process_steps": [{"name": s} for s in ("申请", "受理", "审查", "决定", "送达")],
        "legal_bases": [{"law_name": rng.choice(LAWS), "article": "第十条"}],
        "handling_unit": dept,
        "faqs": [{"question": f"办理{obj}需要多长时间？", "answer": "按承诺时限办结。"}],
        "targets": targets,
        "person_themes": [] if is_legal else [theme],
        "legal_themes": [theme[1:]] if is_legal else [],
        "keywords": [],
    }


def load(count: int, seed: int = 7, batch: int = 2000) -> dict[str, float]:
    """Create ``count`` published items with versions, facets and search documents.

    Returns timings per phase (seconds). Expects an empty catalogue.
    """
    from django.db import connection, transaction

    from zwfw.catalog.models import Item, ItemFacet, ItemSearchDocument, ItemStatus, ItemVersion
    from zwfw.catalog.search import build_document

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    departments = _divisions_and_departments()
    item_types = ["01"] * 6 + ["07"] * 2 + ["20"] * 3 + ["05", "04", "10"]
    depths = ["I", "II", "III", "IV", "IV", "III"]
    build_seconds = 0.0
    for offset in range(0, count, batch):
        size = min(batch, count - offset)
        with transaction.atomic():
            items: list[Item] = []
            contents: list[dict] = []
            for i in range(offset, offset + size):
                obj, actions, theme = rng.choice(OBJECTS)
                name = f"{rng.choice(PREFIXES)}{obj}{rng.choice(actions)}"
                department = rng.choice(departments)
                is_legal = theme.startswith("L")
                targets = rng.sample(["2", "3", "4", "6"], rng.randint(1, 2)) if is_legal else ["1"]
                content = _content(name, rng, theme, department.name, sorted(targets))
                item_type = rng.choice(item_types)
                items.append(
                    Item(
                        implementation_code=f"BENCH-{i:08d}",
                        department=department,
                        division_id=department.division_id,
                        status=ItemStatus.PUBLISHED,
                        version_count=1,
                        name=name,
                        basic_code=f"XK{i % 5000:05d}000",
                        item_type=item_type,
                        level=str(rng.choice([2, 3, 3, 4, 4, 4, 5])),
                        case_type="2",
                        online_depth=rng.choice(depths),
                        targets=",".join(content["targets"]),
                        person_themes=",".join(content["person_themes"]),
                        legal_themes=",".join(content["legal_themes"]),
                        promised_days=rng.randint(0, 20),
                    )
                )
                contents.append(content)
            Item.objects.bulk_create(items, batch_size=500)
            versions = [
                ItemVersion(
                    item=item,
                    number=1,
                    content=content,
                    content_hash=f"{item.pk:064d}",
                    name=item.name,
                    created_by="bench",
                )
                for item, content in zip(items, contents, strict=True)
            ]
            ItemVersion.objects.bulk_create(versions, batch_size=500)
            facets = []
            for item, content in zip(items, contents, strict=True):
                facets += [
                    ItemFacet(item=item, facet="target", value=t) for t in content["targets"]
                ]
                facets += [
                    ItemFacet(item=item, facet="person_theme", value=t)
                    for t in content["person_themes"]
                ]
                facets += [
                    ItemFacet(item=item, facet="legal_theme", value=t)
                    for t in content["legal_themes"]
                ]
                if rng.random() < 0.3:
                    facets.append(
                        ItemFacet(item=item, facet="life_event", value=rng.choice(LIFE_EVENTS))
                    )
            ItemFacet.objects.bulk_create(facets, batch_size=1000)
            build_started = time.perf_counter()
            documents = [
                build_document(item, content, item.department.name)
                for item, content in zip(items, contents, strict=True)
            ]
            build_seconds += time.perf_counter() - build_started
            ItemSearchDocument.objects.bulk_create(documents, batch_size=200)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_item SET current_version_id ="
            " (SELECT v.id FROM catalog_itemversion v WHERE v.item_id = catalog_item.id)"
            " WHERE current_version_id IS NULL"
        )
        if connection.vendor == "sqlite":
            # Merge the FTS5 segments written batch by batch, as a maintenance job would, and
            # fold the write-ahead log back into the database file.
            cursor.execute("INSERT INTO catalog_item_fts (catalog_item_fts) VALUES ('optimize')")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            cursor.execute("VACUUM ANALYZE catalog_itemsearchdocument")
            cursor.execute("ANALYZE")
    timings["load"] = time.perf_counter() - started
    timings["build_documents"] = build_seconds
    return timings
