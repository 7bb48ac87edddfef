"""Catalogue search (我要查): matching, ranking, filters, facets, index upkeep, paging."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from zwfw.catalog import search, services
from zwfw.catalog.models import Item, ItemSearchDocument, ItemStatus, Synonym
from zwfw.catalog.search import SearchFilters, search_items
from zwfw.catalog.synonyms import DEFAULT_SYNONYMS, seed_synonyms
from zwfw.catalog.tests.search_fixtures import catalogue, names, police, publish
from zwfw.core.errors import NotFound, ValidationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def items() -> dict[str, Item]:
    return catalogue()


def found(q: str, **filters: str) -> list[str]:
    return names(search_items(q, search.parse_filters(**filters), limit=100).hits)


# --- matching --------------------------------------------------------------------------------


def test_one_character_query(items) -> None:
    assert found("户") == ["户口迁移登记"]
    assert found("证") == ["居民身份证申领", "机动车驾驶证补领"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # 社保 ↔ 社会保险 ↔ 社保卡; 失业登记 mentions 社保 in its guide text only.
        ("社保", ["社保卡申领", "社会保险登记", "失业登记"]),
        ("医保", ["医疗保险参保登记"]),
        ("户口", ["户口迁移登记"]),
        ("结婚", ["婚姻登记（结婚）"]),
    ],
)
def test_two_character_queries(items, q: str, expected: list[str]) -> None:
    assert found(q) == expected


def test_four_character_and_multi_word_queries(items) -> None:
    assert found("户口迁移") == ["户口迁移登记"]
    assert found("户口 迁移") == ["户口迁移登记"]
    assert found("迁移，户口") == ["户口迁移登记"]
    assert found("食品经营") == ["食品经营许可（新办）"]
    assert found("户口 医保") == []


def test_pinyin_initials_and_full_pinyin(items) -> None:
    assert found("sb") == ["社保卡申领"]
    assert found("shebao") == ["社保卡申领"]
    assert found("hukou") == ["户口迁移登记"]
    assert found("HKQY") == ["户口迁移登记"]
    hit = search_items("shebao").hits[0]
    assert hit.name_highlight == "<mark>社保</mark>卡申领"


def test_synonyms_work_both_ways(items) -> None:
    assert found("身份证") == ["居民身份证申领"]
    assert found("居民身份证") == ["居民身份证申领"]
    assert found("社会保险") == found("社保")
    assert found("户籍") == ["户口迁移登记"]
    assert found("驾照") == ["机动车驾驶证补领"]
    assert found("公积金") == ["住房公积金提取"]


def test_synonym_edits_apply_at_once(items) -> None:
    assert found("迁户") == []
    Synonym.objects.create(group="户口迁移", term="迁户")
    Synonym.objects.get_or_create(group="户口迁移", term="户口迁移")
    assert found("迁户") == ["户口迁移登记"]


def test_seeding_synonyms_is_idempotent_and_keeps_staff_edits() -> None:
    added = seed_synonyms()
    assert added == len({t for group in DEFAULT_SYNONYMS for t in group})
    Synonym.objects.filter(term="执照").update(group="证照")
    assert seed_synonyms() == 0
    assert Synonym.objects.get(term="执照").group == "证照"


def test_guide_text_and_keywords_are_searched(items) -> None:
    assert found("经营场所") == ["食品经营许可（新办）"]
    assert found("社会保障卡") == ["社保卡申领", "社会保险登记", "失业登记"]
    # Keywords (the theme 社会保障) before guide text (the department 人力资源和社会保障局).
    assert found("社会保障") == [
        "社保卡申领",
        "社会保险登记",
        "医疗保险参保登记",
        "住房公积金提取",
        "失业登记",
    ]


# --- ranking ---------------------------------------------------------------------------------


def test_exact_name_then_name_then_keywords_then_guide_text() -> None:
    seed_synonyms()
    body = publish("居住登记", 1, conditions="办理户口迁移手续后申请。")
    keyword = publish("迁入审批", 2, keywords=["户口迁移"])
    longer = publish("户口迁移登记（市内）", 3)
    exact = publish("户口迁移", 4)
    shorter = publish("户口迁移证明", 5)
    result = search_items("户口迁移")
    assert [h.id for h in result.hits] == [exact.pk, shorter.pk, longer.pk, keyword.pk, body.pk]
    assert result.hits[0].name_highlight == "<mark>户口迁移</mark>"
    assert result.hits[-1].snippet.startswith("办理<mark>户口迁移</mark>手续后申请。申请表。")


def test_ties_are_broken_by_id() -> None:
    first = publish("社保卡申领", 1)
    second = publish("社保卡补领", 2)
    third = publish("社保卡换领", 3)
    assert [h.id for h in search_items("社保卡").hits] == [first.pk, second.pk, third.pk]


# --- filters and facets ----------------------------------------------------------------------


def test_filters(items) -> None:
    county = items["social_card"].department
    assert found("", department=str(county.pk)) == [
        "社保卡申领",
        "社会保险登记",
        "医疗保险参保登记",
        "住房公积金提取",
        "失业登记",
    ]
    assert found("登记", item_type="07") == ["社会保险登记"]
    assert found("登记", level="4") == ["社会保险登记"]
    assert found("", theme_person="085") == ["社保卡申领", "社会保险登记", "医疗保险参保登记"]
    assert found("", theme_legal="010") == ["食品经营许可（新办）"]
    assert found("", target="2") == ["食品经营许可（新办）"]
    assert found("", life_event="move") == ["户口迁移登记"]
    assert found("", online_depth="I") == ["户口迁移登记", "居民身份证申领"]
    assert found("", online_depth="ii") == ["机动车驾驶证补领"]
    assert len(found("", min_online_depth="II")) == 8
    assert found("社保", division="511602") == ["社保卡申领", "社会保险登记", "失业登记"]
    # A city code includes its counties; another city finds nothing.
    assert len(found("", division="511600")) == 10
    assert found("", division="510100") == []
    assert found("登记", division="511602", theme_person="085") == [
        "社会保险登记",
        "医疗保险参保登记",
    ]


def test_filters_parse_and_refuse_bad_values() -> None:
    parsed = search.parse_filters(
        item_type="01", department="12", division="511602", online_depth="iv", target=" 1 "
    )
    assert parsed == SearchFilters(
        item_type="01", department=12, division="511602", online_depth="IV", target="1"
    )
    bad = {
        "item_type": "99",
        "theme_person": "004",
        "theme_legal": "abc",
        "target": "7",
        "level": "0",
        "department": "x1",
        "division": "5116",
        "online_depth": "V",
        "min_online_depth": "0",
        "life_event": "x" * 65,
    }
    for name, value in bad.items():
        with pytest.raises(ValidationError) as error:
            search.parse_filters(**{name: value})
        assert error.value.code == "search.filter"
        assert error.value.field == name
    with pytest.raises(ValidationError):
        search.parse_filters(colour="red")


def test_facet_counts_are_exact(items) -> None:
    result = search_items("登记")
    assert names(result.hits) == [
        "失业登记",
        "社会保险登记",
        "户口迁移登记",
        "婚姻登记（结婚）",
        "医疗保险参保登记",
    ]
    assert result.total == 5
    assert result.facets_exact
    facets = {name: {f.code: f.count for f in values} for name, values in result.facets.items()}
    assert facets["item_type"] == {"01": 4, "07": 1}
    assert facets["target"] == {"1": 5}
    assert facets["theme_person"] == {"010": 1, "030": 1, "060": 1, "085": 2, "145": 1}
    assert facets["theme_legal"] == {}
    assert facets["level"] == {"3": 4, "4": 1}
    assert facets["online_depth"] == {"I": 1, "IV": 4}
    county = items["social_card"].department
    assert facets["department"] == {str(county.pk): 3, str(police().pk): 2}
    assert facets["life_event"] == {"move": 1}
    labels = {f.code: f.label for f in result.facets["theme_person"]}
    assert labels["085"] == "社会保障"
    assert [f.label for f in result.facets["department"]] == [county.name, "广安市公安局"]
    assert [f.label for f in result.facets["life_event"]] == ["迁居"]
    narrowed = search_items("登记", SearchFilters(theme_person="085"))
    assert narrowed.total == 2
    assert {f.code: f.count for f in narrowed.facets["item_type"]} == {"01": 1, "07": 1}


def test_large_result_sets_estimate_facets_from_a_sample(items, monkeypatch) -> None:
    exact = search_items("")
    monkeypatch.setattr(search, "FACET_EXACT_LIMIT", 5)
    result = search_items("")
    assert result.total == exact.total == 10
    assert exact.facets_exact
    assert not result.facets_exact
    for name, values in result.facets.items():
        assert {f.code for f in values} <= {f.code for f in exact.facets[name]}
    counts = [f.count for f in result.facets["item_type"]]
    # Scaled to the exact total (each value rounded); an empty sample is possible in theory.
    assert not counts or abs(sum(counts) - 10) <= len(counts)
    assert search_items("").facets == result.facets  # the same sample every time


# --- the index follows the items' status -----------------------------------------------------


def test_only_published_items_are_indexed(items, settings) -> None:
    settings.CATALOG_REVIEW_STEPS = ""
    admin = get_user_model().objects.create_superuser("admin", password="x" * 12)
    move, card = items["move"], items["social_card"]

    def change(kind: str, item: Item) -> None:
        item.refresh_from_db()
        request = services.create_change_request(
            user=admin, kind=kind, department=item.department, sources=[item], reason="测试"
        )
        services.submit_change_request(request, user=admin)

    change("suspend", move)
    assert found("户口") == []
    assert not ItemSearchDocument.objects.filter(item=move).exists()
    change("resume", move)
    assert found("户口") == ["户口迁移登记"]
    change("cancel", card)
    assert found("社保卡") == ["社会保险登记", "失业登记"]
    draft = Item.objects.create(
        implementation_code="DRAFT-1",
        department=card.department,
        division=card.division,
        name="社保卡草稿",
        item_type="01",
        level="3",
        case_type="2",
        online_depth="I",
        targets="1",
    )
    search.index_items([draft])
    assert not ItemSearchDocument.objects.filter(item=draft).exists()
    if connection.vendor == "sqlite":  # the FTS5 rows follow the documents (triggers)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM catalog_item_fts WHERE catalog_item_fts MATCH %s",
                ['"户口"'],
            )
            assert cursor.fetchone()[0] == 1


def test_republishing_replaces_the_document(items) -> None:
    publish("户籍迁移登记", 4)
    assert found("户口") == ["户籍迁移登记"]  # via the synonym 户口 ↔ 户籍
    assert found("户口迁移") == ["户籍迁移登记"]
    assert ItemSearchDocument.objects.filter(item=items["move"]).get().name_key == "户籍迁移登记"


def test_index_items_works_in_bulk_with_bounded_queries(
    items, django_assert_max_num_queries
) -> None:
    every = list(Item.objects.all())
    ItemSearchDocument.objects.all().delete()
    assert found("户口") == []
    with django_assert_max_num_queries(8):
        search.index_items(every)
    assert ItemSearchDocument.objects.count() == 10
    assert found("户口") == ["户口迁移登记"]


# --- pages -----------------------------------------------------------------------------------


def test_pages_have_no_duplicates_or_gaps() -> None:
    seed_synonyms()
    created = [publish(f"社保{'卡' * (i % 4)}业务{i}", i + 1) for i in range(23)]
    created += [publish("社会保险登记", 30), publish("参保证明", 31, keywords=["社保"])]
    everything = [h.id for h in search_items("社保", limit=100).hits]
    assert sorted(everything) == sorted(i.pk for i in created)
    for size in (1, 3, 7, 20):
        seen: list[int] = []
        cursor = None
        while True:
            page = search_items("社保", cursor=cursor, limit=size, with_facets=False)
            seen += [h.id for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == everything, size


def test_cursor_belongs_to_its_search(items) -> None:
    page = search_items("登记", limit=2)
    assert page.next_cursor
    with pytest.raises(ValidationError) as error:
        search_items("户口", cursor=page.next_cursor)
    assert error.value.code == "search.cursor"
    with pytest.raises(ValidationError) as error:
        search_items("登记", SearchFilters(level="3"), cursor=page.next_cursor)
    assert error.value.code == "search.cursor"
    with pytest.raises(ValidationError) as error:
        search_items("登记", cursor="not-a-cursor")
    assert error.value.code == "pagination.cursor"


def test_query_limits() -> None:
    with pytest.raises(ValidationError) as error:
        search_items("户" * 101)
    assert error.value.code == "search.query_too_long"
    assert search_items("户" * 100).hits == []
    for limit in (0, 101):
        with pytest.raises(ValidationError) as error:
            search_items("户", limit=limit)
        assert error.value.code == "search.limit"


def test_search_reads_a_bounded_number_of_queries(items, django_assert_max_num_queries) -> None:
    # Synonyms, count, facets with their labels, then one query per ranking tier needed
    # (three at most), each bringing its page rows with their display columns.
    for q in ("社保", "户", "", "sb", "社保 登记", "户口 医保"):
        with django_assert_max_num_queries(6):
            search_items(q, SearchFilters(target="1"))
        with django_assert_max_num_queries(4):
            search_items(q, SearchFilters(target="1"), with_facets=False)


# --- browsing --------------------------------------------------------------------------------


def test_browse_counts_published_items(items) -> None:
    themes = {c.code: (c.label, c.count) for c in search.browse("theme_person")}
    assert themes["085"] == ("社会保障", 3)
    assert themes["005"] == ("生育收养", 0)
    types = {c.code: c.count for c in search.browse("item_type")}
    assert types["01"] == 9
    assert types["07"] == 1
    departments = search.browse("department")
    assert [(c.label, c.count) for c in departments] == [
        ("广安市广安区人力资源和社会保障局", 5),
        ("广安市公安局", 4),
        ("广安市市场监督管理局", 1),
    ]
    assert [(c.code, c.label, c.count) for c in search.browse("life_event")] == [
        ("move", "迁居", 1)
    ]
    assert {c.code: c.count for c in search.browse("target")}["2"] == 1
    assert {c.code: c.count for c in search.browse("level")}["4"] == 1
    assert {c.code: c.count for c in search.browse("online_depth")}["IV"] == 7
    with pytest.raises(NotFound):
        search.browse("colour")


def test_browse_ignores_unpublished_items(items) -> None:
    Item.objects.filter(pk=items["move"].pk).update(status=ItemStatus.SUSPENDED)
    assert [(c.code, c.count) for c in search.browse("life_event")] == [("move", 0)]


# --- staff tools -----------------------------------------------------------------------------


def test_admin_form_normalises_terms() -> None:
    from zwfw.catalog.admin import SynonymForm

    form = SynonymForm(data={"group": " 社保 ", "term": "ＳＢ卡（社保）"})
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.group, saved.term) == ("社保", "sb卡社保")
    again = SynonymForm(data={"group": "其他", "term": "sb卡社保"})
    assert not again.is_valid()
    assert "term" in again.errors
    empty = SynonymForm(data={"group": "社保", "term": "（）"})
    assert not empty.is_valid()


def test_commands(items) -> None:
    from io import StringIO

    from django.core.management import call_command

    Synonym.objects.all().delete()
    out = StringIO()
    call_command("seed_synonyms", stdout=out)
    assert "terms added" in out.getvalue()
    ItemSearchDocument.objects.all().delete()
    call_command("rebuild_search_index", "--batch", "3", stdout=out)
    assert ItemSearchDocument.objects.count() == 10
    assert found("户口") == ["户口迁移登记"]
