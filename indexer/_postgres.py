"""PostgreSQL full-text search over the analyzer's tokens, for offices that outgrow one
machine (tables in the archive's own PostgreSQL database).

PostgreSQL's text parser never sees Thai: each letter's ``tsvector`` is built from our
tokens as a literal with positions and weights (subject A; number, people, date and
references B; the whole letter C), and queries are ``tsquery`` literals built from the
same tokens: a word is a phrase of syllables (``'จิต' <-> 'อา' <-> 'สา'``), a missing
syllable a wider distance (``<2>``). Nothing depends on the database's locale or text search
configuration, and reference numbers are never split by a parser (their keys are in arrays,
matched exactly). A ``tsvector`` keeps positions up to 16,383: words further into a very
long letter still match singly, not as phrases.

Text is held as syllables and as pairs of adjacent syllables (see ``_query.py``), so a
phrase is a phrase of rare pairs. What matches is decided by the GIN index alone: a letter
holding every pair of each phrase (see :meth:`PostgresIndex._run`); matches are counted
(or, past a few thousand, estimated from a sample, whose letters carry their lexemes twice,
the second time behind the sample's marker), and only a few hundred candidates are
ranked with ``ts_rank``, phrases and weights included. Where most letters match, the newest
matches are found by checking the newest letters (:meth:`PostgresIndex._walked`).

The table is partitioned by secrecy (``search_letters_0`` holds the open letters,
``_1`` .. ``_3`` ลับ, ลับมาก, ลับที่สุด, each with its own GIN indexes and planner
statistics), and a search names the levels its user may see as constants, so PostgreSQL
prunes the others when it plans the query: no count, order or timing reads a letter above
the user's clearance. ``ts_rank`` reads only the letter it ranks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from saraban.errors import BadRequest
from saraban.indexer import _query
from saraban.indexer._engine import BaseIndex, Filters, Page, Prepared, Request
from saraban.indexer._model import TIERS

MAX_POSITION = 16383  # PostgreSQL reads a later position as this one
_FIELD_GAP = 8
# Weights, and the order of the fields in the tsvector: the small ones first, then pairs (the
# phrases), then single syllables, so that what the 16,383 positions cut off is the least use.
_LABELS = {
    "subject": "A",
    "subject_pairs": "A",
    "meta": "B",
    "meta_pairs": "B",
    "pairs": "C",
    "words": "C",
}
_HEAD_FIELDS = ("subject", "subject_pairs", "meta", "meta_pairs")
_UNRESTRICTED = {"words", "pairs"}  # they hold the whole letter: no weight restriction
_RERANK = 200  # candidates of each kind ranked over the whole letter
# Counting (see the module docstring): one letter in SAMPLE_EVERY carries the sample
# marker; a level whose sample says more than EXACT_UP_TO letters match is estimated.
SAMPLE_EVERY = 32
EXACT_UP_TO = 5_000
# A coarser sample (a subset of the first) for queries that match most of a large archive:
# read first; the fine sample is read only while it holds at most FINE_SAMPLE_UP_TO matches.
COARSE_EVERY = 1024
FINE_SAMPLE_UP_TO = 3_000
_SAMPLE = "#s"
_COARSE = "#t"
# A sampled letter's lexemes again, each behind its sample's marker ("#s:จิต", "#t:#k=memo"):
# a sample's query asks for those (:func:`_in_sample`), whose posting lists hold that sample's
# letters alone. Asked as "words & '#t'", the GIN index read the words' posting lists nearly
# whole (their letters spread over every page): 15 ms at a million letters, for 1 in 1,024.
_TWINNED_AT_MOST = 10_000  # lexemes a letter carries twins of (a tsvector holds 1 MB)
_MONTH = "#m"  # #m2025 a calendar year, #m202510 a month, #m20251005 a day (CE)
_FISCAL = "#f"  # #f2026 the fiscal year 1 October 2025 - 30 September 2026
_FILTER_PREFIX = {"kind": "#k=", "unit": "#n=", "urgency": "#r=", "direction": "#d="}
_MONTHS_MARKED = 36  # a date filter of more markers is checked on the rows alone
_WINDOW_MARKERS = 31  # the most days or months the newest matches are looked for in
# Matches in at least this share of the letters: the newest are found by reading the newest
# letters one by one (at most _WALKED_AT_MOST of them), not through the GIN index.
_DENSE = 0.5
_WALKED_AT_MOST = 1_000
_TABLE = "search_letters"
_META = "search_meta"
LAYOUT = 7  # of the table and its lexemes: another layout is rebuilt
# (column, type to cast a bound text to), in the order of PostgresIndex._row.
_COLUMNS = (
    ("id", None),
    ("tsv", "tsvector"),
    ("head", "tsvector"),
    ("ref", None),
    ("cited", None),
    ("dates", None),
    ("day", None),
    ("year", None),
    ("secrecy", None),
    ("kind", None),
    ("unit", None),
    ("urgency", None),
    ("direction", None),
    ("status", None),
    ("data", "jsonb"),
)
_GIN_COLUMNS = ("tsv", "head", "ref", "cited", "dates")
_INDEX_NAMES = tuple(f"{_TABLE}_{column}" for column in (*_GIN_COLUMNS, "day"))
_INDEXES = tuple(
    f"CREATE INDEX IF NOT EXISTS {_TABLE}_{column} ON {_TABLE} USING gin ({column})"
    for column in _GIN_COLUMNS
) + (f"CREATE INDEX IF NOT EXISTS {_TABLE}_day ON {_TABLE} (day)",)
_SETUP_LOCK = 0x5A2ABA10
_BULK_LOCK = 0x5A2ABA11


_LEXEME_BYTES = 2046  # PostgreSQL refuses a longer lexeme ("word is too long")
# Sections :func:`_quote` must write token by token: a quote, a backslash, or a word that may
# be longer than a lexeme (4 bytes a character at most).
_NEEDS_QUOTING = re.compile(rf"['\\]|\S{{{_LEXEME_BYTES // 4 + 1},}}")


def _cut(lexeme: str) -> str:
    """A lexeme PostgreSQL takes: a longer word (a pasted blob, a run of one letter) is cut
    after :data:`_LEXEME_BYTES` bytes, where a character ends; a query's word is cut the same
    way, so it still finds the letter."""
    if len(lexeme) <= _LEXEME_BYTES // 4:
        return lexeme
    return lexeme.encode("utf-8", "replace")[:_LEXEME_BYTES].decode("utf-8", "ignore")


def _quote(token: str) -> str:
    token = _cut(token)
    if "'" in token or "\\" in token:
        token = token.replace("\\", "\\\\").replace("'", "''")
    return "'" + token + "'"


def _unquoted(literal: str) -> str:
    """The lexeme :func:`_quote` wrote as ``literal`` (without its quotes)."""
    return _ESCAPED.sub(lambda m: m.group(1) or "'", literal)


_ESCAPED = re.compile(r"\\(.)|''")


@lru_cache(maxsize=8)
def _numbered(label: str) -> list[str]:
    """``"{position}{label} '"`` for every position: what follows each token in a literal."""
    return [f"{position}{label} '" for position in range(MAX_POSITION + 1)]


def tsvector_literal(fields: list[list[tuple[str, str]]], markers: list[str] | tuple = ()) -> str:
    """A tsvector in PostgreSQL's literal form, positions and weights set by us, and the
    ``markers`` (:func:`markers`) as lexemes without positions.

    ``fields``: each a list of sections (space-joined tokens, weight label), the sections
    of a field at consecutive positions, :data:`_FIELD_GAP` positions between fields.
    Each token is written with its own position (``'จิต':12C``): PostgreSQL merges the
    positions of a lexeme, keeps the first 256 and reads a position past 16,383 as 16,383,
    in C. The text is joined from cached pieces: formatting each token in Python cost more
    than the letter's analysis."""
    parts = []
    position = 1
    for sections in fields:
        for joined_tokens, label in sections:
            tokens = joined_tokens.split()
            if not tokens:
                continue
            if _NEEDS_QUOTING.search(joined_tokens):
                tokens = [_quote(token)[1:-1] for token in tokens]
            end = position + len(tokens)
            numbered = _numbered(label)[position:end]
            if end > MAX_POSITION + 1:
                numbered += [numbered[-1] if numbered else _numbered(label)[-1]] * (
                    len(tokens) - len(numbered)
                )
            # "t1':1C 't2':2C '" -> "'t1':1C 't2':2C"
            parts.append("'" + "".join(map("':".join, zip(tokens, numbered, strict=True)))[:-2])
            position = end
        position += _FIELD_GAP
    parts += [_quote(marker) for marker in markers]
    return " ".join(parts)


