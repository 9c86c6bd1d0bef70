"""From what a clerk types to a query every backend can run.

A query is read into a :class:`Plan`:

- ``"quoted text"`` is an exact phrase;
- a reference number typed any way (Thai or Arabic digits, spaces, with or without ``ว``)
  becomes its keys (``RefNo.key``), matched in the number's own field: such a query finds
  that letter first;
- what is typed without spaces is a *phrase* (a run of syllables that must occur whole;
  a government term or synonym expression typed with spaces joins its pieces), and it is
  also cut into *words* (PyThaiNLP's word dictionary). Synonyms are other phrases that may
  stand in a phrase's or a word's place;
- a Thai date in the query ranks letters of that date first.

:func:`build` turns a plan into a small tree (:class:`Phrase`, :class:`Key`, :class:`Any`,
:class:`All`, :class:`Max`, :class:`Ranked`, :class:`Boost`, :class:`Const`) that each
backend compiles, at one of four levels, tried narrowest first while the letters found are
fewer than :data:`TOLERANT_BELOW` (the last two only while nothing is found):

1. ``EXACT``: every phrase whole (``ศูนย์ผู้นำจิตอาสา`` as typed, inside any compound);
2. ``WORDS``: every word anywhere, and a word of four or more syllables also with any one
   syllable wrong or missing (OCR noise: ``กรมการพัฒนารวมชน`` for ``กรมการพัฒนาชุมชน``) or
   ``ำ`` read as ``า``; letters the exact query finds still come first;
3. ``ALL_BUT_ONE``: all the words but one (of two words, either): a typo is let go;
4. ``ANY_WORD``: any of the words, the letters with the most of them first: a clerk's query
   in plain words ("หนังสือเวียน จิตอาสา ปีที่แล้ว") holds words no letter prints.

The last two are tried only when the words found no letter even with near spellings, so
they check the words as typed (no near spellings, no bonus for the exact query), and a word
matches where its syllable pairs all are, in sequence or not: each phrase checked in
sequence costs its positions in nearly every letter of the archive, and these levels rank
letters by how many of the words they hold, which the pairs say well enough.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from saraban.errors import BadRequest
from saraban.indexer._cited import date_key, query_numbers, ref_keys
from saraban.indexer._terms import Tokens, Vocabulary
from saraban.indexer._thai import PAIR, analyze, words
from saraban.thai import RefNo
from saraban.thai import read_dates as read_dates_in

# Text fields. ``words`` holds every syllable of a letter (subject, number, people, date,
# references, body, attachments), ``subject`` and ``meta`` (number, addressee, signer, sender,
# owner unit, date, references) again on their own for weighting. Each has a ``_pairs`` twin
# holding adjacent syllables joined ("จิต_อา", "อา_สา"): a phrase of syllables is a phrase of
# pairs, and pairs are rare terms, so phrases are fast even on very common syllables.
BASE_FIELDS = ("words", "subject", "meta")
TEXT_FIELDS = ("words", "pairs", "subject", "subject_pairs", "meta", "meta_pairs")
SUBJECT_BOOST = 4.0
TERM_SUBJECT_BOOST = 8.0  # a government term in the subject
META_BOOST = 2.0
CHUNK_BOOST = 2.0
TOLERANT_BELOW = 10  # widen the query when the exact one finds fewer letters than this
EXACT_REF_SCORE = 1000.0
LOOSE_REF_SCORE = 500.0
CITED_REF_SCORE = 40.0
DATE_SCORE = 20.0  # the letter's own date is the one typed
CITED_DATE_SCORE = 10.0  # the letter holds the date typed (its own, or one it names)
TOLERANT_WEIGHT = 0.3
STRICT_BONUS = 100.0  # in a widened query, letters the exact query finds come first
MIN_HOLEY_LENGTH = 4
# Bounded work (docs/search.md, "Limits"): what a query may hold, measured on 100,000 letters.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 16
MAX_QUERY_NUMBERS = 4  # reference numbers
MAX_SYNONYMS = 8  # expressions a word stands for, itself included
MAX_NEAR_SPELLINGS = 24  # near spellings of a query's words, in all (each is a phrase to check)
MAX_NEAR_SPELLING_WORDS = 6  # a longer query has none

_QUOTED_RE = re.compile(r"[\"“”]([^\"“”]*)[\"“”]")


# ---- the plan ---------------------------------------------------------------------------------


@dataclass
class Unit:
    alternatives: list[Tokens]  # the unit itself first, then its synonyms
    quoted: bool = False
    term: bool = False


@dataclass
class Plan:
    """``phrases``: what was typed without spaces (or quoted), each a phrase that must occur
    whole (the exact query); ``units``: its words, each of which must occur somewhere (the
    wider query, when the exact one finds too little)."""

    phrases: list[Unit] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    exact_refs: list[str] = field(default_factory=list)
    loose_refs: list[str] = field(default_factory=list)
    refs: list[RefNo] = field(default_factory=list)  # the numbers, for highlighting
    ref_texts: list[str] = field(default_factory=list)  # as typed
    chunks: list[Tokens] = field(default_factory=list)  # multi-word chunks: phrase boosts
    whole: Tokens | None = None  # the whole query, when typed in several chunks
    dates: list[dt.date] = field(default_factory=list)  # each found as a key (any form)
    text_dates: list[dt.date] = field(default_factory=list)  # dates left in the text
    text_without_refs: str = ""  # the query without its numbers
    text_with_dates: str = ""  # the query with its dates as words

    @property
    def empty(self) -> bool:
        return not self.phrases and not self.exact_refs and not self.dates

    def without_refs(self, vocabulary: Vocabulary, engine: str) -> Plan:
        """The rest of the query, when no letter carries or cites its numbers."""
        return parse(self.text_without_refs, vocabulary, engine, read_refs=False)

    def without_date_keys(self, vocabulary: Vocabulary, engine: str) -> Plan:
        """The query with its dates read as words (ranking letters of that date first),
        when no letter holds them as dates."""
        plan = parse(self.text_with_dates, vocabulary, engine, read_refs=False, read_dates=False)
        plan.refs, plan.ref_texts = self.refs, self.ref_texts
        return plan

    def highlight(self, *, tolerant: bool = False) -> list[tuple[str | None, ...]]:
        """Token sequences to mark in snippets, longest first; in tolerant mode also the
        near spellings, with None where any syllable may stand."""
        found: set[tuple[str | None, ...]] = {a for unit in self.units for a in unit.alternatives}
        found |= set(self.chunks) | {a for unit in self.phrases for a in unit.alternatives}
        if self.whole:
            found.add(self.whole)
        if tolerant:
            for forms in self.near_spellings():
                for form in forms:
                    spelled: list[str | None] = [None] * (form[-1][0] + 1)
                    for offset, token in form:
                        spelled[offset] = token
                    while spelled and spelled[0] is None:
                        spelled.pop(0)
                    found.add(tuple(spelled))
        return sorted(found, key=lambda t: (-len("".join(x or "" for x in t)), str(t)))

    def near_spellings(self) -> list[list[tuple[tuple[int, str], ...]]]:
        """Each unit's near spellings (:func:`tolerant_forms`), at most
        :data:`MAX_NEAR_SPELLINGS` in all, the first units first: each is one more phrase
        for the engine to check. A query of more than :data:`MAX_NEAR_SPELLING_WORDS` words
        has none: checked in nearly every letter they cost seconds, and a misspelt word among
        many is let go by the next level (all the words but one)."""
        budget = MAX_NEAR_SPELLINGS if len(self.units) <= MAX_NEAR_SPELLING_WORDS else 0
        found: list[list[tuple[tuple[int, str], ...]]] = []
        for unit in self.units:
            forms = []
            if not unit.quoted:
                forms = [form for alt in unit.alternatives for form in tolerant_forms(alt)]
            found.append(forms[:budget])
            budget -= len(found[-1])
        return found


def check_length(query: str) -> None:
    """A query longer than :data:`MAX_QUERY_CHARS` is refused, in the one error shape."""
    length = len(query.strip())
    if length > MAX_QUERY_CHARS:
        raise BadRequest(
            f"q: คำค้นยาว {length:,} ตัวอักษร ค้นได้ไม่เกิน {MAX_QUERY_CHARS} ตัวอักษร "
            f"ลองใช้คำสำคัญหรือเลขที่หนังสือ / the query is {length:,} characters long; at "
            f"most {MAX_QUERY_CHARS} are searched: try its key words or a reference number"
        )


def check_size(plan: Plan) -> None:
    """A query of more than :data:`MAX_QUERY_WORDS` words or :data:`MAX_QUERY_NUMBERS`
    reference numbers is refused: each is more work for every letter."""
    if len(plan.units) > MAX_QUERY_WORDS:
        raise BadRequest(
            f"q: คำค้นมี {len(plan.units)} คำ ค้นได้ไม่เกิน {MAX_QUERY_WORDS} คำ "
            f"ลองใช้คำสำคัญหรือเลขที่หนังสือ / the query has {len(plan.units)} words; at most "
            f"{MAX_QUERY_WORDS} are searched: try its key words or a reference number"
        )
    if len(plan.ref_texts) > MAX_QUERY_NUMBERS:
        raise BadRequest(
            f"q: คำค้นมีเลขที่หนังสือ {len(plan.ref_texts)} เลข ค้นได้ครั้งละไม่เกิน "
            f"{MAX_QUERY_NUMBERS} เลข / the query has {len(plan.ref_texts)} reference numbers; "
            f"at most {MAX_QUERY_NUMBERS} are searched at once"
        )


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the spans replaced by spaces."""
    for start, end in sorted(spans, reverse=True):
        text = f"{text[:start]} {text[end:]}"
    return text


