"""Chinese text for search: normalisation, index tokens, query parsing, highlighting.

Pure functions, no database (see :mod:`zwfw.catalog.search` for the index and the queries and
``docs/decisions/0008-catalog-search.md`` for the reasoning).

* Text is normalised with NFKC and lower-cased; a *token character* is either a CJK-like
  letter (Unicode category ``Lo``: Han, kana, Hangul …) or an ASCII letter or digit. Every
  other character separates tokens — so no user input can carry full-text query syntax.
* Index tokens: character 2- and 3-grams of CJK runs, 1-grams too where 1-character
  queries should find things (name and keywords), ASCII words as they are, and pinyin (full
  and initials) of the name from every character position, so ``sb`` and ``shebao`` find
  社保.
* A query is split into words: synonym terms (longest first), then ``rjieba`` word
  segmentation; filler words (怎么, 办理 …) are dropped when something else is left. Each
  word becomes a set of variants (its synonym group) and each variant one n-gram token (up
  to 3 characters) or the AND of its overlapping 3-grams; ASCII words are prefix terms.
  The query is the AND of its words. :func:`fts5_query` and :func:`tsquery` write that tree
  in each engine's syntax from tokens that can only contain token characters.
"""

from __future__ import annotations

import functools
import html
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import rjieba
from pypinyin import lazy_pinyin

RunKind = Literal["cjk", "ascii"]

#: Longest synonym term looked up (characters).
MAX_SYNONYM_LENGTH = 16
#: ASCII tokens are cut to this length on both sides (indexing and querying).
MAX_ASCII_TOKEN = 32
#: Limits that keep a pathological query small (the API also caps ``q`` at 100 characters).
MAX_WORDS = 16
MAX_VARIANTS = 8
#: Pinyin tokens start at every character of the name and span at most this many syllables.
PINYIN_SPAN = 6

#: Words dropped from a query when another word is left ("怎么办理社保" searches 社保).
FILLER_WORDS = frozenset(
    {
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "和",
        "与",
        "及",
        "要",
        "想",
        "去",
        "在",
        "办",
        "怎么",
        "怎样",
        "如何",
        "怎么办",
        "我要",
        "我想",
        "想要",
        "哪里",
        "在哪",
        "在哪里",
        "什么",
        "请问",
        "办理",
        "需要",
        "手续",
    }
)


# --- characters and runs ---------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _kind(char: str) -> RunKind | None:
    if char.isascii():
        return "ascii" if char.isalnum() else None
    return "cjk" if unicodedata.category(char) == "Lo" else None


def normalize(text: str) -> str:
    """NFKC (full-width → half-width, ① → 1, Ⅳ → iv) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def runs(text: str) -> list[tuple[RunKind, str]]:
    """Maximal runs of CJK letters and of ASCII letters/digits in normalised ``text``."""
    found: list[tuple[RunKind, str]] = []
    current: list[str] = []
    current_kind: RunKind | None = None
    for char in normalize(text):
        kind = _kind(char)
        if kind != current_kind and current:
            found.append((current_kind, "".join(current)))  # type: ignore[arg-type]
            current = []
        current_kind = kind
        if kind is not None:
            current.append(char)
    if current and current_kind is not None:
        found.append((current_kind, "".join(current)))
    return found


def key(text: str) -> str:
    """Token characters of ``text`` only: the form compared for exact and contained names."""
    return "".join(run for _kind_, run in runs(text))


# --- index tokens ----------------------------------------------------------------------------


def _ascii_token(run: str) -> str:
    return run[:MAX_ASCII_TOKEN]


def ngram_tokens(texts: Iterable[str], *, unigrams: bool) -> list[str]:
    """Distinct index tokens of ``texts``: CJK 2- and 3-grams (+ 1-grams), ASCII words."""
    tokens: dict[str, None] = {}
    for text in texts:
        for kind, run in runs(text):
            if kind == "ascii":
                tokens[_ascii_token(run)] = None
                continue
            if unigrams or len(run) == 1:
                tokens.update(dict.fromkeys(run))
            for size in (2, 3):
                for i in range(len(run) - size + 1):
                    tokens[run[i : i + size]] = None
    return list(tokens)


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x3134F
        or 0xF900 <= code <= 0xFAFF
    )


def syllables(text: str) -> list[str | None]:
    """Pinyin syllable of each normalised character of ``text`` (None: not a Han character)."""
    chars = list(normalize(text))
    result: list[str | None] = [None] * len(chars)
    start = None
    for i, char in enumerate([*chars, ""]):
        if char and _is_han(char):
            if start is None:
                start = i
            continue
        if start is not None:
            # One call per Han run, so that pypinyin picks readings by phrase (银行 → yin hang).
            for offset, syllable in enumerate(lazy_pinyin("".join(chars[start:i]))):
                if syllable.isascii() and syllable.isalpha():
                    result[start + offset] = syllable
            start = None
    return result


def pinyin_tokens(name: str) -> list[str]:
    """Full pinyin and initials of ``name`` from every Han character position onwards."""
    tokens: dict[str, None] = {}
    per_char = syllables(name)
    for i in range(len(per_char)):
        span: list[str] = []
        for syllable in per_char[i : i + PINYIN_SPAN]:
            if syllable is None:
                break
            span.append(syllable)
        if span:
            tokens["".join(span)[:MAX_ASCII_TOKEN]] = None
            tokens["".join(s[0] for s in span)] = None
    return list(tokens)


# --- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One query word: it matches when any of its variants matches."""

    variants: tuple[str, ...]


