"""Full-text search over published catalogue items (我要查), on SQLite and PostgreSQL.

* :func:`index_items` keeps one ``ItemSearchDocument`` per *published* item (and none for
  others); publishing and status changes call it inside their transaction. The database
  indexes the document's token columns itself: FTS5 through triggers on SQLite, generated
  ``tsvector`` columns with GIN indexes on PostgreSQL (migration ``0002_search_index``).
* :func:`search_items` is the one selector behind ``GET /api/v1/catalog/items``: query,
  filters, ranking in tiers (every word in the name — exact name first, then shorter
  names —, then in name + keywords, then anywhere; ties by id), keyset pages, facet counts
  and highlights.
* :func:`browse` counts published items per classification value.

Tokens and query syntax come from :mod:`zwfw.catalog.search_text`; the reasoning is in
``docs/decisions/0008-catalog-search.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count

from zwfw.catalog import search_text
from zwfw.catalog.models import (
    Item,
    ItemFacet,
    ItemSearchDocument,
    ItemStatus,
    LifeEvent,
)
from zwfw.catalog.search_text import ParsedQuery
from zwfw.catalog.synonyms import synonym_groups
from zwfw.core import codes
from zwfw.core.errors import NotFound, ValidationError
from zwfw.core.pagination import decode_cursor, encode_cursor
from zwfw.organisations.models import Department
from zwfw.organisations.selectors import division_prefix

# Raw SQL in this module is assembled only from constant fragments written here (table and
# column names, operators); every value that comes from a request, including the full-text
# expressions built by search_text from sanitised tokens, is a bound parameter. The S608
# markers below say so line by line.

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 100
#: Guide text kept per item for matching and snippets (characters).
BODY_LIMIT = 1500
DEPARTMENT_FACET_SIZE = 20
INDEX_CHUNK = 500

ONLINE_DEPTHS = [d.value for d in codes.OnlineDepth]


# --- indexing --------------------------------------------------------------------------------


def _codes_label(table: type, values: Iterable[str]) -> list[str]:
    return [codes.label(table, v, default="") for v in values]


def _delimited(values: Iterable[str]) -> str:
    # ",1,2," lets a filter match one value with LIKE '%,1,%'. A comma inside a value (free
    # life-event text) is written full-width here and in the filter alike.
    items = [_delimited_value(v) for v in values if v]
    return f",{','.join(items)}," if items else ""


def _delimited_value(value: str) -> str:
    return value.replace(",", "，")


@functools.lru_cache(maxsize=8192)
def _name_parts(name: str) -> tuple[str, str, str]:
    """Key, n-gram tokens and pinyin tokens of an item name.

    Cached: the same basic item is implemented under the same name in every county, and
    segmentation plus pinyin were about half of the indexing time of a provincial import.
    """
    name_key = search_text.key(name)[:200]
    tokens = " ".join(search_text.ngram_tokens([name], unigrams=True))
    return name_key, tokens, " ".join(search_text.pinyin_tokens(name))


@functools.lru_cache(maxsize=2048)
def _body_tokens(body_text: str) -> str:
    """N-gram tokens of the guide text (cached for the same reason as names)."""
    return " ".join(search_text.ngram_tokens([body_text], unigrams=False))


def build_document(
    item: Item, content: Mapping[str, Any], department_name: str
) -> ItemSearchDocument:
    """The search document of ``item`` from its current version's ``content`` (JSON)."""
    person_themes = [t for t in item.person_themes.split(",") if t]
    legal_themes = [t for t in item.legal_themes.split(",") if t]
    targets = [t for t in item.targets.split(",") if t]
    keywords = [
        *content.get("keywords", []),
        item.basic_code,
        item.implementation_code,
        content.get("result_name", ""),
        *content.get("licence_types", []),
        *_codes_label(codes.NaturalPersonTheme, person_themes),
        *_codes_label(codes.LegalPersonTheme, legal_themes),
    ]
    body_parts = [
        content.get("conditions", ""),
        "、".join(m.get("name", "") for m in content.get("materials", [])),
        "、".join(s.get("name", "") for s in content.get("process_steps", [])),
        department_name,
        content.get("handling_unit", ""),
        "、".join(b.get("law_name", "") for b in content.get("legal_bases", [])),
        "；".join(f.get("question", "") for f in content.get("faqs", [])),
        content.get("power_content", ""),
    ]
    cleaned = [part.strip().rstrip("。；;，, ") for part in body_parts if part]
    body_text = "。".join(part for part in cleaned if part)[:BODY_LIMIT]
    name_key, name_tokens, pinyin = _name_parts(item.name)
    return ItemSearchDocument(
        item_id=item.pk,
        name_key=name_key,
        name_length=len(name_key),
        item_type=item.item_type,
        level=item.level,
        online_depth=item.online_depth,
        department_id=item.department_id,
        division_code=item.division_id,
        targets=_delimited(targets),
        person_themes=_delimited(person_themes),
        legal_themes=_delimited(legal_themes),
        life_events=_delimited(content.get("life_events", [])),
        name_tokens=name_tokens,
        keyword_tokens=" ".join(search_text.ngram_tokens(keywords, unigrams=True)),
        pinyin_tokens=pinyin,
        body_tokens=_body_tokens(body_text),
        body_text=body_text,
    )