def parse(
    query: str,
    vocabulary: Vocabulary,
    engine: str,
    *,
    read_refs: bool = True,
    read_dates: bool = True,
) -> Plan:
    plan = Plan()
    for m in _QUOTED_RE.finditer(query):
        tokens = tuple(analyze(m.group(1), engine=engine))
        if tokens:
            plan.units.append(Unit([tokens], quoted=True))
            plan.phrases.append(Unit([tokens], quoted=True))
    rest = _QUOTED_RE.sub(" ", query)
    plan.text_without_refs = plan.text_with_dates = query
    if read_refs:
        numbers = query_numbers(rest)
        for _start, _end, ref in numbers:
            exact, *loose = ref_keys(ref)
            plan.exact_refs += [exact] if exact not in plan.exact_refs else []
            plan.loose_refs += [k for k in loose if k not in plan.loose_refs]
            plan.refs.append(ref)
        plan.ref_texts = [rest[start:end].strip() for start, end, _ref in numbers]
        if numbers:
            rest = re.sub(r"(^|\s)(?:ที่|เลขที่)(\s|$)", " ", _cut(rest, [n[:2] for n in numbers]))
            plan.text_without_refs = plan.text_with_dates = rest
    found_dates = read_dates_in(rest)
    if read_dates:
        plan.dates = list(dict.fromkeys(found.date for found in found_dates))
        rest = _cut(rest, [(found.start, found.end) for found in found_dates])
    else:
        plan.text_dates = [found.date for found in found_dates]
    _read_units(rest, plan, vocabulary, engine)
    return plan