@dataclass(frozen=True)
class ParsedQuery:
    """A user query reduced to words; ``key`` is compared with names for an exact match."""

    text: str
    key: str
    words: tuple[Word, ...]

    @property
    def is_empty(self) -> bool:
        return not self.words


def synonym_candidates(text: str) -> list[str]:
    """Every substring of the query that could be a synonym term (for one table lookup)."""
    found: dict[str, None] = {}
    for kind, run in runs(text[:200]):
        if kind == "ascii":
            found[run] = None
            continue
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + MAX_SYNONYM_LENGTH) + 1):
                found[run[i:j]] = None
    return list(found)


def parse_query(text: str, synonyms: Mapping[str, Sequence[str]] | None = None) -> ParsedQuery:
    """Split ``text`` into words with their synonym variants.

    ``synonyms`` maps a normalised term to every term of its group (including itself), as
    looked up for :func:`synonym_candidates`. Never raises: input that has no token
    characters gives an empty query.
    """
    groups = synonyms or {}
    words: list[Word] = []
    for kind, run in runs(text):
        if kind == "ascii":
            words.append(_word(run, groups))
            continue
        plain_start = 0
        i = 0
        while i < len(run):
            term = _longest_term(run, i, groups)
            if term is None:
                i += 1
                continue
            words += _segment(run[plain_start:i])
            words.append(_word(term, groups))
            i += len(term)
            plain_start = i
        words += _segment(run[plain_start:])
    meaningful = [w for w in words if not set(w.variants) <= FILLER_WORDS]
    chosen = meaningful or words
    unique = list(dict.fromkeys(w for w in chosen if w.variants))
    return ParsedQuery(text=text, key=key(text), words=tuple(unique[:MAX_WORDS]))


def _longest_term(run: str, start: int, groups: Mapping[str, Sequence[str]]) -> str | None:
    if not groups:
        return None
    for end in range(min(len(run), start + MAX_SYNONYM_LENGTH), start + 1, -1):
        if run[start:end] in groups:
            return run[start:end]
    return None


def _segment(text: str) -> list[Word]:
    if not text:
        return []
    return [Word((w,)) for w in rjieba.cut(text) if w.strip()]


def _word(term: str, groups: Mapping[str, Sequence[str]]) -> Word:
    variants = [term]
    for other in groups.get(term, ()):
        other_key = key(other)
        if other_key and other_key not in variants:
            variants.append(other_key)
    return Word(tuple(variants[:MAX_VARIANTS]))


def _ngrams(run: str) -> list[str]:
    """Index tokens that together find ``run``: itself up to 3 characters, else its 3-grams.

    Overlapping 3-grams pin the characters' order closely enough without positions (社会保险
    needs 社会保 and 会保险, which scattered characters rarely give).
    """
    if len(run) <= 3:
        return [run]
    return list(dict.fromkeys(run[i : i + 3] for i in range(len(run) - 2)))


def _variant_terms(variant: str) -> list[tuple[str, bool]]:
    """Index tokens that must all be present for ``variant``: (token, is_prefix)."""
    terms: list[tuple[str, bool]] = []
    for kind, run in runs(variant):
        if kind == "ascii":
            token = _ascii_token(run)
            terms.append((token, len(token) >= 2))
        else:
            terms += [(gram, False) for gram in _ngrams(run)]
    return list(dict.fromkeys(terms))


def _tree(query: ParsedQuery) -> list[list[list[tuple[str, bool]]]]:
    """AND of words, each an OR of variants, each an AND of (token, prefix) terms."""
    tree = []
    for word in query.words:
        variants = [terms for v in word.variants if (terms := _variant_terms(v))]
        if variants:
            tree.append(variants)
    return tree


def _safe(token: str) -> str:
    # Tokens come from runs(): only token characters. Checked again because this string goes
    # into query syntax; a failure here is a programming error, not user input.
    if not token or not all(_kind(c) for c in token):
        raise ValueError(f"unsafe search token {token!r}")
    return token