def index_items(items: Iterable[Item]) -> None:
    """(Re)build the search documents of ``items`` from their current published versions.

    Items that are not published (draft, suspended, cancelled) lose their document. Works in
    chunks of ``INDEX_CHUNK`` with a fixed number of queries per chunk, so importers can pass
    thousands at once. Reads the items' state from the database (the caller's objects may
    be stale) and runs in the caller's transaction (a savepoint if there is one).
    """
    ids = sorted({item.pk for item in items if item.pk is not None})
    with transaction.atomic():
        for start in range(0, len(ids), INDEX_CHUNK):
            chunk = ids[start : start + INDEX_CHUNK]
            rows = Item.objects.filter(
                pk__in=chunk, status=ItemStatus.PUBLISHED, current_version__isnull=False
            ).select_related("current_version", "department")
            documents = [
                build_document(
                    row,
                    row.current_version.content if row.current_version else {},
                    row.department.name,
                )
                for row in rows
            ]
            ItemSearchDocument.objects.filter(item_id__in=chunk).delete()
            ItemSearchDocument.objects.bulk_create(documents, batch_size=200)


# --- filters ---------------------------------------------------------------------------------

_DIVISION = re.compile(r"^\d{6}(\d{3}){0,2}$")


@dataclass(frozen=True)
class SearchFilters:
    """Validated filters of a search (all optional; multi-valued columns match one value)."""

    item_type: str | None = None
    theme_person: str | None = None
    theme_legal: str | None = None
    target: str | None = None
    level: str | None = None
    department: int | None = None
    division: str | None = None
    online_depth: str | None = None
    min_online_depth: str | None = None
    life_event: str | None = None


def _bad_filter(name: str, value: str) -> ValidationError:
    shown = value[:40]
    return ValidationError(
        "search.filter",
        f"筛选条件{name}的值“{shown}”无效。",
        f"Invalid value for filter {name}.",
        field=name,
        details={"value": shown},
    )


_CODE_FILTERS: dict[str, type] = {
    "theme_person": codes.NaturalPersonTheme,
    "theme_legal": codes.LegalPersonTheme,
    "target": codes.ServiceTarget,
    "level": codes.ExerciseLevel,
    "online_depth": codes.OnlineDepth,
    "min_online_depth": codes.OnlineDepth,
}


def _filter_value(name: str, value: str) -> Any:
    """The validated value of one filter, or None when it is not valid."""
    if name == "item_type":
        try:
            return codes.validate_item_type(value)
        except ValidationError:
            return None
    if name in _CODE_FILTERS:
        code = value.upper() if name.endswith("depth") else value
        return code if code in _CODE_FILTERS[name].values else None  # type: ignore[attr-defined]
    if name == "department":
        ok = value.isascii() and value.isdigit() and 0 < int(value) < 2**63
        return int(value) if ok else None
    if name == "division":
        return value if _DIVISION.match(value) else None
    return value if len(value) <= 64 else None  # life_event: a free code as items carry it