def _read_units(text: str, plan: Plan, vocabulary: Vocabulary, engine: str) -> None:
    tokens: list[str] = []
    word_of: list[int] = []
    chunk_of: list[int] = []
    word_number = 0
    for chunk_number, chunk in enumerate(text.split()):
        for word in words(chunk, engine=engine):
            word_tokens = analyze(word, engine=engine)
            if not word_tokens:
                continue
            tokens += word_tokens
            word_of += [word_number] * len(word_tokens)
            chunk_of += [chunk_number] * len(word_tokens)
            word_number += 1
    # Terms and synonym expressions first, longest match, across words and chunks.
    spans: dict[int, int] = {}
    i = 0
    while i < len(tokens):
        found = vocabulary.longest_at(tokens, i)
        if found:
            spans[i] = i + len(found)
            i += len(found)
        else:
            i += 1
    units: list[Tokens] = []
    i = 0
    while i < len(tokens):
        if i in spans:
            units.append(tuple(tokens[i : spans[i]]))
            i = spans[i]
            continue
        j = i + 1
        while j < len(tokens) and word_of[j] == word_of[i] and j not in spans:
            j += 1
        units.append(tuple(tokens[i:j]))
        i = j
    for unit in units:
        alternatives = vocabulary.synonyms(unit)[:MAX_SYNONYMS]
        plan.units.append(Unit(alternatives, term=vocabulary.is_term(unit)))
    # Phrases: the chunks, joined where a term or synonym expression spans the spaces.
    group_of = list(chunk_of)
    for start, end in spans.items():
        for k in range(start, end):
            group_of[k] = group_of[start]
    for group in sorted(set(group_of)):
        phrase = tuple(t for t, g in zip(tokens, group_of, strict=True) if g == group)
        alternatives = vocabulary.synonyms(phrase)[:MAX_SYNONYMS]
        plan.phrases.append(Unit(alternatives, term=vocabulary.is_term(phrase)))
    # A chunk typed without spaces ranks letters holding it whole above the rest.
    for chunk_number in sorted(set(chunk_of)):
        chunk_tokens = tuple(t for t, c in zip(tokens, chunk_of, strict=True) if c == chunk_number)
        chunk_words = {w for w, c in zip(word_of, chunk_of, strict=True) if c == chunk_number}
        if len(chunk_words) > 1:
            plan.chunks.append(chunk_tokens)
    if len(set(chunk_of)) > 1:
        plan.whole = tuple(tokens)