def fts5_query(query: ParsedQuery) -> str:
    """The SQLite FTS5 MATCH expression of ``query`` (empty string: matches nothing)."""

    def term(token: str, prefix: bool) -> str:
        return f'"{_safe(token)}"' + ("*" if prefix else "")

    return _render(query, term, and_="AND", or_="OR")


def tsquery(query: ParsedQuery) -> str:
    """The PostgreSQL ``tsquery`` text of ``query`` (lexemes quoted, no parser involved)."""

    def term(token: str, prefix: bool) -> str:
        return f"'{_safe(token)}'" + (":*" if prefix else "")

    return _render(query, term, and_="&", or_="|")


def _render(query: ParsedQuery, term: Callable[[str, bool], str], *, and_: str, or_: str) -> str:
    def group(parts: list[str], operator: str) -> str:
        return parts[0] if len(parts) == 1 else "(" + f" {operator} ".join(parts) + ")"

    words = [
        group([group([term(t, p) for t, p in terms], and_) for terms in variants], or_)
        for variants in _tree(query)
    ]
    return f" {and_} ".join(words)


# --- highlighting ----------------------------------------------------------------------------


def _normalised_map(text: str) -> tuple[str, list[int]]:
    """Token characters of ``text`` (normalised) and, for each, its index in ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text) and unicodedata.is_normalized("NFKC", lowered):
        # The usual case (Chinese text): normalising changes no length, so no per-character
        # normalisation is needed to keep positions.
        origin = [i for i, char in enumerate(lowered) if _kind(char)]
        return "".join(lowered[i] for i in origin), origin
    chars: list[str] = []
    origin = []
    for index, char in enumerate(text):
        for normal in normalize(char):
            if _kind(normal):
                chars.append(normal)
                origin.append(index)
    return "".join(chars), origin


def _pinyin_match(per_char: Sequence[str | None], start: int, word: str) -> int:
    """Characters from ``start`` whose pinyin (full syllables or initials) spells ``word``."""

    def walk(i: int, rest: str) -> int:
        if not rest:
            return i - start
        if i >= len(per_char) or per_char[i] is None:
            return 0
        syllable = per_char[i] or ""
        if rest.startswith(syllable) and (found := walk(i + 1, rest[len(syllable) :])):
            return found
        if syllable.startswith(rest):  # the last syllable may be typed in part
            return i + 1 - start
        if rest[0] == syllable[0] and (found := walk(i + 1, rest[1:])):
            return found
        return 0

    return walk(start, word)


def marked_spans(
    text: str, query: ParsedQuery, *, pinyin: bool = True
) -> tuple[str, list[int], list[bool]]:
    """Normalised ``text``, its origin map, and which original characters a query word hits.

    With ``pinyin``, ASCII words also mark the characters whose pinyin spells them.
    """
    normal, origin = _normalised_map(text)
    marks = [False] * len(text)
    per_char: list[str | None] | None = None
    for word in query.words:
        for variant in word.variants:
            variant_key = key(variant)
            if not variant_key:
                continue
            start = normal.find(variant_key)
            while start != -1:
                for j in range(origin[start], origin[start + len(variant_key) - 1] + 1):
                    marks[j] = True
                start = normal.find(variant_key, start + 1)
            if pinyin and variant_key.isascii() and variant_key.isalpha() and len(variant_key) >= 2:
                if per_char is None:
                    per_char = syllables(normal)
                for i in range(len(normal)):
                    length = _pinyin_match(per_char, i, variant_key)
                    if length:
                        for j in range(origin[i], origin[i + length - 1] + 1):
                            marks[j] = True
    return normal, origin, marks


def _render_marks(text: str, marks: Sequence[bool]) -> str:
    out: list[str] = []
    position = 0
    for marked, run in itertools.groupby(marks):
        length = sum(1 for _ in run)
        escaped = html.escape(text[position : position + length])
        out.append(f"<mark>{escaped}</mark>" if marked else escaped)
        position += length
    return "".join(out)


def highlight(text: str, query: ParsedQuery) -> str:
    """``text`` HTML-escaped, with ``<mark>…</mark>`` around what the query matched."""
    _normal, _origin, marks = marked_spans(text, query)
    return _render_marks(text, marks)


def snippet(text: str, query: ParsedQuery, *, width: int = 60) -> str:
    """A ``width``-character window of ``text`` around the first match, escaped and marked.

    Without a match, the beginning of ``text``. Elided ends are shown as ``…``.
    """
    if not text:
        return ""
    # Guide text is long and normalising it character by character is the slow part: look
    # for the first match in the raw text and normalise only a window around it.
    first = min(
        (
            found
            for word in query.words
            for variant in word.variants
            if (found := text.find(variant)) >= 0
        ),
        default=0,
    )
    start = max(0, first - width // 4)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    window = text[start:end]
    _normal, _origin, marks = marked_spans(window, query, pinyin=False)
    body = _render_marks(window, marks)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