def parse_filters(**raw: str | None) -> SearchFilters:
    """Validate filter strings as received from a query string.

    Raises ``ValidationError("search.filter")`` naming the first bad filter.
    """
    values: dict[str, Any] = {}
    for name, given in raw.items():
        if name not in SearchFilters.__dataclass_fields__:
            raise _bad_filter(name, str(given))
        text = (given or "").strip()
        if not text:
            continue
        value = _filter_value(name, text)
        if value is None:
            raise _bad_filter(name, text)
        values[name] = value
    return SearchFilters(**values)


def _filter_sql(filters: SearchFilters) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column in ("item_type", "level", "online_depth"):
        value = getattr(filters, column)
        if value is not None:
            clauses.append(f"d.{column} = %s")
            params.append(value)
    if filters.min_online_depth is not None:
        allowed = ONLINE_DEPTHS[ONLINE_DEPTHS.index(filters.min_online_depth) :]
        clauses.append(f"d.online_depth IN ({', '.join(['%s'] * len(allowed))})")
        params += allowed
    if filters.department is not None:
        clauses.append("d.department_id = %s")
        params.append(filters.department)
    if filters.division is not None:
        clauses.append("d.division_code LIKE %s")
        params.append(division_prefix(filters.division) + "%")
    for attribute, column in (
        ("target", "targets"),
        ("theme_person", "person_themes"),
        ("theme_legal", "legal_themes"),
    ):
        value = getattr(filters, attribute)
        if value is not None:
            clauses.append(f"d.{column} LIKE %s")
            params.append(f"%,{value},%")
    if filters.life_event is not None:
        clauses.append("d.life_events LIKE %s ESCAPE '\\'")
        escaped = re.sub(r"([\\%_])", r"\\\1", _delimited_value(filters.life_event))
        params.append(f"%,{escaped},%")
    return clauses, params


# --- the query -------------------------------------------------------------------------------

#: Ranking tiers: every word in the name (or its pinyin); in name + keywords; anywhere. Within
#: the name tier an exact name comes first, then shorter names; elsewhere, by id. ALL is the
#: single tier of a search without words (a filtered listing by id).
TIER_ALL, TIER_NAME, TIER_HEAD, TIER_BODY = 0, 1, 2, 3
_FTS_NAME = "{name_tokens pinyin_tokens}"
_FTS_HEAD = "{name_tokens pinyin_tokens keyword_tokens}"


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


#: SQLite reads a document's filter, facet and ranking columns from this covering index (the
#: rows themselves are wide); named, so that the plan does not depend on ANALYZE statistics.
_SQLITE_DOCUMENTS = "catalog_itemsearchdocument d INDEXED BY catalog_item_search_hot_idx"


def _from_sql(query: ParsedQuery) -> tuple[str, str]:
    """FROM clause and the item-id expression to order by (FTS5's rowid keeps its order)."""
    if _is_postgres():
        return "catalog_itemsearchdocument d", "d.item_id"
    if query.is_empty:
        return _SQLITE_DOCUMENTS, "d.item_id"
    return (
        f"catalog_item_fts JOIN {_SQLITE_DOCUMENTS} ON d.item_id = catalog_item_fts.rowid",
        "catalog_item_fts.rowid",
    )


def _tier_clause(query: ParsedQuery, tier: int) -> tuple[str, list[Any]]:
    """The full-text condition of one tier (every word must match, columns per tier)."""
    if query.is_empty:
        return "", []
    if _is_postgres():
        text = search_text.tsquery(query)
        vectors = {
            TIER_ALL: ("search_vector", None),
            TIER_NAME: ("name_vector", None),
            TIER_HEAD: ("head_vector", "name_vector"),
            TIER_BODY: ("search_vector", "head_vector"),
        }
        vector, excluded = vectors[tier]
        clause = f"d.{vector} @@ CAST(%s AS tsquery)"
        if excluded is None:
            return clause, [text]
        # Set difference through the other GIN index: a per-row NOT would read (de-TOAST)
        # the excluded vector of every candidate.
        return (
            f"{clause} AND d.item_id NOT IN (SELECT x.item_id FROM catalog_itemsearchdocument x"  # noqa: S608
            f" WHERE x.{excluded} @@ CAST(%s AS tsquery))",
            [text, text],
        )
    q = search_text.fts5_query(query)
    expressions = {
        TIER_ALL: q,
        TIER_NAME: f"{_FTS_NAME} : ({q})",
        TIER_HEAD: f"({_FTS_HEAD} : ({q})) NOT ({_FTS_NAME} : ({q}))",
        TIER_BODY: f"({q}) NOT ({_FTS_HEAD} : ({q}))",
    }
    return "catalog_item_fts MATCH %s", [expressions[tier]]