# ---- the tree every backend compiles ---------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """Tokens at given offsets in one text field; one token is a term query.

    Not ``exact``: two pairs that need only both occur in the letter, not in sequence (a
    word of three syllables, the commonest length): both halves of such a word occurring,
    yet never the word, is rare enough to accept for unquoted text, and checking no
    positions is several times faster. Longer runs are always exact: letters of one field
    of work share so many pairs (พัฒ_นา, ชุม_ชน) that all the pairs of a long compound turn
    up apart in letters that never name it.
    """

    field: str
    tokens: tuple[tuple[int, str], ...]
    exact: bool = True


@dataclass(frozen=True)
class Key:
    """An exact keyword in a keyword field (reference number keys)."""

    field: str
    value: str


@dataclass(frozen=True)
class Items:
    items: tuple


class Any(Items):
    """Matches where any item matches; scores as the sum of those that do."""


class All(Items):
    """Matches where every item matches."""


class Max(Items):
    """Matches like :class:`Any` but scores as its best item: a unit's spellings and
    synonyms are one word, not several."""


@dataclass(frozen=True)
class Quorum(Items):
    """Matches where at least ``count`` items match; scores as the sum of those that do."""

    count: int

    def combinations(self) -> Any:
        """The same as an :class:`Any` of :class:`All` (for engines without a minimum)."""
        chosen = itertools.combinations(self.items, self.count)
        return Any(tuple(All(items) for items in chosen))


@dataclass(frozen=True)
class Ranked:
    """Matches like ``must``; each item of ``should`` that also matches adds to the score."""

    must: object
    should: tuple


@dataclass(frozen=True)
class Boost:
    item: object
    weight: float


@dataclass(frozen=True)
class Const:
    """Matches like ``item`` with a fixed score (a reference number hit)."""

    item: object
    score: float


@dataclass(frozen=True)
class DateIs:
    day: int  # yyyymmdd


def _positions(tokens: Tokens) -> tuple[tuple[int, str], ...]:
    return tuple(enumerate(tokens))


def pairs(tokens: list[str] | Tokens) -> list[str]:
    """Adjacent tokens joined: the terms of the ``_pairs`` fields."""
    return list(map(PAIR.join, zip(tokens, tokens[1:], strict=False)))


def sparse(tokens: tuple[tuple[int, str], ...], keep: int = 0) -> tuple[tuple[int, str], ...]:
    """A phrase of pairs at consecutive offsets, every other pair left out: pairs at offsets
    0, 2, 4 (and the last) already fix every syllable, and fewer terms intersect faster.
    The pair at index ``keep`` stays in, the others around it: an engine that knows which
    pair is rarest keeps that one, and only letters holding it are checked for the phrase."""
    last = len(tokens) - 1
    fixed = sorted({0, keep, last})
    chosen = {i for start, end in zip(fixed, fixed[1:], strict=False) for i in range(start, end, 2)}
    return tuple(tokens[i] for i in sorted(chosen | {last}))


def pairs_field(field: str) -> str:
    return "pairs" if field == "words" else f"{field}_pairs"


def match(
    field: str, positions: tuple[tuple[int, str], ...], *, exact: bool = True, loose: bool = False
) -> Phrase:
    """Tokens at their offsets in a base field: a run of 2+ tokens as a phrase of pairs
    (``loose``: its pairs anywhere, even when it is long, unless ``exact``)."""
    offsets = [offset for offset, _token in positions]
    if len(positions) > 1 and offsets == list(range(offsets[0], offsets[0] + len(offsets))):
        joined = pairs([token for _offset, token in positions])
        in_sequence = exact or (len(joined) > 2 and not loose)
        return Phrase(pairs_field(field), _positions(tuple(joined)), exact=in_sequence)
    return Phrase(field, positions)


def tolerant_forms(tokens: Tokens) -> list[tuple[tuple[int, str], ...]]:
    """Near spellings of a unit: one syllable wrong or missing (4+ syllables), ำ read as า."""
    forms: list[tuple[tuple[int, str], ...]] = []
    if len(tokens) >= MIN_HOLEY_LENGTH:
        for hole in range(len(tokens)):
            forms.append(tuple((i, t) for i, t in enumerate(tokens) if i != hole))
    if any("ำ" in t for t in tokens):
        forms.append(_positions(tuple(t.replace("ำ", "า") for t in tokens)))
    return forms


def unit_node(
    unit: Unit, near: Sequence[tuple[tuple[int, str], ...]] = (), *, loose: bool = False
) -> object:
    """A unit matches anywhere in the letter (``words``), or as one of its ``near``
    spellings; in the subject or the number, people and date (``meta``) it counts more.
    ``loose``: its syllable pairs need only all be in the letter (see :func:`build`)."""
    exact = unit.quoted
    options: list[object] = [
        match("words", _positions(alt), exact=exact, loose=loose) for alt in unit.alternatives
    ]
    options += [Boost(match("words", form), TOLERANT_WEIGHT) for form in near]
    core: object = Max(tuple(options)) if len(options) > 1 else options[0]
    first = _positions(unit.alternatives[0])
    subject_boost = TERM_SUBJECT_BOOST if unit.term else SUBJECT_BOOST
    return Ranked(
        core,
        (
            Boost(match("subject", first, exact=exact), subject_boost),
            Boost(match("meta", first, exact=exact), META_BOOST),
        ),
    )


def ref_node(plan: Plan) -> object | None:
    options: list[object] = []
    options += [Const(Key("ref", k), EXACT_REF_SCORE) for k in plan.exact_refs]
    options += [Const(Key("ref", k), LOOSE_REF_SCORE) for k in plan.loose_refs]
    options += [Const(Key("cited", k), CITED_REF_SCORE) for k in plan.exact_refs]
    options += [Const(Key("cited", k), CITED_REF_SCORE / 2) for k in plan.loose_refs]
    return Any(tuple(options)) if options else None


def date_node(plan: Plan) -> object | None:
    """Letters that hold one of the query's dates (their own, or written in them)."""
    keys = [Const(Key("dates", date_key(d)), CITED_DATE_SCORE) for d in plan.dates]
    return Any(tuple(keys)) if keys else None


