"""Search synonyms: the default set, seeding, and the lookup a query uses.

Every term of a ``Synonym`` group finds items containing any other term of the group
(query expansion, so staff edits take effect at once without re-indexing). Terms are stored
normalised (:func:`zwfw.catalog.search_text.key`) so that lookups are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.db import connection, transaction

from zwfw.catalog.models import Synonym
from zwfw.catalog.search_text import key

#: Groups seeded by ``zwfw seed_synonyms``: the group name first, then its other terms.
DEFAULT_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("社保", "社会保险", "社保卡", "社会保障卡"),
    ("医保", "医疗保险", "医保卡"),
    ("养老保险", "养老金", "退休金"),
    ("失业保险", "失业金"),
    ("身份证", "居民身份证"),
    ("户口", "户籍"),
    ("公积金", "住房公积金"),
    ("驾照", "驾驶证", "机动车驾驶证"),
    ("行驶证", "机动车行驶证"),
    ("营业执照", "执照"),
    ("结婚", "结婚登记", "婚姻登记"),
    ("离婚", "离婚登记"),
    ("出生证", "出生医学证明"),
    ("护照", "普通护照"),
    ("港澳通行证", "往来港澳通行证"),
    ("准生证", "生育登记", "生育服务证"),
    ("残疾证", "残疾人证"),
    ("低保", "最低生活保障"),
    ("个体户", "个体工商户"),
    ("公司注册", "企业开办", "设立登记"),
    ("税务登记", "纳税人登记"),
    ("房产证", "不动产权证书", "不动产登记"),
    ("暂住证", "居住证"),
    ("退役军人", "复员军人", "退伍军人"),
    ("食品许可", "食品经营许可", "食品生产许可"),
)


def normalised_term(term: str) -> str:
    """The stored form of a synonym term (token characters, NFKC, lower case)."""
    return key(term)


@transaction.atomic
def seed_synonyms(groups: Iterable[Sequence[str]] = DEFAULT_SYNONYMS) -> int:
    """Add the missing terms of ``groups``; returns how many were added.

    Idempotent, and never moves or deletes a term staff have already placed elsewhere.
    """
    existing = set(Synonym.objects.values_list("term", flat=True))
    new: list[Synonym] = []
    for terms in groups:
        group = normalised_term(terms[0])
        for term in dict.fromkeys(normalised_term(t) for t in terms):
            if term and term not in existing:
                new.append(Synonym(group=group, term=term))
                existing.add(term)
    Synonym.objects.bulk_create(new)
    return len(new)


def synonym_groups(candidates: Sequence[str]) -> Mapping[str, Sequence[str]]:
    """For each candidate that is a synonym term: every term of its group (one query).

    The group name counts as a term of the group even when no row spells it.
    """
    if not candidates:
        return {}
    # Raw SQL: runs on every search; the ORM's compile step cost more than the query.
    table = Synonym._meta.db_table
    placeholders = ", ".join(["%s"] * len(candidates))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "group", term FROM {table} WHERE "group" IN'  # noqa: S608 (constant names)
            f' (SELECT s."group" FROM {table} s WHERE s.term IN ({placeholders}))'
            " ORDER BY 1, 2",
            list(candidates),
        )
        rows = cursor.fetchall()
    members: dict[str, list[str]] = {}
    for group, term in rows:
        members.setdefault(group, [group])
        if term not in members[group]:
            members[group].append(term)
    wanted = set(candidates)
    found: dict[str, Sequence[str]] = {}
    for terms in members.values():
        for term in terms:
            if term in wanted:
                found[term] = terms
    return found
