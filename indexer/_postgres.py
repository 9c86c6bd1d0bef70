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
holding every pair of each phrase (see :meth:`PostgresIndex._run`); every match is counted,
and only a few hundred candidates are ranked with ``ts_rank``, phrases and weights included.

The table is partitioned by secrecy (``search_letters_0`` holds the open letters,
``_1`` .. ``_3`` ลับ, ลับมาก, ลับที่สุด, each with its own GIN indexes and planner
statistics), and a search names the levels its user may see as constants, so PostgreSQL
prunes the others when it plans the query: no count, order or timing reads a letter above
the user's clearance. ``ts_rank`` reads only the letter it ranks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from saraban.errors import BadRequest
from saraban.indexer import _query
from saraban.indexer._engine import BaseIndex, Page, Prepared, Request
from saraban.indexer._model import TIERS

MAX_POSITION = 16383
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
_SETUP_LOCK = 0x5A2ABA10
_TABLE = "search_letters"
_META = "search_meta"


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(text_by_field: dict[str, str], fields: tuple[str, ...]) -> str:
    """A tsvector in PostgreSQL's literal form, positions and weights set by us."""
    positions: dict[str, list[str]] = {}
    bare: set[str] = set()
    position = 1
    for name in fields:
        label = _LABELS[name]
        for token in (text_by_field.get(name) or "").split():
            if position <= MAX_POSITION:
                positions.setdefault(token, []).append(f"{position}{label}")
            elif token not in positions:
                bare.add(token)
            position += 1
        position += _FIELD_GAP
    parts = [f"{_quote(t)}:{','.join(p[:256])}" for t, p in positions.items()]
    parts += [_quote(t) for t in bare - positions.keys()]
    return " ".join(parts)


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

    def __init__(self, home: Path, url: str | None, *, engine: str | None = None) -> None:
        super().__init__(home, engine)
        self._db: Engine = create_engine(
            _engine_url(url), pool_pre_ping=True, pool_size=2, max_overflow=4
        )
        self._setup()

    def close(self) -> None:
        self._db.dispose()

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
                            tsv tsvector NOT NULL,
                            head tsvector NOT NULL,
                            ref text[] NOT NULL,
                            cited text[] NOT NULL,
                            dates text[] NOT NULL,
                            day integer NOT NULL,
                            year integer NOT NULL,
                            secrecy smallint NOT NULL,
                            kind text, unit text, urgency text, direction text, status text,
                            data jsonb NOT NULL,
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
                db.execute(text(f"CREATE INDEX {_TABLE}_tsv ON {_TABLE} USING gin (tsv)"))
                db.execute(text(f"CREATE INDEX {_TABLE}_ref ON {_TABLE} USING gin (ref)"))
                db.execute(text(f"CREATE INDEX {_TABLE}_cited ON {_TABLE} USING gin (cited)"))
                db.execute(text(f"CREATE INDEX {_TABLE}_dates ON {_TABLE} USING gin (dates)"))
                db.execute(text(f"CREATE INDEX {_TABLE}_day ON {_TABLE} (day)"))
                sentinel = wanted | {"built": False}
                self._save_sentinel(db, sentinel)
            # Candidates for ranking: letters whose subject, number or people match.
            db.execute(
                text(f"CREATE INDEX IF NOT EXISTS {_TABLE}_head ON {_TABLE} USING gin (head)")
            )
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

    def _row(self, doc: Prepared) -> dict[str, Any]:
        return {
            "id": doc.id,
            "tsv": tsvector_literal(doc.text, tuple(_LABELS)),
            "head": tsvector_literal(doc.text, _HEAD_FIELDS),
            "ref": doc.ref,
            "cited": doc.cited,
            "dates": doc.dates,
            "day": doc.day,
            "year": doc.year,
            "secrecy": doc.secrecy,
            "kind": doc.kind or None,
            "unit": doc.unit or None,
            "urgency": doc.urgency or None,
            "direction": doc.direction or None,
            "status": doc.status or None,
            "data": doc.stored_json,
        }

    def _write(self, docs: list[Prepared], delete_ids: list[int]) -> None:
        """Each letter into the partition of its secrecy; a letter whose secrecy was
        corrected leaves the other (the primary key holds the secrecy)."""
        with self._db.begin() as db:
            gone = delete_ids + [doc.id for doc in docs]
            if gone:
                db.execute(text(f"DELETE FROM {_TABLE} WHERE id = ANY(:ids)"), {"ids": gone})
            if docs:
                db.execute(
                    text(
                        f"""INSERT INTO {_TABLE} (id, tsv, head, ref, cited, dates, day, year,
                                secrecy, kind, unit, urgency, direction, status, data)
                        VALUES (:id, CAST(:tsv AS tsvector), CAST(:head AS tsvector), :ref,
                                :cited, :dates, :day, :year, :secrecy, :kind, :unit, :urgency,
                                :direction, :status, CAST(:data AS jsonb))
                        ON CONFLICT (id, secrecy) DO UPDATE SET tsv = excluded.tsv,
                            head = excluded.head, ref = excluded.ref, cited = excluded.cited,
                            dates = excluded.dates,
                            day = excluded.day, year = excluded.year,
                            kind = excluded.kind,
                            unit = excluded.unit, urgency = excluded.urgency,
                            direction = excluded.direction, status = excluded.status,
                            data = excluded.data"""
                    ),
                    [self._row(doc) for doc in docs],
                )

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
        """Match with the GIN index alone, count and facet every match, rank a few.

        A letter matches when it holds every term of the query (each pair of a phrase,
        anywhere): the index answers that without reading a letter. Asking it for the phrase
        itself would make PostgreSQL read and check the whole ``tsvector`` of every match,
        seconds for tens of thousands of letters. Order is what the ranking then checks:
        ``ts_rank`` with the phrases, over the candidates only, puts the letters that hold a
        phrase as typed above those that hold its pairs apart.

        One pass over the matches gives the total, the facets and the newest of them (the
        page when sorting by date). Candidates for relevance: those newest, the newest
        :data:`_RERANK` whose subject, number or people match (the ``head`` vector, its own
        GIN index), in a widened query the newest that match strictly, and every letter a
        reference number finds.
        """
        must, should, filters = request.must, request.should, request.filters
        params: dict[str, Any] = {}
        where = [_levels(filters.tiers)]
        if filters.days:
            where.append("day BETWEEN :day_from AND :day_to")
            params["day_from"], params["day_to"] = filters.days
        for name, value in filters.keywords.items():
            where.append(f"{name} = :{name}")
            params[name] = value
        filtered = " AND ".join(where)
        if must is not None:
            where.append(self._condition(must, params))
        condition = " AND ".join(where)
        params["rerank"] = max(_RERANK, request.offset + request.limit)
        with self._db.connect() as db:
            # Bitmap scans only: the planner prices ``@@`` as cheap and may walk the day
            # index or the table reading each row's tsvector, where a bitmap reads none.
            db.execute(text("SET LOCAL enable_seqscan = off"))
            db.execute(text("SET LOCAL enable_indexscan = off"))
            found = db.execute(
                text(
                    f"""WITH matches AS MATERIALIZED (
                            SELECT id, day, year, unit FROM {_TABLE} WHERE {condition})
                        SELECT GROUPING(year) AS by_unit, GROUPING(unit) AS by_year, year,
                               unit, count(*) AS n, NULL::bigint AS id
                        FROM matches GROUP BY GROUPING SETS ((year), (unit), ())
                        UNION ALL (SELECT 1, 1, NULL, NULL, NULL, id FROM matches
                                   ORDER BY day DESC, id DESC LIMIT :rerank)"""
                ),
                params,
            ).all()
            total = next(
                (int(r.n) for r in found if r.n is not None and r.by_unit and r.by_year), 0
            )
            facets: dict[str, dict[str, int]] = {"year": {}, "unit": {}}
            for row in found:
                if row.by_year and not row.by_unit and row.year:
                    facets["year"][str(row.year)] = int(row.n)
                elif row.by_unit and not row.by_year and row.unit:
                    facets["unit"][row.unit] = int(row.n)
            params["newest"] = [r.id for r in found if r.id is not None]
            if not total or not request.limit:
                return Page(total, [], facets)
            if request.sort == "date":
                page = params["newest"][request.offset : request.offset + request.limit]
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
                params |= {"limit": request.limit, "offset": request.offset}
                sql = self._ranked_sql(must, should, condition, filtered, params)
                rows = [(float(r.score), _stored(r.data)) for r in db.execute(text(sql), params)]
        return Page(total, rows, facets)

    def _ranked_sql(
        self,
        must: object | None,
        should: list[object],
        condition: str,
        filtered: str,
        params: dict[str, Any],
    ) -> str:
        """A page by relevance: the candidates (see :meth:`_run`) scored by the reference
        number, the date, the strict query, and ``ts_rank`` of the head and the letter.
        ``condition`` is what matches, ``filtered`` its filters alone: the head is part of
        the letter's ``tsv``, and the strict query holds every term of the wider one, so a
        letter that matches either matches the query (asking ``tsv`` again would read it)."""
        candidates = ["SELECT unnest(CAST(:newest AS bigint[]))"]
        keys = _keys(must)
        score = ["0"]
        # Candidates found by their text hold the keys too (a date typed with words).
        held = _key_parts(must, params)
        if held is not None:
            filtered = f"{filtered} AND {held}"
        if keys is not None:
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
            params["head_q"] = head_q
            candidates.append(
                f"SELECT id FROM {_TABLE} WHERE {filtered} AND head @@ CAST(:head_q AS tsquery) "
                "ORDER BY day DESC, id DESC LIMIT :rerank"
            )
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
            # A widened query: letters the exact query finds come first.
            params["strict_q"] = strict_q
            params["strict_terms"] = tsquery_literal(strict[0], positions=False)
            candidates.append(
                f"SELECT id FROM {_TABLE} WHERE {filtered} "
                "AND tsv @@ CAST(:strict_terms AS tsquery) ORDER BY day DESC, id DESC "
                "LIMIT :rerank"
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
        return f"""SELECT {" + ".join(score)} AS score, data FROM {_TABLE}
                   WHERE {filtered} AND id IN ({chosen})
                   ORDER BY score DESC, day DESC, id DESC LIMIT :limit OFFSET :offset"""


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