def letter_fields(text: dict[str, str]) -> list[list[tuple[str, str]]]:
    """The fields of a letter's tsvector: its pairs, then its syllables, each labelled where
    it lies (subject A; number, people, date, references B; the rest C).

    ``words`` begins with the subject's and then the meta's syllables, and ``pairs`` holds
    every adjacent two of ``words``, so the subject and meta need not be written again: their
    positions in ``words`` and ``pairs`` carry their labels (a letter of 2,100 positions
    was written with 1,200 of them twice)."""
    words, pairs = text.get("words", "").split(), text.get("pairs", "").split()
    subject, meta = text.get("subject", "").split(), text.get("meta", "").split()
    s, m = len(subject), len(meta)
    if words[: s + m] != subject + meta or len(pairs) != max(0, len(words) - 1):
        return [[(text.get(name, ""), _LABELS[name])] for name in _LABELS]  # not laid out so
    return [
        [
            (" ".join(pairs[: max(0, s - 1)]), "A"),
            (" ".join(pairs[max(0, s - 1) : s]), "C"),  # across the subject and the meta
            (" ".join(pairs[s : max(s, s + m - 1)]), "B"),
            (" ".join(pairs[max(s, s + m - 1) :]), "C"),
        ],
        [
            (" ".join(words[:s]), "A"),
            (" ".join(words[s : s + m]), "B"),
            (" ".join(words[s + m :]), "C"),
        ],
    ]


def head_fields(text: dict[str, str]) -> list[list[tuple[str, str]]]:
    return [[(text.get(name, ""), _LABELS[name])] for name in _HEAD_FIELDS]


