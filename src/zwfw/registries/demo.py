"""Synthetic registry data for the demo node and benchmarks — never real persons.

:func:`people` and :func:`companies` generate deterministic records (seeded RNG) for the 广安
counties: common surnames and given-name characters, GB 11643-valid ID numbers, valid mobile
numbers, Luhn-valid bank cards, GB 32100-valid USCCs. The journey persons and company of
JOURNEYS.md have fixed values in :data:`JOURNEY_PEOPLE` and :data:`JOURNEY_COMPANY`, for tests
and the demo to import. Everything goes through the same row validation as a CSV load.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from zwfw.core.validators import org_code_check_char, resident_id_check_char, uscc_check_char
from zwfw.organisations.divisions import division_index
from zwfw.registries import loading, services
from zwfw.registries.loading import luhn_check_digit
from zwfw.registries.models import Consumer, EntityType, Mode
from zwfw.registries.schema import LEGAL_ENTITY, POPULATION

SEED = 20261001
DEMO_PEOPLE = 3000
DEMO_COMPANIES = 500
COUNTIES = ("511602", "511603", "511621", "511622", "511623", "511681")
#: Dates in the demo are relative to this day (ages in JOURNEYS.md are "in 2026").
REFERENCE_DATE = dt.date(2026, 10, 1)


@dataclass(frozen=True)
class JourneyPerson:
    """A person of JOURNEYS.md with fixed registry values (invented, check digits valid)."""

    name: str
    id_number: str
    phone: str
    social_security_card: str
    bank_card: str = ""
    housing_fund_account: str = ""
    driving_licence_file: str = ""
    address: str = ""
    ethnicity: str = "01"

    def row(self) -> dict[str, str]:
        """The person as a registry row (field → text)."""
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class JourneyCompany:
    uscc: str
    name: str
    entity_type: str
    legal_rep: str  # key of JOURNEY_PEOPLE
    address: str
    registration_date: str
    business_scope: str

    def row(self) -> dict[str, str]:
        rep = JOURNEY_PEOPLE[self.legal_rep]
        values = {k: v for k, v in asdict(self).items() if k != "legal_rep"}
        return {**values, "legal_rep_name": rep.name, "legal_rep_id_number": rep.id_number}


JOURNEY_PEOPLE: dict[str, JourneyPerson] = {
    # J1: 李娜, female, born 1992-01-20 (34 in 2026), 广安区; registers with phone + 社保卡.
    "li_na": JourneyPerson(
        name="李娜",
        id_number="511602199201200023",
        phone="13800138000",
        social_security_card="J51160223",
        bank_card="6217008511602000012",
        housing_fund_account="511602000023",
        address="四川省广安市广安区建设路12号",
    ),
    # J2: 王强, the agent of 示例餐饮管理有限公司.
    "wang_qiang": JourneyPerson(
        name="王强",
        id_number="511602198806150036",
        phone="13912345678",
        social_security_card="J51160236",
        bank_card="6228488511602000026",
        driving_licence_file="511600000036",
        address="四川省广安市广安区渠江路5号",
    ),
    # J2: 张伟, legal representative of 示例餐饮管理有限公司.
    "company_rep": JourneyPerson(
        name="张伟",
        id_number="511602197903080012",
        phone="13608260001",
        social_security_card="J51160212",
        bank_card="6212268511602000034",
        address="四川省广安市广安区滨河路88号",
    ),
    # J7: 刘德福, 80 in 2026 (born 1946-01-08), 广安区, no mobile phone.
    "elderly_man": JourneyPerson(
        name="刘德福",
        id_number="511602194601080056",
        phone="",
        social_security_card="J51160256",
        address="四川省广安市广安区北辰街3号",
    ),
}

JOURNEY_COMPANY = JourneyCompany(
    uscc="91511602MA6CXY2P91",
    name="示例餐饮管理有限公司",
    entity_type=EntityType.LIMITED_LIABILITY,
    legal_rep="company_rep",
    address="四川省广安市广安区滨河路88号",
    registration_date="2019-05-16",
    business_scope="餐饮管理；餐饮服务；食品销售（仅销售预包装食品）。",
)

#: The 人社局 business system of J8 (an OIDC client of the node; also reachable by API key).
HRSS_CONSUMER = "广安市人力资源和社会保障局业务系统"
HRSS_CLIENT_ID = "ga-hrss-business"
#: Documented demo API key of that consumer (demo data only; `make run` prints nothing secret).
DEMO_API_KEY = "zrk_demo-ga-hrss-business-not-for-production"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆亮成建国峰志文博林德福海洋"
FEMALE_CHARS = "娜芳敏静丽艳娟霞秀英玲红燕梅琳雪慧婷晶颖倩洁萍琴云兰凤月欣悦佳怡"
STREETS = (
    "建设路",
    "人民路",
    "滨河路",
    "渠江路",
    "金安大道",
    "中山街",
    "北辰街",
    "万盛街",
    "兴平街",
    "东门路",
)
MOBILE_PREFIXES = (
    "139",
    "138",
    "137",
    "136",
    "135",
    "150",
    "151",
    "158",
    "159",
    "186",
    "187",
    "188",
)
BANK_BINS = ("621700", "622848", "621226", "623668", "621661")
ETHNICITIES = ("01",) * 46 + ("15", "07", "03", "04")
TRADE_NAMES = "兴华鑫源恒通宏达瑞丰盛安嘉禾锦程天和永泰金谷蜀川渠江翠屏协兴龙腾华蓥"
INDUSTRIES = (
    ("餐饮管理", "餐饮管理；餐饮服务；食品销售。"),
    ("商贸", "日用百货、五金交电销售。"),
    ("建筑工程", "房屋建筑工程施工；市政工程施工。"),
    ("农业开发", "蔬菜、水果种植及销售；农业技术推广服务。"),
    ("科技", "软件开发；信息技术咨询服务。"),
    ("物流", "普通货物道路运输；仓储服务。"),
    ("文化传媒", "广告设计、制作、代理、发布；会议及展览服务。"),
    ("家政服务", "家政服务；养老服务；保洁服务。"),
)
_USCC_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _rng(seed: int) -> random.Random:
    # Synthetic demo data, not secrets: a seeded, reproducible generator is what is wanted.
    return random.Random(seed)  # noqa: S311


def _resident_id(
    rng: random.Random, division: str, birth: dt.date, male: bool, taken: set[str]
) -> str:
    while True:
        sequence = rng.randrange(0, 999)
        if (sequence % 2 == 1) != male:
            sequence += 1 if sequence < 998 else -1
        body = f"{division}{birth:%Y%m%d}{sequence:03d}"
        number = body + resident_id_check_char(body)
        if number not in taken:
            taken.add(number)
            return number


def _unique(rng: random.Random, make: Any, taken: set[str]) -> str:
    while True:
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value


def _bank_card(rng: random.Random) -> str:
    body = rng.choice(BANK_BINS) + "".join(rng.choices("0123456789", k=12))
    return body + luhn_check_digit(body)


def _address(rng: random.Random, division: str) -> str:
    record = division_index().get(division)
    place = record.full_name if record is not None else ""
    return f"{place}{rng.choice(STREETS)}{rng.randint(1, 300)}号"


def people(
    count: int = DEMO_PEOPLE, seed: int = SEED, *, journey: bool = True
) -> Iterator[dict[str, str]]:
    """Rows (field → text) of ``count`` synthetic people, the journey persons first."""
    rng = _rng(seed)
    ids: set[str] = set()
    phones: set[str] = set()
    cards: set[str] = set()
    produced = 0
    if journey:
        for person in JOURNEY_PEOPLE.values():
            ids.add(person.id_number)
            phones.add(person.phone)
            cards.update({person.social_security_card, person.bank_card})
            yield person.row()
            produced += 1
    start = REFERENCE_DATE - dt.timedelta(days=86 * 365)
    while produced < count:
        male = rng.random() < 0.5
        division = rng.choice(COUNTIES)
        birth = start + dt.timedelta(days=rng.randrange(0, 84 * 365))
        id_number = _resident_id(rng, division, birth, male, ids)
        given = "".join(rng.choices(MALE_CHARS if male else FEMALE_CHARS, k=rng.choice((1, 2, 2))))
        row = {
            "name": rng.choice(SURNAMES) + given,
            "id_number": id_number,
            "ethnicity": rng.choice(ETHNICITIES),
            "household_division": division,
            "address": _address(rng, division),
        }
        age = (REFERENCE_DATE - birth).days // 365
        if age >= 12:
            row["phone"] = _unique(
                rng,
                lambda r: r.choice(MOBILE_PREFIXES) + "".join(r.choices("0123456789", k=8)),
                phones,
            )
        if rng.random() < 0.9:
            row["social_security_card"] = _unique(
                rng, lambda r: "J" + "".join(r.choices("0123456789", k=8)), cards
            )
        if age >= 16 and rng.random() < 0.8:
            row["bank_card"] = _unique(rng, _bank_card, cards)
        if 22 <= age <= 65 and rng.random() < 0.5:
            row["housing_fund_account"] = "5116" + id_number[-9:-1]
        if 18 <= age <= 75 and rng.random() < 0.4:
            row["driving_licence_file"] = "5116" + "".join(rng.choices("0123456789", k=8))
        if age >= 75 and rng.random() < 0.05:
            row["status"] = "deceased"
        produced += 1
        yield row


def _uscc(rng: random.Random, prefix: str, division: str, taken: set[str]) -> str:
    while True:
        body = "MA" + "".join(rng.choices(_USCC_BODY_CHARS, k=6))
        org_code = body + org_code_check_char(body)
        code = prefix + division + org_code
        code += uscc_check_char(code)
        if code not in taken:
            taken.add(code)
            return code


def companies(
    count: int = DEMO_COMPANIES, seed: int = SEED, *, representatives: list[dict[str, str]]
) -> Iterator[dict[str, str]]:
    """Rows of ``count`` synthetic legal entities; representatives are adults of ``people``."""
    rng = _rng(seed + 1)
    adults = [
        p
        for p in representatives
        if p["id_number"][6:10] <= "1998" and p.get("status") != "deceased"
    ]
    taken = {JOURNEY_COMPANY.uscc}
    yield JOURNEY_COMPANY.row()
    names = {JOURNEY_COMPANY.name}
    for _ in range(count - 1):
        rep = rng.choice(adults)
        division = rng.choice(COUNTIES)
        roll = rng.random()
        if roll < 0.1:
            kind, prefix = EntityType.INDIVIDUAL_BUSINESS, "92"
            industry, scope = rng.choice(INDUSTRIES[:2])
            name = f"{_place(division)}{rep['name']}{industry}店"
        elif roll < 0.15:
            kind, prefix = EntityType.COOPERATIVE, "93"
            industry, scope = INDUSTRIES[3]
            name = f"{_place(division)}{''.join(rng.sample(TRADE_NAMES, 2))}农民专业合作社"
        else:
            kind, prefix = EntityType.LIMITED_LIABILITY, "91"
            industry, scope = rng.choice(INDUSTRIES)
            name = f"广安{''.join(rng.sample(TRADE_NAMES, 2))}{industry}有限公司"
        if name in names:
            continue
        names.add(name)
        adult_from = int(rep["id_number"][6:10]) + 18
        year = rng.randint(max(adult_from, 2000), 2025)
        yield {
            "uscc": _uscc(rng, prefix, division, taken),
            "name": name,
            "entity_type": kind,
            "legal_rep_name": rep["name"],
            "legal_rep_id_number": rep["id_number"],
            "address": _address(rng, division),
            "registration_date": dt.date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "business_scope": scope,
        }


def _place(division: str) -> str:
    record = division_index().get(division)
    return record.name if record is not None else ""


def load_demo_registries(
    people_count: int = DEMO_PEOPLE, companies_count: int = DEMO_COMPANIES
) -> int:
    """Load the synthetic registries and the J8 consumer; returns the number of records created."""
    person_rows = list(people(people_count))
    population = loading.load_rows(
        POPULATION.code, enumerate(person_rows, start=2), source="demo", strict=True
    )
    entities = loading.load_rows(
        LEGAL_ENTITY.code,
        enumerate(companies(companies_count, representatives=person_rows), start=2),
        source="demo",
        strict=True,
    )
    if population.errors or entities.errors:  # pragma: no cover — a generator bug
        raise AssertionError([e.as_dict() for e in (population.errors + entities.errors)[:5]])
    _ensure_hrss_consumer()
    return population.created + entities.created


def _ensure_hrss_consumer() -> None:
    if Consumer.objects.filter(name=HRSS_CONSUMER).exists():
        return
    from zwfw.organisations.models import Department

    department = Department.objects.filter(name="广安市人力资源和社会保障局").first()
    consumer, _ = services.create_consumer(
        name=HRSS_CONSUMER,
        department_id=department.pk if department else None,
        client_id=HRSS_CLIENT_ID,
        api_key=DEMO_API_KEY,
    )
    services.grant_scope(
        consumer=consumer, registry=POPULATION.code, mode=Mode.VERIFY, fields=["name", "id_number"]
    )
