"""Search text handling without a database: tokens, query parsing, query syntax, highlights."""

from __future__ import annotations

import re

import pytest

from zwfw.catalog import search_text
from zwfw.catalog.search_text import ParsedQuery, Word, parse_query

SOCIAL = ["社保", "社会保险", "社保卡"]
GROUPS = dict.fromkeys(SOCIAL, SOCIAL)


def test_normalise_and_runs() -> None:
    assert search_text.normalize("ＡＢＣ１２３Ⅳ①") == "abc123iv1"
    assert search_text.runs("食品经营许可（新办）A4纸 ICP-备案") == [
        ("cjk", "食品经营许可"),
        ("cjk", "新办"),
        ("ascii", "a4"),
        ("cjk", "纸"),
        ("ascii", "icp"),
        ("cjk", "备案"),
    ]
    assert search_text.key("食品经营许可（新办）") == "食品经营许可新办"


def test_index_tokens_are_character_ngrams_and_words() -> None:
    assert search_text.ngram_tokens(["社保卡（补办）A4"], unigrams=True) == [
        "社",
        "保",
        "卡",
        "社保",
        "保卡",
        "社保卡",
        "补",
        "办",
        "补办",
        "a4",
    ]
    # Guide text has no 1-grams (1-character queries look at names and keywords only).
    assert search_text.ngram_tokens(["社会保险"], unigrams=False) == [
        "社会",
        "会保",
        "保险",
        "社会保",
        "会保险",
    ]


def test_pinyin_tokens_start_at_every_character() -> None:
    tokens = search_text.pinyin_tokens("社保卡补办")
    assert tokens[:4] == ["shebaokabuban", "sbkbb", "baokabuban", "bkbb"]
    assert "buban" in tokens
    assert "bb" in tokens
    # Readings by phrase: 银行 is yin hang, not yin xing.
    assert "yinhangkaihu" in search_text.pinyin_tokens("银行开户")


def test_query_words_with_synonyms_and_filler() -> None:
    query = parse_query("怎么办理 社保卡补办", GROUPS)
    assert query.words == (Word(("社保卡", "社保", "社会保险")), Word(("补办",)))
    assert query.key == "怎么办理社保卡补办"
    # Only filler: kept rather than searching for nothing.
    assert parse_query("怎么办").words == (Word(("怎么办",)),)
    assert parse_query("户口迁移").words == (Word(("户口",)), Word(("迁移",)))


def test_empty_and_punctuation_only_queries_have_no_words() -> None:
    for text in ["", "   ", '"', "*", "()", "：^-", "！？。，"]:
        assert parse_query(text).is_empty, text


def test_query_syntax_of_both_engines() -> None:
    query = parse_query("社保 迁移 sb x 1", GROUPS)
    assert search_text.fts5_query(query) == (
        '("社保" OR ("社会保" AND "会保险") OR "社保卡") AND "迁移" AND "sb"* AND "x" AND "1"'
    )
    assert search_text.tsquery(query) == (
        "('社保' | ('社会保' & '会保险') | '社保卡') & '迁移' & 'sb':* & 'x' & '1'"
    )
    assert search_text.fts5_query(parse_query("户")) == '"户"'


HOSTILE = [
    '"',
    '""',
    "*",
    "社保*",
    "NEAR(社保 医保)",
    "社保 OR 医保",
    "社保 AND NOT 医保",
    "(社保",
    "name:社保",
    "^社保",
    "-社保",
    "社保 & | ! <-> :*",
    "'; DROP TABLE catalog_item; --",
    "\\x00\\",
    "{name_tokens}: 社保",
    "社" * 100,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_syntax_never_reaches_the_engines(text: str) -> None:
    query = parse_query(text, GROUPS)
    fts = search_text.fts5_query(query)
    ts = search_text.tsquery(query)
    # Only quoted tokens of token characters, the operators we write, and parentheses.
    assert re.fullmatch(r'(?:"[0-9a-z\u3400-\u9fff]+"\*?|AND|OR|[() ])*', fts), fts
    assert re.fullmatch(r"(?:'[0-9a-z\u3400-\u9fff]+'(?::\*)?|[&|() ])*", ts), ts
    # Operator words are searched as words (lower-cased, prefix terms).
    if text == "社保 OR 医保":
        assert '"or"*' in fts


def test_variants_are_tokenised_again_and_tokens_checked() -> None:
    # A synonym variant with syntax characters is split like user input…
    query = ParsedQuery("x", "x", (Word(('a"b OR c',)),))
    assert search_text.fts5_query(query) == '("a" AND "b" AND "or"* AND "c")'
    # …and a token that is not made of token characters is refused outright.
    with pytest.raises(ValueError, match="unsafe"):
        search_text._safe('a"b')


def test_highlight_escapes_then_marks() -> None:
    query = parse_query("社保 sb", GROUPS)
    assert search_text.highlight("<b>社会保险</b>登记（社保）", query) == (
        "&lt;b&gt;<mark>社会保险</mark>&lt;/b&gt;登记（<mark>社保</mark>）"
    )
    assert search_text.highlight("社保卡申领", parse_query("shebao")) == "<mark>社保</mark>卡申领"
    assert search_text.highlight("社保卡申领", parse_query("sbk")) == "<mark>社保卡</mark>申领"
    assert search_text.highlight("食品经营许可（新办）", parse_query("许可新办")) == (
        "食品经营<mark>许可</mark>（<mark>新办</mark>）"
    )
    assert search_text.highlight("a&b", parse_query("zz")) == "a&amp;b"


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "甲" * 100 + "营业执照" + "乙" * 100
    snippet = search_text.snippet(text, parse_query("营业执照"), width=30)
    assert snippet == "…" + "甲" * 7 + "<mark>营业执照</mark>" + "乙" * 19 + "…"
    assert search_text.snippet("短文本<x>", parse_query("无")) == "短文本&lt;x&gt;"
    assert search_text.snippet("", parse_query("无")) == ""