@dataclass(frozen=True)
class SearchHit:
    """One item of a result page; ``name_highlight`` and ``snippet`` are escaped HTML."""

    id: int
    name: str
    name_highlight: str
    implementation_code: str
    item_type: str
    item_type_label: str
    department_id: int
    department_name: str
    division_code: str
    online_depth: str
    promised_days: int
    snippet: str


@dataclass(frozen=True)
class FacetCount:
    """How many items carry one value of a classification."""

    code: str
    label: str
    count: int


@dataclass
class SearchResult:
    """A page of hits, the cursor of the next page, and (when asked for) total and facets."""

    hits: list[SearchHit]
    next_cursor: str | None
    total: int | None = None
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    facets_exact: bool = True


def parse_limit(value: str | int | None) -> int:
    """A page size from a query string (default ``PAGE_SIZE``); raises ``search.limit``."""
    if value is None or value == "":
        return PAGE_SIZE
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise _bad_limit()
    return int(text)


def _bad_limit() -> ValidationError:
    return ValidationError(
        "search.limit",
        f"每页条数应在1到{MAX_PAGE_SIZE}之间。",
        f"limit must be between 1 and {MAX_PAGE_SIZE}.",
        field="limit",
        details={"max": MAX_PAGE_SIZE},
    )


def parse_search_query(q: str | None) -> ParsedQuery:
    """Parse (with one synonym lookup) a user query; raises ``search.query_too_long``."""
    text = (q or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            "search.query_too_long",
            f"搜索内容不能超过{MAX_QUERY_LENGTH}个字符。",
            f"The query may have at most {MAX_QUERY_LENGTH} characters.",
            field="q",
            details={"max": MAX_QUERY_LENGTH, "length": len(text)},
        )
    if not text:
        return search_text.parse_query("")
    return search_text.parse_query(text, synonym_groups(search_text.synonym_candidates(text)))