EXACT, WORDS, ALL_BUT_ONE, ANY_WORD = 0, 1, 2, 3  # the levels of a query, narrowest first


def build(plan: Plan, level: int = EXACT) -> tuple[object, list]:
    """(what must match, what only adds to the score) at a level: ``EXACT`` every phrase
    whole; ``WORDS`` every word anywhere, near spellings allowed; ``ALL_BUT_ONE`` all the
    words but one (for a query whose words are not all found); ``ANY_WORD`` any word, each
    adding to the score (the last resort)."""
    if level == EXACT:
        units = [unit_node(u) for u in plan.phrases]
        chunks = []  # each chunk is a phrase already
    elif level == WORDS:
        near = plan.near_spellings()
        units = [unit_node(u, forms) for u, forms in zip(plan.units, near, strict=True)]
        chunks = list(plan.chunks)
    else:  # all words but one, any word: a word may be missing, none need be misspelt
        units = [unit_node(u, loose=True) for u in plan.units]
        chunks = list(plan.chunks)
    if plan.whole:
        chunks.append(plan.whole)
    boosts: list[object] = [
        Boost(match(name, _positions(chunk)), weight)
        for chunk in chunks
        for name, weight in (("subject", SUBJECT_BOOST * CHUNK_BOOST), ("words", CHUNK_BOOST))
    ]
    boosts += [
        Const(DateIs(d.year * 10000 + d.month * 100 + d.day), DATE_SCORE)
        for d in plan.dates + plan.text_dates
    ]
    dates = date_node(plan)
    refs = ref_node(plan)
    if refs is not None:
        # A reference number says which letter: the words only rank among its matches.
        return refs, units + boosts + ([dates] if dates else [])
    if not units:
        return dates, boosts
    must, boosts = _words(plan, units, boosts, level)
    # A date typed is one more thing each letter must hold, whatever the words' level.
    return (All((dates, must)) if dates is not None else must), boosts


def _words(plan: Plan, units: list[object], boosts: list[object], level: int) -> tuple:
    """What the words must match at a level, and the boosts."""
    if level == WORDS:  # (the wider levels are tried only when the exact one found none)
        strict = [unit_node(u) for u in plan.phrases]
        boosts.append(Const(All(tuple(strict)), STRICT_BONUS))
    if level == ALL_BUT_ONE and len(units) > 2:
        # All the units but one: a word the letters do not have (a typo) is let go.
        return Quorum(tuple(units), len(units) - 1), boosts
    if level in (ALL_BUT_ONE, ANY_WORD) and len(units) > 1:
        return Any(tuple(units)), boosts
    return All(tuple(units)), boosts