def markers(doc: Prepared) -> list[str]:
    """Lexemes that put a letter's month, filters and sample membership in the GIN index
    (see the module docstring): ``#m2024``, ``#m202410`` and ``#m20241005`` (its year, month
    and day, CE), ``#f2025`` (its fiscal year, named by the CE year it ends in),
    ``#k=memo``, ``#n=นค
    0019.3``, ``#r=ด่วน``, ``#d=sent``, ``#s`` for one letter in :data:`SAMPLE_EVERY` and
    ``#t`` for one in :data:`COARSE_EVERY`.
    No token of ours starts with ``#`` (the analyzer drops it)."""
    found = []
    if doc.day:
        year, month = divmod(doc.day // 100, 100)
        found = [f"{_MONTH}{n}" for n in (year, doc.day // 100, doc.day)]
        found.append(f"{_FISCAL}{year + (month >= 10)}")
    if doc.id % SAMPLE_EVERY == 0:
        found.append(_SAMPLE)
    if doc.id % COARSE_EVERY == 0:
        found.append(_COARSE)
    for name, prefix in _FILTER_PREFIX.items():
        value = getattr(doc, name)
        if value:
            found.append(prefix + value)
    return found


def twins(doc: Prepared, marked: list[str]) -> list[str]:
    """The twins of the letter's lexemes (its tokens and ``marked``), one set for each sample
    it is in: see :data:`_TWINNED_AT_MOST`."""
    samples = [m for m in marked if m in (_SAMPLE, _COARSE)]
    if not samples:
        return []
    lexemes = dict.fromkeys(t for name in _LABELS for t in doc.text.get(name, "").split())
    lexemes.update(dict.fromkeys(m for m in marked if m not in samples))
    kept = list(lexemes)[:_TWINNED_AT_MOST]
    return [f"{sample}:{lexeme}" for sample in samples for lexeme in kept]


def _in_sample(match_q: str, sample: str) -> str:
    """``match_q`` asked of the twins of one sample's letters: each lexeme behind the marker."""
    return _LEXEME.sub(lambda m: _quote(f"{sample}:{_unquoted(m.group(1))}"), match_q)


_LEXEME = re.compile(r"'((?:[^']|'')*)'")  # a lexeme of a tsquery literal (see _quote)


def render(doc: Prepared) -> None:
    """The letter's tsvector literals, made where it is analyzed (a worker process in a
    rebuild), not in the process that writes."""
    extra = markers(doc)
    doc.rendered = {
        "tsv": tsvector_literal(letter_fields(doc.text), extra + twins(doc, extra)),
        "head": tsvector_literal(head_fields(doc.text), extra),
    }


def _phrase(tokens: tuple[tuple[int, str], ...], labels: str) -> str:
    suffix = f":{labels}" if labels and len(labels) < 4 else ""
    text_parts = [f"{_quote(tokens[0][1])}{suffix}"]
    for (before, _), (offset, token) in zip(tokens, tokens[1:], strict=False):
        distance = offset - before
        operator = "<->" if distance == 1 else f"<{distance}>"
        text_parts.append(f"{operator} {_quote(token)}{suffix}")
    joined = " ".join(text_parts)
    return f"({joined})" if len(tokens) > 1 else joined


def tsquery_literal(node: Any, *, positions: bool = True) -> str | None:
    """The text part of a query tree as a tsquery literal (None: no text in it).

    ``positions=False``: every phrase is only its terms, anywhere in the letter, and no
    weight is asked for. The GIN index answers such a query by itself, without reading a
    letter's ``tsvector`` (phrases and weights make PostgreSQL recheck every match).
    """
    if isinstance(node, _query.Phrase):
        tokens = node.tokens
        if not positions and len(tokens) > 1:
            return "(" + " & ".join(_quote(t) for _o, t in tokens) + ")"
        if not positions:
            return _quote(tokens[0][1])
        if not node.exact and len(tokens) > 1:
            label = "" if node.field in _UNRESTRICTED else f":{_LABELS[node.field]}"
            return "(" + " & ".join(f"{_quote(t)}{label}" for _o, t in tokens) + ")"
        if node.field.endswith("pairs") and tokens[-1][0] - tokens[0][0] == len(tokens) - 1:
            tokens = _query.sparse(tokens)
        return _phrase(tokens, "" if node.field in _UNRESTRICTED else _LABELS[node.field])
    if isinstance(node, _query.Boost):
        return tsquery_literal(node.item, positions=positions)
    if isinstance(node, _query.Ranked):
        return tsquery_literal(node.must, positions=positions)
    if isinstance(node, _query.Quorum):
        return tsquery_literal(node.combinations(), positions=positions)
    if isinstance(node, _query.Items):
        # One phrase in every field is the phrase with no weight restriction.
        by_tokens: dict[tuple, set[str]] = {}
        others: list[str] = []
        for item in node.items:
            inner = item.item if isinstance(item, _query.Boost) else item
            if positions and isinstance(inner, _query.Phrase) and not isinstance(node, _query.All):
                label = "ABCD" if inner.field in _UNRESTRICTED else _LABELS[inner.field]
                by_tokens.setdefault(inner.tokens, set()).update(label)
            else:
                compiled = tsquery_literal(item, positions=positions)
                if compiled:
                    others.append(compiled)
        for tokens, labels in by_tokens.items():
            others.append(_phrase(tokens, "".join(sorted(labels))))
        if not others:
            return None
        operator = " & " if isinstance(node, _query.All) else " | "
        return others[0] if len(others) == 1 else "(" + operator.join(others) + ")"
    return None


def _engine_url(url: str | None) -> str:
    if not url:
        raise BadRequest(
            "SARABAN_DATABASE_URL: ระบบค้นหาแบบ postgres ต้องใช้ฐานข้อมูล PostgreSQL / the "
            "postgres search backend needs a PostgreSQL SARABAN_DATABASE_URL"
        )
    parsed = make_url(url)
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise BadRequest(
            f"SARABAN_DATABASE_URL: {parsed.drivername!r} ไม่ใช่ PostgreSQL / the postgres "
            f"search backend needs a PostgreSQL database, not {parsed.drivername!r}"
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class PostgresIndex(BaseIndex):
    backend = "postgres"
    render = staticmethod(render)
    # Other processes (other machines) write the same tables: the web service looks at the
    # archive's queue before every search (service/_searching.py), not every few seconds.
    shared = True
    exact_up_to = EXACT_UP_TO  # a test sets these lower to count a few letters by sample
    fine_sample_up_to = FINE_SAMPLE_UP_TO

    def __init__(self, home: Path, url: str | None, *, engine: str | None = None) -> None:
        super().__init__(home, engine)
        self._db: Engine = create_engine(
            _engine_url(url), pool_pre_ping=True, pool_size=2, max_overflow=4
        )
        self._setup()

    def close(self) -> None:
        self._db.dispose()

    def _sentinel_wanted(self) -> dict[str, Any]:
        return super()._sentinel_wanted() | {"layout": LAYOUT}

    def _setup(self) -> None:
        wanted = self._sentinel_wanted()
        with self._db.begin() as db:
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})
            db.execute(
                text(f"CREATE TABLE IF NOT EXISTS {_META} (key text PRIMARY KEY, value jsonb)")
            )
            found = db.execute(text(f"SELECT value FROM {_META} WHERE key = 'sentinel'")).scalar()
            sentinel = found if isinstance(found, dict) else json.loads(found) if found else None
            if sentinel is None or any(sentinel.get(k) != v for k, v in wanted.items()):
                db.execute(text(f"DROP TABLE IF EXISTS {_TABLE}"))
                db.execute(
                    text(
                        f"""CREATE TABLE {_TABLE} (
                            id bigint NOT NULL,
                            tsv tsvector COMPRESSION lz4 NOT NULL,
                            head tsvector COMPRESSION lz4 NOT NULL,
                            ref text[] NOT NULL,
                            cited text[] NOT NULL,
                            dates text[] NOT NULL,
                            day integer NOT NULL,
                            year integer NOT NULL,
                            secrecy smallint NOT NULL,
                            kind text, unit text, urgency text, direction text, status text,
                            data jsonb COMPRESSION lz4 NOT NULL,
                            PRIMARY KEY (id, secrecy)) PARTITION BY LIST (secrecy)"""
                    )
                )
                for tier in TIERS:
                    db.execute(
                        text(
                            f"CREATE TABLE {_TABLE}_{tier} PARTITION OF {_TABLE} "
                            f"FOR VALUES IN ({tier})"
                        )
                    )
                for statement in _INDEXES:
                    db.execute(text(statement))
                sentinel = wanted | {"built": False}
                self._save_sentinel(db, sentinel)
            self.needs_rebuild = not sentinel.get("built")

    @staticmethod
    def _save_sentinel(db: Any, sentinel: dict[str, Any]) -> None:
        db.execute(
            text(
                f"INSERT INTO {_META} (key, value) VALUES ('sentinel', CAST(:v AS jsonb)) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"v": json.dumps(sentinel)},
        )

    def mark_built(self) -> None:
        with self._db.begin() as db:
            self._save_sentinel(db, self._sentinel_wanted() | {"built": True})
        super().mark_built()

    # ---- writing ------------------------------------------------------------------------------

    def _row(self, doc: Prepared) -> tuple[Any, ...]:
        """The letter's row, in the order of :data:`_COLUMNS`."""
        if not doc.rendered:
            render(doc)
        return (
            doc.id,
            doc.rendered["tsv"],
            doc.rendered["head"],
            doc.ref,
            doc.cited,
            doc.dates,
            doc.day,
            doc.year,
            doc.secrecy,
            doc.kind or None,
            doc.unit or None,
            doc.urgency or None,
            doc.direction or None,
            doc.status or None,
            doc.stored_json,
        )

    def _write(self, docs: list[Prepared], delete_ids: list[int]) -> None:
        """Each letter into the partition of its secrecy; a letter whose secrecy was
        corrected leaves the other (the primary key holds the secrecy)."""
        with self._db.begin() as db:
            gone = delete_ids + [doc.id for doc in docs]
            if gone:
                db.execute(text(f"DELETE FROM {_TABLE} WHERE id = ANY(:ids)"), {"ids": gone})
            if docs:
                values = ", ".join(
                    f"CAST(:{name} AS {kind})" if kind else f":{name}" for name, kind in _COLUMNS
                )
                names = [name for name, _kind in _COLUMNS]
                updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
                db.execute(
                    text(
                        f"INSERT INTO {_TABLE} ({', '.join(names)}) VALUES ({values}) "
                        f"ON CONFLICT (id, secrecy) DO UPDATE SET {updates}"
                    ),
                    [dict(zip(names, self._row(doc), strict=True)) for doc in docs],
                )

    @contextmanager
    def bulk(self) -> Iterator[Callable[[list[Prepared]], None]]:
        """A rebuild into an empty table is copied in (``COPY``), its GIN indexes dropped
        before the first batch and built once at the end: many times faster than inserting
        row by row into the indexes. Into a table that holds letters (searches keep working
        during a rebuild), batches are written as usual. One rebuild at a time, across
        processes and machines (an advisory lock): two processes that start on a new
        database both rebuild, and the second then writes over the first's letters."""
        raw = self._db.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT pg_advisory_lock(%s)", (_BULK_LOCK,))
            try:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_TABLE})")
                held = bool((cursor.fetchone() or (False,))[0])
                raw.commit()
                if held:
                    with super().bulk() as add_batch:
                        yield add_batch
                    return
                with self._copying(raw, cursor) as add_batch:
                    yield add_batch
            finally:
                raw.rollback()  # a failed COPY leaves its transaction aborted
                cursor.execute("SELECT pg_advisory_unlock(%s)", (_BULK_LOCK,))
                raw.commit()
        finally:
            raw.close()

    @contextmanager
    def _copying(self, raw: Any, cursor: Any) -> Iterator[Callable[[list[Prepared]], None]]:
        columns = ", ".join(n for n, _k in _COLUMNS)
        dropped = False

        def add(docs: list[Prepared]) -> None:
            nonlocal dropped
            if not docs:
                return
            if not dropped:
                for name in _INDEX_NAMES:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")
                raw.commit()
                dropped = True
            with cursor.copy(f"COPY {_TABLE} ({columns}) FROM STDIN") as copy:
                for doc in docs:
                    copy.write_row(self._row(doc))
            raw.commit()

        try:
            yield add
        finally:
            if dropped:  # rebuilt even when the rebuild failed: searches need them
                raw.rollback()
                cursor.execute("SET maintenance_work_mem = '512MB'")
                for statement in _INDEXES:
                    cursor.execute(statement)
                cursor.execute(f"ANALYZE {_TABLE}")
                raw.commit()

    def clear(self) -> None:
        with self._db.begin() as db:
            db.execute(text(f"DELETE FROM {_TABLE}"))

    # ---- reading ------------------------------------------------------------------------------

    def count(self) -> int:
        with self._db.connect() as db:
            return int(db.execute(text(f"SELECT count(*) FROM {_TABLE}")).scalar() or 0)

    def ids(self) -> set[int]:
        with self._db.connect() as db:
            return set(db.execute(text(f"SELECT id FROM {_TABLE}")).scalars())

    def _condition(self, node: Any, params: dict[str, Any]) -> str:
        """SQL for what must match: keys (numbers, dates) in their arrays, text in the
        tsvector (its terms only: see :meth:`_run`)."""
        keys = _keys(node)
        if keys is not None:
            return _key_condition(keys, params)
        held = _key_parts(node, params)
        if held is not None:
            rest = tuple(item for item in node.items if _keys(item) is None)
            if rest:
                held += " AND " + self._condition(_query.All(rest), params)
            return f"({held})"
        literal = tsquery_literal(node, positions=False)
        if literal is None:
            return "true"
        params["must_q"] = literal
        return "tsv @@ CAST(:must_q AS tsquery)"

    def _run(self, request: Request) -> Page:
        """Match with the GIN index alone, count (or estimate) the matches, rank a few.

        A letter matches when it holds every term of the query (each pair of a phrase,
        anywhere) and the markers of the filters: the index answers that without reading a
        letter. Asking it for the phrase itself would make PostgreSQL read and check the
        whole ``tsvector`` of every match, seconds for tens of thousands of letters. Order
        is what the ranking then checks: ``ts_rank`` with the phrases, over the candidates
        only, puts the letters that hold a phrase as typed above those that hold its pairs
        apart.

        Counting: the samples are counted first, by level, year, unit and month: the
        letters marked ``#t`` (one in :data:`COARSE_EVERY`), then, in a level where those
        say the fine sample holds at most :attr:`fine_sample_up_to` matches, the letters
        marked ``#s`` (one in :data:`SAMPLE_EVERY`). A level where the sample says at most
        :attr:`exact_up_to` letters match is counted exactly, the newest matches taken in
        the same pass; in a level with more, the total and facets are the sample's times its
        rate (the result says ``estimated``), and the newest matches are read month by month
        from the newest, only as far back as the samples say they reach. Candidates for
        relevance: those newest, the newest :data:`_RERANK` whose subject, number or people
        match (the ``head`` vector, its own GIN index; within the same months), in a widened
        query the newest that match strictly, and every letter a reference number finds.
        """
        must, should, filters = request.must, request.should, request.filters
        params: dict[str, Any] = {}
        rest = ""  # the filters, checked on the rows (the markers narrow them in the index)
        spans = _span_markers(*filters.days) if filters.days else None
        if filters.days:
            # A range the markers hold is checked on the rows the GIN index found ("day + 0"):
            # the planner ANDed the day index's entries (a year's 90,000) into the bitmap.
            day = "day + 0" if spans else "day"
            rest += f" AND {day} BETWEEN :day_from AND :day_to"
            params["day_from"], params["day_to"] = filters.days
        for name, value in filters.keywords.items():
            rest += f" AND {name} = :{name}"  # a column of ours, never typed
            params[name] = value
        marked = _filter_markers(filters, spans)
        need = max(_RERANK, request.offset + request.limit)
        text_q = _text_only(must)
        with self._db.connect() as db:
            # Bitmap scans only: the planner prices ``@@`` as cheap and may walk the day
            # index or the table reading each row's tsvector, where a bitmap reads none.
            db.execute(text("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off"))
            if must is None or text_q is not None:
                terms = ([f"({text_q})"] if text_q else []) + marked
                params["match_q"] = " & ".join(terms) if terms else None
                counted = self._sampled(db, filters.tiers, rest, params, need)
            else:  # numbers or dates: few letters, counted exactly
                condition = f"{_levels(filters.tiers)}{rest} AND {self._condition(must, params)}"
                counted = self._exact(db, condition, params, need) + (None, False)
            total, facets, newest, window, estimated = counted
            if not total or not request.limit:
                return Page(total, [], facets, estimated)
            if request.sort == "date":
                page = newest[request.offset : request.offset + request.limit]
                by_id: dict[int, Any] = dict(
                    db.execute(
                        text(
                            f"SELECT id, data FROM {_TABLE} "
                            f"WHERE {_levels(filters.tiers)} AND id = ANY(:page)"
                        ),
                        {"page": page},
                    ).all()
                )
                rows = [(0.0, _stored(by_id[i])) for i in page]
            else:
                params |= {"limit": request.limit, "offset": request.offset, "need": need}
                params["newest"] = newest
                where = (window, marked)
                chosen, ranked = self._ranked_sql(must, should, filters.tiers, rest, where, params)
                # The candidates' ids first, then their rows by the primary key (a join
                # would read the whole partition: the planner may use no plain index scan).
                if _keys(must) is not None and total <= need:
                    params["chosen"] = newest  # a number's letters: every one of them
                else:
                    params["chosen"] = list(db.execute(text(chosen), params).scalars())
                rows = [(float(r.score), _stored(r.data)) for r in db.execute(text(ranked), params)]
        return Page(total, rows, facets, estimated)

    def _exact(
        self, db: Any, condition: str, params: dict[str, Any], need: int
    ) -> tuple[int, dict[str, dict[str, int]], list[int]]:
        """One pass over the matches: the total, the facets and the newest ``need`` ids."""
        found = db.execute(
            text(
                f"""WITH matches AS MATERIALIZED (
                        SELECT id, day, year, unit FROM {_TABLE} WHERE {condition})
                    SELECT GROUPING(year) AS by_unit, GROUPING(unit) AS by_year, year,
                           unit, count(*) AS n, NULL::bigint AS id
                    FROM matches GROUP BY GROUPING SETS ((year), (unit), ())
                    UNION ALL (SELECT 1, 1, NULL, NULL, NULL, id FROM matches
                               ORDER BY day DESC, id DESC LIMIT :need)"""
            ),
            params | {"need": need},
        ).all()
        total = next((int(r.n) for r in found if r.n is not None and r.by_unit and r.by_year), 0)
        facets: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
        for row in found:
            if row.by_year and not row.by_unit and row.year:
                facets["year"][str(row.year)] = int(row.n)
            elif row.by_unit and not row.by_year and row.unit:
                facets["unit"][row.unit] = int(row.n)
        return total, facets, [r.id for r in found if r.id is not None]

    def _sample(
        self, db: Any, tiers: tuple[int, ...], rest: str, params: dict[str, Any], marker: str
    ) -> list[Any]:
        """The matches among the letters marked ``marker``, counted by level and year, level
        and unit, level and month."""
        match_q = params["match_q"]
        sample_q = _in_sample(match_q, marker) if match_q else f"'{marker}'"
        return db.execute(
            text(
                f"""SELECT secrecy, GROUPING(year) AS not_year, GROUPING(unit) AS not_unit,
                           year, unit, day / 100 AS month, count(*) AS n
                    FROM {_TABLE}
                    WHERE {_levels(tiers)}{rest} AND tsv @@ CAST(:sample_q AS tsquery)
                    GROUP BY GROUPING SETS ((secrecy, year), (secrecy, unit),
                                            (secrecy, day / 100))"""
            ),
            params | {"sample_q": sample_q},
        ).all()

    def _sampled(
        self, db: Any, tiers: tuple[int, ...], rest: str, params: dict[str, Any], need: int
    ) -> tuple[int, dict[str, dict[str, int]], list[int], list[str] | None, bool]:
        """Text, or nothing but filters (``params["match_q"]``): the samples first, then
        each level counted exactly or estimated from them (see :meth:`_run`). Returns the
        total, the facets, the newest ``need`` ids, the months they were looked for in
        (None: all) and whether the counts are estimates. What is done for a level depends
        only on that level's letters."""
        match_q = params["match_q"]
        coarse = self._sample(db, tiers, rest, params, _COARSE)
        counted: dict[int, int] = {}
        for row in coarse:
            if not row.not_year:
                counted[row.secrecy] = counted.get(row.secrecy, 0) + int(row.n)
        fine = tuple(
            t
            for t in tiers
            if counted.get(t, 0) * COARSE_EVERY <= self.fine_sample_up_to * SAMPLE_EVERY
        )
        rows = [row for row in coarse if row.secrecy not in fine]
        if fine:
            rows += self._sample(db, fine, rest, params, _SAMPLE)
        rate = {t: SAMPLE_EVERY if t in fine else COARSE_EVERY for t in tiers}
        sampled: dict[int, int] = {}
        months: dict[int, int] = {}  # matches a month holds, as the samples say
        for row in rows:
            if not row.not_year:
                sampled[row.secrecy] = sampled.get(row.secrecy, 0) + int(row.n)
            elif row.not_unit and row.month:
                found = months.get(int(row.month), 0)
                months[int(row.month)] = found + int(row.n) * rate[row.secrecy]
        over = tuple(t for t in tiers if sampled.get(t, 0) * rate[t] > self.exact_up_to)
        exact = tuple(t for t in tiers if t not in over)
        days = (params["day_from"], params["day_to"]) if "day_from" in params else None
        window = self._window(db, tiers, months, need, days)  # where the newest matches are
        matched = " AND tsv @@ CAST(:match_q AS tsquery)" if match_q else ""
        if not over:
            counted_exactly = self._exact(db, f"{_levels(exact)}{rest}{matched}", params, need)
            return counted_exactly + (window, False)
        total = 0
        newest_exact: list[int] = []
        facets: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
        if exact:
            counted_exactly = self._exact(db, f"{_levels(exact)}{rest}{matched}", params, need)
            total, facets, newest_exact = counted_exactly
        for row in rows:
            if row.secrecy not in over:
                continue
            n = int(row.n) * rate[row.secrecy]
            if not row.not_year:
                total += n
                if row.year:
                    facets["year"][str(row.year)] = facets["year"].get(str(row.year), 0) + n
            elif not row.not_unit and row.unit:
                facets["unit"][row.unit] = facets["unit"].get(row.unit, 0) + n
        walk = self._walk(db, over, params, need, sum(sampled.get(t, 0) * rate[t] for t in over))
        walked = self._walked(db, over, rest, params, need, walk)
        if walked is not None:
            newest = walked
        else:
            newest = self._newest(db, over, rest, window, params, need)
        if walked is None and window is not None and len(newest) < need:
            window = None  # the months held fewer than the samples said: read every month
            newest = self._newest(db, over, rest, None, params, need)
        if newest_exact:
            found = db.execute(
                text(f"SELECT day, id FROM {_TABLE} WHERE {_levels(exact)} AND id = ANY(:ids)"),
                {"ids": newest_exact},
            ).all()
            newest = sorted([*newest, *((r.day, r.id) for r in found)], reverse=True)[:need]
        return total, facets, [i for _day, i in newest], window, True

    def _window(
        self,
        db: Any,
        tiers: tuple[int, ...],
        months: dict[int, int],
        need: int,
        days: tuple[int, int] | None,
    ) -> list[str] | None:
        """The time markers (days or months, newest first) in which to look for the newest
        ``need`` matches: from the newest letter of ``tiers`` (within ``days``, the date
        filter's first and last day) back until they hold twice ``need`` matches as the
        samples say (``months``: the matches a month holds). The
        window's matches are read from the table, so days are used where a month holds far
        more matches than needed. None (read every match) when the matches are few, or so
        sparse that the window would cost more than they do."""
        expected_all = sum(months.values())
        if expected_all < 2 * need:
            return None
        db.execute(text("SET LOCAL enable_indexscan = on"))  # the last entry of the day index
        last = db.execute(text(f"SELECT max(day) FROM {_TABLE} WHERE {_levels(tiers)}")).scalar()
        db.execute(text("SET LOCAL enable_indexscan = off"))
        if days and last:
            # From the filter's last day: walking back from the archive's newest letter, a
            # past year's window ran out of markers before reaching it, and every match of
            # the year was read and sorted (21,000 rows, 80 ms at a million letters).
            last = min(int(last), days[1])
            letters = self._letters_between(db, tiers, days)
        else:
            letters = self._letters(db, tiers)
        if not last or letters <= 0:
            return None
        density = expected_all / letters
        if 2 * need / density > expected_all / 2:
            return None  # reading the window's letters would cost more than the matches
        day = dt.date(int(last) // 10000, int(last) // 100 % 100, int(last) % 100)
        by_day = months.get(int(last) // 100, 0) >= 8 * need
        window: list[str] = []
        expected = 0.0
        while expected < 2 * need:
            if len(window) >= _WINDOW_MARKERS or day.year < 1900:
                return None
            month = day.year * 100 + day.month
            if by_day:
                window.append(f"{_MONTH}{month * 100 + day.day}")
                expected += months.get(month, 0) / calendar.monthrange(day.year, day.month)[1]
                day -= dt.timedelta(days=1)
            else:
                window.append(f"{_MONTH}{month}")
                expected += months.get(month, 0)
                day = day.replace(day=1) - dt.timedelta(days=1)
        return window

    def _walk(
        self, db: Any, tiers: tuple[int, ...], params: dict[str, Any], need: int, matches: int
    ) -> int:
        """How many of the newest letters of ``tiers`` to read one by one for the newest
        ``need`` matches (:meth:`_walked`); 0 unless the samples say that most letters
        match (``matches`` of them). A GIN query of words in most letters reads their
        posting lists nearly whole (about 15 ms at a million letters, once more for every
        query), where a few hundred letters checked one by one cost a few."""
        letters = self._letters(db, tiers)
        if letters <= 0 or not params.get("match_q") or matches < _DENSE * letters:
            return 0
        return min(_WALKED_AT_MOST, int(2 * need * letters / matches) + 1)

    def _walked(
        self,
        db: Any,
        tiers: tuple[int, ...],
        rest: str,
        params: dict[str, Any],
        need: int,
        walk: int,
    ) -> list[tuple[int, int]] | None:
        """(day, id) of the newest ``need`` matches of ``tiers``, looked for among the
        newest ``walk`` letters (the day index), each checked. None when those hold fewer
        (the matches are elsewhere in time)."""
        if not walk:
            return None
        db.execute(text("SET LOCAL enable_indexscan = on; SET LOCAL enable_bitmapscan = off"))
        found = db.execute(
            text(
                f"""SELECT day, id FROM (
                        SELECT day, id, tsv FROM {_TABLE} WHERE {_levels(tiers)}{rest}
                        ORDER BY day DESC, id DESC LIMIT :walk) AS newest
                    WHERE tsv @@ CAST(:match_q AS tsquery)
                    ORDER BY day DESC, id DESC LIMIT :need"""
            ),
            params | {"walk": walk, "need": need},
        ).all()
        db.execute(text("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = on"))
        return [(r.day, r.id) for r in found] if len(found) >= need else None

    @staticmethod
    def _letters_between(db: Any, tiers: tuple[int, ...], days: tuple[int, int]) -> float:
        """How many letters of ``tiers`` are dated within ``days``, as the planner estimates
        from its statistics (counting them read the day index: 8 ms for a year of a
        million letters)."""
        plan = db.execute(
            text(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {_TABLE} "
                f"WHERE {_levels(tiers)} AND day BETWEEN :first AND :last"
            ),
            {"first": days[0], "last": days[1]},
        ).scalar()
        return float(plan[0]["Plan"]["Plan Rows"])  # a json column: read by psycopg

    @staticmethod
    def _letters(db: Any, tiers: tuple[int, ...]) -> float:
        """How many letters the levels ``tiers`` hold, as the planner's statistics say."""
        names = [f"{_TABLE}_{tier}" for tier in tiers]
        found = db.execute(
            text("SELECT sum(reltuples) FROM pg_class WHERE relname = ANY(:names)"),
            {"names": names},
        ).scalar()
        return float(found or 0)

    def _newest(
        self,
        db: Any,
        tiers: tuple[int, ...],
        rest: str,
        window: list[str] | None,
        params: dict[str, Any],
        need: int,
    ) -> list[tuple[int, int]]:
        """(day, id) of the newest ``need`` matches of ``tiers``."""
        sql = _newest_sql("tsv", "match_q", tiers, rest, window, params)
        return [(r.day, r.id) for r in db.execute(text(sql), params | {"need": need})]

    def _ranked_sql(
        self,
        must: object | None,
        should: list[object],
        tiers: tuple[int, ...],
        rest: str,
        where: tuple[list[str] | None, list[str]],
        params: dict[str, Any],
    ) -> tuple[str, str]:
        """SQL for the ids of the candidates (see :meth:`_run`) and for a page of them by
        relevance. ``where``: the window the newest matches were looked for in (the head's
        are looked for there too), and the filters' markers. The candidates are scored by
        the reference number, the date, the strict query, and ``ts_rank`` of the head and
        the letter.
        The head is part of the letter's ``tsv``, and the strict query holds every term of
        the wider one, so a letter that matches either matches the query (asking ``tsv``
        again would read it)."""
        window, marked = where
        filtered = f"{_levels(tiers)}{rest}"
        # The candidates were all found under the filters: ranking them checks none again
        # (a date range's check ANDed the day index's entries into the bitmap, 8 ms a year).
        candidates_of = _levels(tiers)
        candidates = ["SELECT unnest(CAST(:newest AS bigint[]))"]
        keys = _keys(must)
        score = ["0"]
        # Candidates found by their text hold the keys too (a date typed with words).
        held = _key_parts(must, params)
        if held is not None:
            filtered = f"{filtered} AND {held}"
            candidates_of = f"{candidates_of} AND {held}"
        if keys is not None:
            condition = f"{filtered} AND {self._condition(must, params)}"
            candidates = [f"SELECT id FROM {_TABLE} WHERE {condition}"]  # few: rank them all
            if any(k.field == "ref" for k in keys):
                exact = [k.value for k in keys if k.field == "ref" and k.score >= 1000]
                loose = [k.value for k in keys if k.field == "ref" and k.score < 1000]
                params["rank_exact"], params["rank_loose"] = exact, loose
                score.append(
                    "(CASE WHEN ref && CAST(:rank_exact AS text[]) THEN 1000 "
                    "WHEN ref && CAST(:rank_loose AS text[]) THEN 500 ELSE 40 END)"
                )
        elif must is not None and (head_q := tsquery_literal(must, positions=False)):
            # The filters' markers too (the head holds them): without them the rows of a
            # filter were read one by one for their head (a fiscal year's, 600 ms).
            params["head_q"] = " & ".join([f"({head_q})", *marked])
            head = _newest_sql("head", "head_q", tiers, rest, window, params)
            candidates.append(f"SELECT id FROM ({head}) AS head")
        days = [
            n.item.day
            for n in should
            if isinstance(n, _query.Const) and isinstance(n.item, _query.DateIs)
        ]
        if days:
            params["rank_days"] = days
            score.append("(CASE WHEN day = ANY(:rank_days) THEN 20 ELSE 0 END)")
        strict = [
            n.item for n in should if isinstance(n, _query.Const) and n.score == _query.STRICT_BONUS
        ]
        if strict and (strict_q := tsquery_literal(strict[0])):
            # A widened query: letters the exact query finds come first (they are few: the
            # query was widened because the exact one found fewer than ten).
            params["strict_q"] = strict_q
            strict_terms = tsquery_literal(strict[0], positions=False)
            params["strict_terms"] = " & ".join([f"({strict_terms})", *marked])
            candidates.append(
                f"SELECT id FROM {_TABLE} WHERE {filtered} "
                "AND tsv @@ CAST(:strict_terms AS tsquery) ORDER BY day DESC, id DESC "
                "LIMIT :need"
            )
            score.append(
                f"(CASE WHEN tsv @@ CAST(:strict_q AS tsquery) THEN {_query.STRICT_BONUS} "
                "ELSE 0 END)"
            )
        # Ranking: the text of the whole query (must and should).
        rank_q = tsquery_literal(_query.Any(tuple([must, *should]) if must else tuple(should)))
        if rank_q:
            params["rank_q"] = rank_q
            # Normalisation 1 for the letter: divided by 1 + log(length), so that long
            # letters do not saturate.
            score.append("ts_rank(head, CAST(:rank_q AS tsquery)) * 10")
            score.append("ts_rank(tsv, CAST(:rank_q AS tsquery), 1) * 10")
        chosen = " UNION ".join(f"({c})" for c in candidates)
        ranked = f"""SELECT {" + ".join(score)} AS score, data FROM {_TABLE}
                     WHERE {candidates_of} AND id = ANY(:chosen)
                     ORDER BY score DESC, day DESC, id DESC LIMIT :limit OFFSET :offset"""
        return chosen, ranked


def _newest_sql(
    column: str,
    query: str,
    tiers: tuple[int, ...],
    rest: str,
    window: list[str] | None,
    params: dict[str, Any],
) -> str:
    """SQL for (day, id) of the newest ``:need`` letters of ``tiers`` whose ``column``
    matches ``params[query]`` (None: every letter), the filters ``rest`` checked on the
    rows. With a ``window`` of time markers, any of them: one more term the GIN index
    intersects, so the rows read are the window's matches only. One query for the whole
    window: the index reads the posting lists of the query's words once (one query a
    marker read them once a marker, about 15 ms each for a topic in most of a million
    letters)."""
    terms = [f"({params[query]})"] if params.get(query) else []
    if window:
        terms.append("(" + " | ".join(f"'{marker}'" for marker in window) + ")")
    matched = ""
    if terms:
        params[f"{query}_window"] = " & ".join(terms)
        matched = f" AND {column} @@ CAST(:{query}_window AS tsquery)"
    return (
        f"SELECT day, id FROM {_TABLE} WHERE {_levels(tiers)}{rest}{matched} "
        "ORDER BY day DESC, id DESC LIMIT :need"
    )


def _filter_markers(filters: Filters, spans: list[str] | None) -> list[str]:
    """The filters as terms of the GIN query (:func:`markers`): each value's marker, and the
    time markers of the date range (``spans``, :func:`_span_markers`). The rows are checked
    as well (a range's first and last month may hold days outside it)."""
    found = [
        _quote(prefix + value)
        for name, value in filters.keywords.items()
        if (prefix := _FILTER_PREFIX.get(name))
    ]
    if spans:
        found.append("(" + " | ".join(f"'{span}'" for span in spans) + ")")
    return found


def _span_markers(first_day: int, last_day: int) -> list[str] | None:
    """The markers of the months from ``first_day``'s to ``last_day``'s (yyyymmdd), a whole
    fiscal or calendar year as its one marker (against its twelve months OR-ed, a filtered
    search at a million letters took 15 ms less, the median of paired runs); None past
    :data:`_MONTHS_MARKED` markers."""
    month, last = max(first_day // 100, 101), last_day // 100
    found: list[str] = []
    while month <= last:
        if len(found) == _MONTHS_MARKED:
            return None
        year, of_year = divmod(month, 100)
        if of_year == 10 and (year + 1) * 100 + 9 <= last:
            found.append(f"{_FISCAL}{year + 1}")
            month = (year + 1) * 100 + 10
        elif of_year == 1 and year * 100 + 12 <= last:
            found.append(f"{_MONTH}{year}")
            month = (year + 1) * 100 + 1
        else:
            found.append(f"{_MONTH}{month}")
            month = month + 1 if of_year < 12 else (year + 1) * 100 + 1
    return found


def _text_only(must: object | None) -> str | None:
    """The query's terms as a tsquery when it is text alone (no numbers or dates as keys)."""
    if must is None or _keys(must) is not None or _key_parts(must, {}) is not None:
        return None
    return tsquery_literal(must, positions=False)


def _levels(tiers: tuple[int, ...]) -> str:
    """The secrecy levels a search reads, as constants (integers of ours, never text a user
    typed), so that PostgreSQL prunes the other partitions when it plans the query."""
    return f"secrecy IN ({', '.join(str(int(tier)) for tier in tiers)})"


def _stored(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else json.loads(data)


def _key_condition(keys: list[_ScoredKey], params: dict[str, Any]) -> str:
    """Letters holding any of the keys, each field's keys in its array."""
    fields: dict[str, list[str]] = {}
    for key in keys:
        fields.setdefault(key.field, []).append(key.value)
    found = []
    for field, values in fields.items():
        name = f"keys_{len(params)}"
        params[name] = values
        found.append(f"{field} && CAST(:{name} AS text[])")  # a field of ours, never typed
    return "(" + " OR ".join(found) + ")"


def _key_parts(node: Any, params: dict[str, Any]) -> str | None:
    """The keys an :class:`_query.All` must hold besides its text (a date typed with
    words), as SQL; None when it holds none."""
    if not isinstance(node, _query.All):
        return None
    parts = [_key_condition(keys, params) for item in node.items if (keys := _keys(item))]
    return " AND ".join(parts) if parts else None


def _keys(node: Any) -> list[Any] | None:
    """The keys of a node of keys (an Any of Const(Key): numbers, dates), with scores."""
    if not isinstance(node, _query.Any) or not node.items:
        return None
    found = []
    for item in node.items:
        if not (isinstance(item, _query.Const) and isinstance(item.item, _query.Key)):
            return None
        found.append(_ScoredKey(item.item.field, item.item.value, item.score))
    return found


class _ScoredKey:
    def __init__(self, field: str, value: str, score: float) -> None:
        self.field, self.value, self.score = field, value, score