def _fingerprint(query: ParsedQuery, filters: SearchFilters) -> str:
    raw = json.dumps([query.text, asdict(filters)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _bad_cursor() -> ValidationError:
    return ValidationError(
        "search.cursor",
        "分页游标与当前搜索条件不符，请从第一页重新开始。",
        "The cursor belongs to another search; start again from the first page.",
        field="cursor",
    )


def _decode_after(cursor: str, fingerprint: str, tiers: list[int]) -> tuple[int, int, int]:
    values = decode_cursor(cursor, 4)
    if values[0] != fingerprint:
        raise _bad_cursor()
    position = values[1:]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in position):
        raise _bad_cursor()
    tier, score, item_id = position
    if tier not in tiers or not -(2**62) < score < 2**62 or not -(2**62) < item_id < 2**62:
        raise _bad_cursor()
    return tier, score, item_id


def search_items(
    q: str | None,
    filters: SearchFilters | None = None,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    with_facets: bool = True,
) -> SearchResult:
    """One page of published items matching ``q`` and ``filters``, best first.

    Order: every query word in the name (an exact name first, then shorter names), then
    every word in name + keywords, then matches in the guide text; ties by id. Without a
    query, by id. ``next_cursor`` continues the same search (keyset over (tier, score, id)).
    Facets count the whole filtered match set; above ``FACET_EXACT_LIMIT`` matches they are
    estimated from a deterministic sample (``facets_exact`` is then False; ``total`` is
    always exact). Raises ``ValidationError`` (``search.query_too_long``, ``search.limit``,
    ``search.cursor``, ``pagination.cursor``).
    """
    filters = filters or SearchFilters()
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise _bad_limit()
    query = parse_search_query(q)
    fingerprint = _fingerprint(query, filters)
    tiers = [TIER_ALL] if query.is_empty else [TIER_NAME, TIER_HEAD, TIER_BODY]
    after = _decode_after(cursor, fingerprint, tiers) if cursor else None
    filter_clauses, filter_params = _filter_sql(filters)
    from_sql, id_sql = _from_sql(query)
    result = SearchResult(hits=[], next_cursor=None)
    # Facets (and the total) come first when wanted: the total lets an empty search stop
    # here and a first page skip the lower tiers once the upper ones hold every match.
    total = _facets(result, query, filter_clauses, filter_params) if with_facets else None
    rows: list[tuple[int, tuple[Any, ...]]] = []
    accounted = 0
    for tier in tiers:
        if total is not None and accounted >= total:
            break
        if after is not None and tier < after[0]:
            continue
        clause, params = _tier_clause(query, tier)
        where = [c for c in (clause, *filter_clauses) if c]
        params = [*params, *filter_params]
        if tier == TIER_NAME:
            score_sql = "CASE WHEN d.name_key = %s THEN -1 ELSE d.name_length END"
            score_params: list[Any] = [query.key]
        else:
            score_sql, score_params = "0", []
        if after is not None and tier == after[0]:
            where.append(f"({score_sql}, {id_sql}) > (%s, %s)")
            params += [*score_params, after[1], after[2]]
        # On PostgreSQL "+ 0" keeps the planner from walking the primary key in order and
        # testing (de-TOASTing) every row when it guesses that matches are dense: the GIN
        # bitmap and a top-N sort cost what the matches cost, never the whole table.
        order = f"{id_sql} + 0" if _is_postgres() and not query.is_empty else id_sql
        wanted = limit + 1 - len(rows)
        # The page's display columns come with its ids (one query per tier, no second trip).
        sql = (
            f"WITH top AS MATERIALIZED (SELECT {id_sql} AS item_id, {score_sql} AS score"  # noqa: S608
            f" FROM {from_sql} WHERE {' AND '.join(where) or '1 = 1'}"
            f" ORDER BY score, {order} LIMIT %s) {_HIT_SELECT}"
        )
        found = [(tier, row) for row in _fetch(sql, [*score_params, *params, wanted])]
        rows += found
        if len(rows) > limit:
            break
        if after is None and len(found) < wanted:
            accounted += len(found)  # the whole tier
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        tier, last = rows[-1]
        next_cursor = encode_cursor([fingerprint, tier, int(last[1]), int(last[0])])
    result.hits = [_hit(row, query) for _tier, row in rows]
    result.next_cursor = next_cursor
    return result


def _count(query: ParsedQuery, filter_clauses: list[str], filter_params: list[Any]) -> int:
    clause, params = _tier_clause(query, TIER_ALL)
    if not filter_clauses and not query.is_empty and not _is_postgres():
        # The FTS index alone can count when nothing else filters.
        sql = f"SELECT COUNT(*) FROM catalog_item_fts WHERE {clause}"  # noqa: S608
    else:
        from_sql, _id_sql = _from_sql(query)
        where = [c for c in (clause, *filter_clauses) if c]
        sql = f"SELECT COUNT(*) FROM {from_sql} WHERE {' AND '.join(where) or '1 = 1'}"  # noqa: S608
    with connection.cursor() as db:
        db.execute(sql, [*params, *filter_params])
        return int(db.fetchone()[0])


_HIT_SELECT = (
    "SELECT top.item_id, top.score, i.name, i.implementation_code, d.item_type,"  # noqa: S608
    " d.department_id, dep.name, d.division_code, d.online_depth, i.promised_days, d.body_text"
    f" FROM top JOIN {ItemSearchDocument._meta.db_table} d ON d.item_id = top.item_id"
    f" JOIN {Item._meta.db_table} i ON i.id = top.item_id"
    f" JOIN {Department._meta.db_table} dep ON dep.id = d.department_id"
    " ORDER BY top.score, top.item_id"
)


def _hit(row: tuple[Any, ...], query: ParsedQuery) -> SearchHit:
    item_id, _score, name, code, item_type, dept_id, dept_name, division, depth, days, body = row
    return SearchHit(
        id=item_id,
        name=name,
        name_highlight=search_text.highlight(name, query),
        implementation_code=code,
        item_type=item_type,
        item_type_label=_item_type_label(item_type),
        department_id=dept_id,
        department_name=dept_name,
        division_code=division,
        online_depth=depth,
        promised_days=days,
        snippet=search_text.snippet(body, query),
    )


@functools.lru_cache(maxsize=64)
def _item_type_label(code: str) -> str:
    try:
        return codes.item_type_label(code)
    except ValidationError:
        return code


# --- facets ----------------------------------------------------------------------------------

#: Above this many matches, facets are counted on a sample of about this size.
FACET_EXACT_LIMIT = 2000
_HASH_MODULUS = 2**31
FACET_NAMES = (
    "item_type",
    "target",
    "theme_person",
    "theme_legal",
    "level",
    "online_depth",
    "department",
    "life_event",
)
_FACET_COLUMNS = {
    "item_type": "item_type",
    "level": "level",
    "online_depth": "online_depth",
    "department": "department_id",
    "target": "targets",
    "theme_person": "person_themes",
    "theme_legal": "legal_themes",
    "life_event": "life_events",
}
_MULTI_VALUED = {"target", "theme_person", "theme_legal", "life_event"}


def _facets(
    result: SearchResult, query: ParsedQuery, filter_clauses: list[str], filter_params: list[Any]
) -> int:
    """Set ``result``'s total and counts per facet value over the filtered match set.

    Returns the total. Each facet groups the match set once (multi-valued columns by their
    delimited value, split here). Past ``FACET_EXACT_LIMIT`` matches the counts come from a
    sample of about that size (by a hash of the item id) and are scaled, so that the cost of
    a search stays bounded however broad the query (one character can match half the
    catalogue); the total is always counted exactly.
    """
    clause, params = _tier_clause(query, TIER_ALL)
    from_sql, id_sql = _from_sql(query)
    where = " AND ".join(c for c in (clause, *filter_clauses) if c) or "1 = 1"
    params = [*params, *filter_params]
    if _is_postgres():
        total, rows = _facet_rows_postgres(
            query, from_sql, where, params, (filter_clauses, filter_params)
        )
    else:
        total = _count(query, filter_clauses, filter_params)
        sample = ""
        if total > FACET_EXACT_LIMIT:
            # The hash of the FTS rowid is tested before the document row is read.
            sample = f" AND {_HASHED.format(id=id_sql)} < %s"
            params.append(int(_HASH_MODULUS * FACET_EXACT_LIMIT / total))
        sql = (
            f"WITH s AS MATERIALIZED (SELECT {_FACET_SELECT} FROM {from_sql}"  # noqa: S608
            f" WHERE {where}{sample}) {_SQLITE_GROUPS}"
        )
        rows = _fetch(sql, params) if total else []
    result.total = total
    result.facets_exact = total <= FACET_EXACT_LIMIT
    result.facets = _facet_counts(rows, total, result.facets_exact)
    return total


#: A multiplicative hash (LCG step) of the item id: samples spread over departments and time,
#: the same for the same query (counts do not flicker between requests). PostgreSQL keeps
#: the same hash as one of 64 bucket lexemes ('#0'…'#63') in search_vector (migration 0002).
_HASHED = f"((({{id}} %% {_HASH_MODULUS}) * 1103515245 + 12345) %% {_HASH_MODULUS})"
_BUCKETS = 64
_FACET_SELECT = ", ".join(f"d.{column}" for column in dict.fromkeys(_FACET_COLUMNS.values()))
# Labels that live in tables come with the counts: department names joined to their groups,
# and the (short) list of life events.
_SQLITE_GROUPS = (
    " UNION ALL ".join(  # noqa: S608
        f"SELECT '{name}', CAST({column} AS TEXT), COUNT(*), NULL FROM s GROUP BY {column}"  # noqa: S608
        for name, column in _FACET_COLUMNS.items()
        if name != "department"
    )
    + " UNION ALL SELECT 'department', CAST(g.department_id AS TEXT), g.n, dep.name FROM"  # noqa: S608
    " (SELECT department_id, COUNT(*) AS n FROM s GROUP BY department_id) g"
    f" JOIN {Department._meta.db_table} dep ON dep.id = g.department_id"
    f" UNION ALL SELECT '#life_event', code, 0, name FROM {LifeEvent._meta.db_table}"
)
_PG_COLUMNS = list(dict.fromkeys(_FACET_COLUMNS.values()))
_PG_NULLS = ", ".join(["NULL"] * len(_PG_COLUMNS))
# GROUPING SETS: one aggregate node for every facet, not eight.
_PG_GROUPS = (
    f"SELECT {', '.join(_PG_COLUMNS)}, COUNT(*),"  # noqa: S608
    f" (SELECT dep.name FROM {Department._meta.db_table} dep WHERE dep.id = s.department_id),"
    f" NULL FROM s GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in _PG_COLUMNS)})"
    f" UNION ALL SELECT {_PG_NULLS}, 0, name, code FROM {LifeEvent._meta.db_table}"
)


def _facet_rows_postgres(
    query: ParsedQuery,
    from_sql: str,
    where: str,
    params: list[Any],
    filters: tuple[list[str], list[Any]],
) -> tuple[int, list[tuple[Any, ...]]]:
    """Total and (facet, value, count, label) rows: a count, then one grouping query.

    Past ``FACET_EXACT_LIMIT`` matches the grouping reads only the rows of a few bucket
    lexemes, which the GIN index finds without visiting the other matches. (Counting inside
    the grouping query with a LIMIT was tried: the planner then walks the table and
    de-TOASTs every vector.)
    """
    total = _count(query, *filters)
    if total == 0:
        return 0, []
    sample = ""
    if total > FACET_EXACT_LIMIT:
        buckets = min(_BUCKETS, -(-_BUCKETS * FACET_EXACT_LIMIT // total))
        sample = " AND d.search_vector @@ CAST(%s AS tsquery)"
        params = [*params, " | ".join(f"'#{bucket}'" for bucket in range(buckets))]
    # Not MATERIALIZED: the grouping reads the match set once, straight from the scan.
    sql = (
        f"WITH s AS (SELECT {_FACET_SELECT} FROM {from_sql}"  # noqa: S608
        f" WHERE {where}{sample}) {_PG_GROUPS}"
    )
    _none, rows = _pg_facet_rows(_fetch(sql, params))
    return total, rows


def _pg_facet_rows(fetched: list[tuple[Any, ...]]) -> tuple[int, list[tuple[Any, ...]]]:
    total = 0
    rows: list[tuple[Any, ...]] = []
    by_column = {column: name for name, column in _FACET_COLUMNS.items()}
    for *values, count, label, marker in fetched:
        if marker == "#total":
            total = int(count)
        elif marker is not None:
            rows.append(("#life_event", marker, 0, label))
        else:
            index = next(i for i, value in enumerate(values) if value is not None)
            rows.append((by_column[_PG_COLUMNS[index]], values[index], count, label))
    return total, rows


def _facet_counts(
    rows: list[tuple[Any, ...]], total: int, exact: bool
) -> dict[str, list[FacetCount]]:
    """Facet lists from the grouping query's (facet, value, count, label) rows."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACET_NAMES}
    labels: dict[tuple[str, str], str] = {}
    for name, value, count, label in rows:
        if name == "#life_event":
            labels[("life_event", value)] = label
        elif name in _MULTI_VALUED:
            for part in (value or "").strip(",").split(","):
                if part:
                    counts[name][part] = counts[name].get(part, 0) + int(count)
        elif name in counts and value is not None:
            counts[name][str(value)] = int(count)
            if label is not None:
                labels[(name, str(value))] = label
    if not exact:
        sampled = sum(counts["item_type"].values()) or 1
        for values in counts.values():
            for code, count in values.items():
                values[code] = max(1, round(count * total / sampled))
    ranked = sorted(counts["department"].items(), key=lambda kv: (-kv[1], int(kv[0])))
    counts["department"] = dict(ranked[:DEPARTMENT_FACET_SIZE])
    labels.update(_labels(counts))
    return {
        name: [
            FacetCount(code, labels.get((name, code), code), count)
            for code, count in (values.items() if name == "department" else sorted(values.items()))
        ]
        for name, values in counts.items()
    }


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as db:
        db.execute(sql, params)
        return list(db.fetchall())


_CODE_LABEL_TABLES: dict[str, type] = {
    "target": codes.ServiceTarget,
    "theme_person": codes.NaturalPersonTheme,
    "theme_legal": codes.LegalPersonTheme,
    "level": codes.ExerciseLevel,
    "online_depth": codes.OnlineDepth,
}


def _labels(counts: Mapping[str, Mapping[str, int]]) -> dict[tuple[str, str], str]:
    """Labels of facet values from the code tables."""
    labels: dict[tuple[str, str], str] = {}
    for name, table in _CODE_LABEL_TABLES.items():
        for code in counts[name]:
            labels[(name, code)] = codes.label(table, code, default=code)
    for code in counts["item_type"]:
        labels[("item_type", code)] = _item_type_label(code)
    return labels


# --- browsing --------------------------------------------------------------------------------

_ITEM_FACETS = {
    "target": "target",
    "theme_person": "person_theme",
    "theme_legal": "legal_theme",
    "life_event": "life_event",
}
BROWSE_DIMENSIONS = (
    "theme_person",
    "theme_legal",
    "department",
    "target",
    "level",
    "life_event",
    "item_type",
    "online_depth",
)


def browse(dimension: str) -> list[FacetCount]:
    """Published items counted per value of ``dimension`` (one query, plus labels).

    Code-table dimensions list every code (zero counts included), departments those with
    items (most first), life events every configured event and any other value items carry.
    Raises ``NotFound("search.dimension_unknown")``.
    """
    if dimension not in BROWSE_DIMENSIONS:
        raise NotFound(
            "search.dimension_unknown",
            f"不支持按“{dimension[:40]}”浏览。",
            "Unknown browse dimension.",
            details={"allowed": list(BROWSE_DIMENSIONS)},
        )
    published = Item.objects.filter(status=ItemStatus.PUBLISHED)
    if dimension == "department":
        rows = (
            published.values("department_id", "department__name")
            .annotate(n=Count("id"))
            .order_by("-n", "department_id")
        )
        return [FacetCount(str(r["department_id"]), r["department__name"], r["n"]) for r in rows]
    found: dict[str, int]
    if dimension in {"item_type", "level", "online_depth"}:
        found = {
            r[dimension]: r["n"]
            for r in published.values(dimension).annotate(n=Count("id")).order_by()
        }
    else:
        facet = _ITEM_FACETS[dimension]
        found = {
            r["value"]: r["n"]
            for r in ItemFacet.objects.filter(facet=facet, item__status=ItemStatus.PUBLISHED)
            .values("value")
            .annotate(n=Count("id"))
            .order_by()
        }
    if dimension == "life_event":
        result = [FacetCount(e.code, e.name, found.pop(e.code, 0)) for e in LifeEvent.objects.all()]
        return result + [FacetCount(code, code, n) for code, n in sorted(found.items())]
    tables: dict[str, type] = {
        "theme_person": codes.NaturalPersonTheme,
        "theme_legal": codes.LegalPersonTheme,
        "target": codes.ServiceTarget,
        "level": codes.ExerciseLevel,
        "online_depth": codes.OnlineDepth,
        "item_type": codes.ItemType,
    }
    table = tables[dimension]
    result = [
        FacetCount(str(value), str(label), found.pop(str(value), 0))
        for value, label in table.choices  # type: ignore[attr-defined]
    ]
    extra = [
        FacetCount(code, _item_type_label(code) if dimension == "item_type" else code, n)
        for code, n in sorted(found.items())
    ]
    return result + extra
