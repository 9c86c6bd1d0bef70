"""Search benchmark: a realistic archive recombined from the seed letters, every backend side
by side, and SQLite FTS5 (its default tokenizer on the raw text) as the naive baseline.

    .venv/bin/python benchmarks/search.py [--n 100000] [--backends tantivy,whoosh,postgres,fts5]
        [--whoosh-n 20000] [--queries 100] [--recall-n 5000]

Letters are recombined from the five seeds' own text: a seed subject (sometimes with a
programme name of another seed), 3-8 body paragraphs drawn from all seeds, enclosures text
for a third of them, a random province code and unit (``นค ๐๐๑๙.๓``), serial, date (2015-2025,
BE and fiscal years follow), kind, urgency and signer. Printed per backend: indexing
letters/second (analysis included), index size, and p50/p95 latency of topic, phrase,
reference-number and filtered queries (each query returns its total, 10 hits with snippets and
facets). Whoosh is slow to index: it runs on ``--whoosh-n`` letters (the output says so).

Recall: on the first ``--recall-n`` letters, for each topic query the letters whose text holds
the query (spaces and digits normalised) are counted by scanning, and each engine's total is
compared with it. A space-splitting engine finds a Thai word only where it stands between
spaces, which is why archives that index that way find almost nothing.

Recombined text repeats whole clauses, so the analyzer's cache of segmented runs is kinder
than on a real archive: the "cold" rate is with the cache emptied.

Baseline: each figure of analysis, indexing and latency is printed beside the same figure of
another version of saraban, measured in the same run on the same letters (``--baseline REF``,
default ``main``; ``--baseline none`` to skip). Its packages are taken from git (``git
archive REF``) into a temporary folder and measured in a child process that imports them
instead of this checkout's (for the backends in ``--baseline-backends``, default tantivy).

``--reindex``: what ``saraban reindex`` costs over a real archive instead. An archive of
``--n`` generated letters is made (once, in ``--archive`` if given), then the index is rebuilt
from it by this checkout and by the baseline, alternately (``--rounds``): wall and CPU time
(the process that writes the index, tantivy's threads included, and the worker processes),
the load, and whether the topic and phrase searches answer the same (total and first ten)
after both rebuilds.

    .venv/bin/python benchmarks/search.py --reindex --n 20000 --archive /tmp/bench-archive
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import itertools
import json
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
# In the child that measures the baseline (and in its worker processes, which run this
# module's top again), saraban is imported from the baseline's sources, not this checkout;
# SARABAN_BENCH_SOURCES does the same for any run (a copy that stays put while you edit).
SOURCES = os.environ.get("SARABAN_BENCH_SOURCES")
if SOURCES:
    sys.path.insert(0, SOURCES)
    sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", "")]

from saraban.indexer import IndexDoc, SearchFilters, _thai, open_index  # noqa: E402
from saraban.indexer._engine import Preparer, prepare  # noqa: E402
from saraban.indexer._thai import analyze, check_engine, normalize  # noqa: E402
from saraban.thai import to_arabic_digits, to_thai_digits  # noqa: E402

SEEDS = ROOT / "tests" / "data" / "seeds"
TOPICS = [
    "จิตอาสา",
    "ศูนย์ผู้นำจิตอาสา",
    "โคกหนองนา",
    "สัมมาชีพ",
    "ผู้นำการเปลี่ยนแปลง",
    "มาตรฐานการพัฒนาชุมชน",
    "ทฤษฎีใหม่",
    "ประชุมเชิงปฏิบัติการ",
    "ภารกิจสำคัญ",
    "ชุมชน",
]
PHRASES = [
    '"ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน"',
    '"โคก หนอง นา โมเดล"',
    '"ผู้นำการเปลี่ยนแปลง"',
    '"ผู้นำสัมมาชีพชุมชน"',
    '"ประชุมเชิงปฏิบัติการ"',
]
# Programme names that stand in for the seeds' own in most letters, so that each topic is in
# a realistic share of the archive instead of in nearly every letter.
OTHER_PROGRAMMES = [
    "กองทุนหมู่บ้าน",
    "หนึ่งตำบลหนึ่งผลิตภัณฑ์",
    "กองทุนพัฒนาบทบาทสตรี",
    "กลุ่มออมทรัพย์เพื่อการผลิต",
    "หมู่บ้านเศรษฐกิจพอเพียง",
    "แผนพัฒนาหมู่บ้าน",
    "บัญชีครัวเรือน",
    "ข้อมูลความจำเป็นพื้นฐาน",
    "ตลาดนัดชุมชน",
    "การท่องเที่ยวโดยชุมชน",
    "ผ้าไทยใส่ให้สนุก",
    "ธนาคารขยะ",
    "ครัวเรือนยากจน",
    "การแก้ไขปัญหาความยากจน",
    "ศูนย์ปฏิบัติการป้องกันยาเสพติด",
    "สวนผักคนเมือง",
    "การป้องกันอุทกภัย",
    "ผู้สูงอายุ",
    "ภูมิปัญญาท้องถิ่น",
    "การฝึกอบรมอาชีพ",
]
SEED_PROGRAMMES = re.compile(
    "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน|ผู้นำจิตอาสา|จิตอาสา|โคก หนอง นา โมเดล|โคก หนอง นา|"
    "ผู้นำการเปลี่ยนแปลง|ผู้นำสัมมาชีพชุมชน|สัมมาชีพชุมชน|สัมมาชีพ|มาตรฐานการพัฒนาชุมชน|"
    r"ทฤษฎีใหม่|ภารกิจสำคัญ|\(?มชช\.\)?"
)
COPY_SERIALS = 30_000  # serials of the generated letters are below this
KINDS = ["external"] * 6 + ["memo"] * 3 + ["order", "announcement"]
URGENCIES = [None] * 7 + ["ด่วน", "ด่วนมาก", "ด่วนที่สุด"]


# ---- the generated archive ---------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.strip()) > 40]


class Generator:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        letters = [json.loads(p.read_text("utf-8")) for p in sorted(SEEDS.glob("*.letter.json"))]
        texts = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))]
        self.subjects = [letter["subject"] for letter in letters]
        self.programmes = [
            "ศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
            "โคก หนอง นา โมเดล",
            "ผู้นำการเปลี่ยนแปลง",
            "ผู้นำสัมมาชีพชุมชน",
            "มาตรฐานการพัฒนาชุมชน",
        ]
        self.body = [
            b for letter in letters for b in letter["body"] if isinstance(b, str) and len(b) > 40
        ]
        self.attachments = [p for text in texts for p in _paragraphs(text)[12:]]
        self.signers = [letter["signer"] for letter in letters]
        self.addressees = [letter["addressee"] for letter in letters] + ["ผู้ว่าราชการจังหวัด"]
        with (ROOT / "saraban" / "data" / "province-codes.csv").open(encoding="utf-8") as f:
            self.provinces = [(r["code_th"], r["province_th"]) for r in csv.DictReader(f)]

    def _numbers(self, text: str) -> str:
        """Vary the numbers in a paragraph (amounts, dates, counts), keeping their digits."""

        def swap(m: re.Match[str]) -> str:
            digits = str(self.random.randint(1, 10 ** len(m.group())))[: len(m.group())]
            return to_thai_digits(digits) if "๐" <= m.group()[0] <= "๙" else digits

        return re.sub(r"[0-9๐-๙]+", swap, text) if self.random.random() < 0.7 else text

    def letter(self, doc_id: int) -> IndexDoc:
        """Letter ``doc_id``, the same whatever was made before it (each letter has its own
        random numbers: a query can name letter 987,654 without making the others)."""
        self.random = r = random.Random((self.seed << 32) + doc_id)
        code, province = r.choice(self.provinces)
        unit = f"{code} {to_thai_digits(f'00{r.choice([17, 19, 23, 32])}.{r.randint(1, 6)}')}"
        circular = r.random() < 0.3
        serial = r.randint(1, 30000)
        ref_no = f"{unit}/{'ว ' if circular else ''}{to_thai_digits(str(serial))}"
        date = dt.date(2015, 1, 1) + dt.timedelta(days=r.randint(0, 11 * 365))
        subject = r.choice(self.subjects)
        if r.random() < 0.3:
            subject = f"{subject} และ{r.choice(self.programmes)}"
        body = [self._numbers(p) for p in r.sample(self.body, r.randint(3, 8))]
        attachments = ""
        if r.random() < 0.33:
            attachments = "\n\n".join(r.sample(self.attachments, r.randint(2, 10)))
        if r.random() < 0.8:  # most letters are about another programme
            programme = r.choice(OTHER_PROGRAMMES)
            subject = SEED_PROGRAMMES.sub(programme, subject)
            body = [SEED_PROGRAMMES.sub(programme, p) for p in body]
            attachments = SEED_PROGRAMMES.sub(programme, attachments)
        signer = r.choice(self.signers)
        references = []
        if r.random() < 0.4:
            references.append(
                f"หนังสือจังหวัด{province} ที่ {unit}/ว {to_thai_digits(str(r.randint(1, 9999)))}"
            )
        return IndexDoc(
            id=doc_id,
            ref_no=ref_no,
            subject=subject,
            body="\n".join(body),
            attachments_text=attachments,
            references=references,
            addressee=r.choice(self.addressees),
            signer="\n".join([signer["name"], *signer["position"]]),
            sender=f"ศาลากลางจังหวัด{province}",
            owner_unit="สำนักงานพัฒนาชุมชนจังหวัด\nกลุ่มงานส่งเสริมการพัฒนาชุมชน",
            date=date,
            kind=r.choice(KINDS),
            urgency=r.choice(URGENCIES),
            unit=unit,
            direction=r.choice(["sent", "sent", "received", "imported"]),
            status="issued",
        )

    def letters(self, n: int) -> Iterator[IndexDoc]:
        for i in range(1, n + 1):
            yield self.letter(i)

    def copied(self, doc_id: int, base: int) -> IndexDoc:
        """Letter ``doc_id`` of a corpus made of the first ``base`` letters copied (see
        :func:`replicate`): that letter's text with the id, and a serial ``COPY_SERIALS``
        higher for each copy."""
        copy, original = divmod(doc_id - 1, base)
        doc = self.letter(original + 1)
        head, serial = re.fullmatch(r"(.*?)([๐-๙]+)", doc.ref_no or "").groups()  # type: ignore[union-attr]
        number = int(to_arabic_digits(serial)) + COPY_SERIALS * copy
        return dataclasses.replace(doc, id=doc_id, ref_no=head + to_thai_digits(str(number)))


# ---- engines -----------------------------------------------------------------------------------


class Fts5:
    """The naive archive: SQLite FTS5 with its default (unicode61) tokenizer on raw text."""

    backend = "fts5"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS letters USING fts5(ref_no, subject, body, "
            "attachments, people)"
        )

    def add(self, docs: list[IndexDoc]) -> None:
        self.db.executemany(
            "INSERT INTO letters (rowid, ref_no, subject, body, attachments, people) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    d.id,
                    d.ref_no or "",
                    d.subject,
                    d.body,
                    d.attachments_text,
                    "\n".join([d.addressee, d.signer, d.sender]),
                )
                for d in docs
            ],
        )
        self.db.commit()

    def search(self, query: str, **_: object) -> tuple[int, list[int]]:
        terms = " ".join('"' + t.replace('"', "") + '"' for t in query.split() if t.strip('"'))
        if not terms:
            return 0, []
        total = self.db.execute("SELECT count(*) FROM letters WHERE letters MATCH ?", (terms,))
        count = total.fetchone()[0]
        rows = self.db.execute(
            "SELECT rowid, snippet(letters, 2, '<mark>', '</mark>', '…', 20) FROM letters "
            "WHERE letters MATCH ? ORDER BY rank LIMIT 10",
            (terms,),
        ).fetchall()
        return count, [r[0] for r in rows]

    def size(self) -> int:
        return self.path.stat().st_size

    def close(self) -> None:
        self.db.close()


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pg_size(index: object) -> int:
    from sqlalchemy import text

    with index._db.connect() as db:  # type: ignore[attr-defined]
        # The partitions' tables, TOAST and indexes (the parent holds nothing).
        size = db.execute(
            text(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'search_letters'::regclass"
            )
        ).scalar()
        return int(size or 0)


def _spellings(ref_no: str, r: random.Random) -> str:
    arabic = re.sub("[๐-๙]", lambda m: str(ord(m.group()) - 0x0E50), ref_no)
    choices = [
        ref_no,
        arabic,
        arabic.replace(" ", ""),
        ref_no.replace("/", " / "),
        arabic.replace("ว ", ""),  # without ว
    ]
    return r.choice(choices)


def measure(run: Callable[[], object], times: int) -> tuple[float, float]:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _batches(n: int, args: argparse.Namespace, clock: list[float]) -> Iterator[list[IndexDoc]]:
    """The generated letters in batches, made as they are needed (a million letters do not
    fit in memory); the time spent making them is added to ``clock[0]``, to be taken off
    the indexing time."""
    letters = Generator(args.seed).letters(n)
    while True:
        started = time.perf_counter()
        batch = list(itertools.islice(letters, args.batch))
        clock[0] += time.perf_counter() - started
        if not batch:
            return
        yield batch


def build(backend: str, n: int, args: argparse.Namespace, workdir: Path) -> tuple[object, dict]:
    home = workdir / backend
    generating = [0.0]
    started = time.perf_counter()
    if backend == "fts5":
        home.mkdir(parents=True, exist_ok=True)
        engine = Fts5(home / "fts5.sqlite3")
        for batch in _batches(n, args, generating):
            engine.add(batch)
        elapsed = time.perf_counter() - started - generating[0]
        return engine, {"rate": n / elapsed, "size": engine.size(), "seconds": elapsed}
    url = args.database_url
    server = getattr(args, "pg_server", None)
    kept = backend == "postgres" and server is not None and args.pg_data and not args.child
    if kept and args.copies_of and n > args.copies_of:
        return replicate(n, args, workdir)
    if kept:
        url = server.create_database(corpus_name(n, args.seed))  # kept for the next run
    index = open_index(home, backend=backend, database_url=url)
    if kept and not index.needs_rebuild and index.count() == n and _kept_figures(index):
        print(f"postgres: the {n:,} letters indexed in an earlier run are used again")
        return index, _kept_figures(index) | {"size": _pg_size(index)}  # type: ignore[operator]
    if kept and index.count():  # another corpus, or a run that stopped half-way
        index.close()  # type: ignore[attr-defined]
        server.drop_database(url)
        url = server.create_database(corpus_name(n, args.seed))
        index = open_index(home, backend=backend, database_url=url)
    # As indexer.reindex does it: analysis in worker processes, pipelined with writing (in
    # one writing session where the version has one).
    bulk = getattr(index, "bulk", None)
    render = {"render": index.render} if getattr(index, "render", None) else {}
    with (
        Preparer(index.engine, workers=args.workers, expected=n, **render) as preparer,
        bulk() if bulk else nullcontext(index.add_prepared) as add,
    ):
        pending = None
        for batch in [*_batches(n, args, generating), None]:
            following = preparer.submit(batch) if batch else None
            if pending is not None:
                add(pending())
            pending = following
    elapsed = time.perf_counter() - started - generating[0]
    size = _pg_size(index) if backend == "postgres" else _dir_size(home / "index" / backend)
    figures = {"rate": n / elapsed, "size": size, "seconds": elapsed}
    if kept:
        index.mark_built()
        _keep_figures(index, figures)
    return index, figures


def replicate(n: int, args: argparse.Namespace, workdir: Path) -> tuple[object, dict]:
    """A corpus of ``n`` letters made of the first ``args.copies_of`` copied in the database
    (its own database, a copy of theirs), each copy with new ids and serials
    (:meth:`Generator.copied`): analyzing a million letters takes hours on a loaded
    machine; copying takes minutes. The GIN indexes are built again over all the rows."""
    import psycopg
    from sqlalchemy import text

    base = args.copies_of
    server = args.pg_server
    name = corpus_name(n, args.seed, base)
    index, _figures = build("postgres", base, args, workdir)  # the letters copied
    index.close()  # type: ignore[attr-defined]
    url = server.url(name)
    with psycopg.connect(
        host=str(server.base), port=5432, user="saraban", dbname="postgres", autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{corpus_name(base, args.seed)}"')
    index = open_index(workdir / "copied", backend="postgres", database_url=url)
    if index.count() == n and _kept_figures(index):
        print(f"postgres: {n:,} letters copied from {base:,} in an earlier run are used again")
        return index, _kept_figures(index) | {"size": _pg_size(index)}  # type: ignore[operator]
    started = time.perf_counter()
    from saraban.indexer import _postgres

    serial = "(regexp_match({0}, '^(.*[^0-9])([0-9]+)$'))"
    thai = "'๐๑๒๓๔๕๖๗๘๙'"
    # A copy's sample markers follow its own id, as a letter's do (_postgres.markers): kept
    # from the letter copied, each sampled letter's day came twenty times over, and the
    # samples' months were lumps where a real archive's are even.
    s, t = _postgres.SAMPLE_EVERY, _postgres.COARSE_EVERY
    resampled = (
        "ts_delete({0}, ARRAY['#s', '#t']) || (CASE WHEN (id + {1}) % " + str(t) + " = 0 "
        "THEN '#s #t' WHEN (id + {1}) % " + str(s) + " = 0 THEN '#s' ELSE '' END)::tsvector"
    )
    # ... and the twins of its lexemes (_postgres.twins) by its own id too: the letter copied
    # loses its own (every lexeme from "#s" or "#t" on), the copy gets those of its samples.
    stripped = (
        f"(CASE WHEN id % {s} = 0 THEN ts_delete(tsv, ARRAY(SELECT l FROM "
        "unnest(tsvector_to_array(tsv)) AS l WHERE l ~ '^#[st](:|$)')) ELSE tsv END)"
    )
    twinned = (
        f"{stripped} || (CASE WHEN (id + {{0}}) % {t} = 0 THEN array_to_tsvector("
        "ARRAY['#s', '#t'] || ARRAY(SELECT p || l FROM unnest(ARRAY['#s:', '#t:']) AS p, "
        f"unnest(tsvector_to_array({stripped})) AS l)) WHEN (id + {{0}}) % {s} = 0 THEN "
        f"array_to_tsvector(ARRAY['#s'] || ARRAY(SELECT '#s:' || l FROM "
        f"unnest(tsvector_to_array({stripped})) AS l)) ELSE ''::tsvector END)"
    )
    with index._db.begin() as db:  # type: ignore[attr-defined]
        db.execute(text(f"DELETE FROM search_letters WHERE id > {base}"))
        for name_ in _postgres._INDEX_NAMES:
            db.execute(text(f"DROP INDEX IF EXISTS {name_}"))
    for copy in range(1, -(-n // base)):
        shift = COPY_SERIALS * copy
        new_ref = (
            f"ARRAY(SELECT {serial.format('k')}[1] || ({serial.format('k')}[2]::int + {shift})"
            "::text FROM unnest(ref) AS k)"
        )
        plain = f"translate(data->>'ref_no', {thai}, '0123456789')"
        shown = (
            f"translate({serial.format(plain)}[1], '0123456789', {thai}) || translate(("
            f"{serial.format(plain)}[2]::int + {shift})::text, '0123456789', {thai})"
        )
        with index._db.begin() as db:  # type: ignore[attr-defined]
            db.execute(
                text(
                    f"""INSERT INTO search_letters
                        SELECT id + {copy * base}, {twinned.format(copy * base)},
                               {resampled.format("head", copy * base)}, {new_ref}, cited,
                               dates, day,
                               year, secrecy, kind, unit, urgency, direction, status,
                               jsonb_set(jsonb_set(data, '{{id}}', to_jsonb(id + {copy * base})),
                                         '{{ref_no}}', to_jsonb({shown}))
                        FROM search_letters WHERE id <= {min(base, n - copy * base)}"""
                )
            )
        print(f"postgres: copy {copy} of {base:,} letters made", flush=True)
    with index._db.connect() as db:  # type: ignore[attr-defined]
        db.execute(text("SET maintenance_work_mem = '1GB'"))
        for statement in _postgres._INDEXES:
            db.execute(text(statement))
        db.execute(text("ANALYZE search_letters"))
        db.commit()
    elapsed = time.perf_counter() - started
    figures = {"rate": 0.0, "size": _pg_size(index), "seconds": elapsed, "copied": base}
    _keep_figures(index, figures)
    return index, figures


# The server of a kept corpus (--pg-data), and the corpus's database name.
KEPT_SERVER_SETTINGS = ("shared_buffers=1GB", "work_mem=64MB")


def corpus_name(n: int, seed: int, copies_of: int = 0) -> str:
    if copies_of and n > copies_of:
        return f"corpus_{n}_{seed}_copies_of_{copies_of}_resampled"
    return f"corpus_{n}_{seed}"


def _kept_figures(index: object) -> dict | None:
    from sqlalchemy import text

    with index._db.connect() as db:  # type: ignore[attr-defined]
        found = db.execute(text("SELECT value FROM search_meta WHERE key = 'benchmark'")).scalar()
    return found if isinstance(found, dict) else None


def _keep_figures(index: object, figures: dict) -> None:
    from sqlalchemy import text

    with index._db.begin() as db:  # type: ignore[attr-defined]
        db.execute(
            text(
                "INSERT INTO search_meta (key, value) VALUES ('benchmark', CAST(:v AS jsonb)) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"v": json.dumps(figures)},
        )


def query_sets(
    n: int, args: argparse.Namespace, copied: int = 0
) -> dict[str, list[tuple[str, dict]]]:
    """The queries of each kind; ``copied``: the corpus is that many letters copied."""
    r = random.Random(args.seed + 1)
    generator = Generator(args.seed)
    sample_ids = sorted(r.sample(range(1, n + 1), min(args.queries, n)))
    refs = []
    for doc_id in sample_ids:
        doc = generator.copied(doc_id, copied) if copied else generator.letter(doc_id)
        refs.append((_spellings(doc.ref_no or "", r), {"expect": doc.id}))
    filtered = []
    for _ in range(args.queries):
        filters: dict = {"fiscal_year": r.randint(2558, 2568)}
        if r.random() < 0.5:
            filters["kind"] = "memo"
        else:
            filters["urgency"] = "ด่วนที่สุด"
        filtered.append((r.choice(TOPICS), {"filters": SearchFilters(**filters)}))
    return {
        "topic": [(r.choice(TOPICS), {}) for _ in range(args.queries)],
        "phrase": [(r.choice(PHRASES), {}) for _ in range(args.queries)],
        "reference": refs,
        "filtered": filtered,
    }


def run_queries(engine: object, sets: dict, args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    passes: dict[str, tuple[Callable[[], None], int]] = {}
    for kind, queries in sets.items():
        cursor = iter(queries * 3)
        if getattr(engine, "backend", "") == "fts5":

            def once(cursor=cursor) -> None:  # noqa: ANN001
                query, _extra = next(cursor)
                engine.search(query)  # type: ignore[attr-defined]

        else:

            def once(cursor=cursor) -> None:  # noqa: ANN001
                query, extra = next(cursor)
                engine.search(query, filters=extra.get("filters"))  # type: ignore[attr-defined]

        for _ in range(min(5, len(queries))):
            once()
        out[kind] = measure(once, len(queries))
        passes[kind] = (once, len(queries))
    # The same queries once more: each kind's first pass read what it needed from disk (a
    # server started for the benchmark, or an index just built); this is a server that has
    # served them, its caches warm.
    for kind, (once, times) in passes.items():
        out[f"{kind}_again"] = measure(once, times)
    first = 0
    for query, extra in sets["reference"]:
        if getattr(engine, "backend", "") == "fts5":
            _total, found = engine.search(query)  # type: ignore[attr-defined]
        else:
            found = [h.id for h in engine.search(query).hits]  # type: ignore[attr-defined]
        first += bool(found) and found[0] == extra["expect"]
    out["ref_first"] = first / max(1, len(sets["reference"]))
    return out


def recall(backends: list[str], args: argparse.Namespace, workdir: Path) -> None:
    n = args.recall_n
    docs = list(Generator(args.seed).letters(n))
    squeezed = [
        re.sub(r"\s+", "", normalize("\n".join([d.subject, d.body, d.attachments_text])))
        for d in docs
    ]
    print(f"\nrecall on {n:,} letters: letters found / letters whose text holds the query")
    engines = {}
    for backend in backends:
        if backend == "fts5":
            engine = Fts5(workdir / f"recall-{backend}.sqlite3")
            engine.add(docs)
        else:
            engine = open_index(
                workdir / f"recall-{backend}", backend=backend, database_url=args.database_url
            )
            engine.clear()  # the PostgreSQL tables are shared with the speed run
            engine.add(docs)
        engines[backend] = engine
    print(f"{'query':32}{'truth':>8}" + "".join(f"{b:>10}" for b in backends))
    sums = dict.fromkeys(backends, 0.0)
    for topic in TOPICS:
        needle = re.sub(r"\s+", "", normalize(topic))
        truth = sum(needle in text for text in squeezed)
        row = f"{topic:32}{truth:8}"
        for backend, engine in engines.items():
            if backend == "fts5":
                total = engine.search(topic)[0]
            else:
                total = engine.search(topic, limit=0).total
            sums[backend] += min(total, truth) / truth if truth else 1.0
            row += f"{total:10}"
        print(row)
    print(
        f"{'recall (mean, capped)':32}{'':8}"
        + "".join(f"{sums[b] / len(TOPICS):10.2f}" for b in backends)
    )
    for engine in engines.values():
        engine.close()


def _clear_analysis_cache() -> None:
    clear = getattr(_thai, "clear_cache", None)
    if clear is not None:
        clear()
    else:  # the analyzer before its pieces were cached (a cache of segmented runs)
        _thai._segmenter(check_engine(None)).cache_clear()  # type: ignore[attr-defined]


def analysis(args: argparse.Namespace) -> dict[str, float]:
    """Letters analyzed a second (:func:`prepare`, as reindex runs it): in one process with
    the cache emptied (cold) and warm, and in worker processes on every core; each also in
    CPU time, which a machine shared with other work disturbs far less than the clock (the
    workers' figure: letters over the CPU time of every process taking part, their start,
    warming and the parent's sending and receiving included, times the workers)."""
    docs = list(Generator(args.seed + 7).letters(1000))
    engine = check_engine(None)
    analyze("ทดสอบ", engine=engine)
    _clear_analysis_cache()
    start, cpu = time.perf_counter(), time.process_time()
    for doc in docs:
        prepare(doc, engine)
    cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    for doc in docs:
        prepare(doc, engine)
    warm, warm_cpu = time.perf_counter() - start, time.process_time() - cpu
    many = list(Generator(args.seed + 11).letters(args.analysis_n))
    cores = args.workers or os.cpu_count() or 1
    batches = [many[i : i + args.batch] for i in range(0, len(many), args.batch)]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time()
    with Preparer(engine, workers=args.workers, expected=len(many)) as preparer:
        # Every worker started and warm, as in a long reindex (one is started per task).
        warming = [preparer.submit(many[i : i + 200]) for i in range(0, 200 * cores, 200)]
        for started in warming:
            started()
        start = time.perf_counter()
        pending = [preparer.submit(batch) for batch in batches]
        for result in pending:
            result()
        elapsed = time.perf_counter() - start
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = time.process_time() - cpu
    spent += done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    return {
        "chars": sum(len(d.subject) + len(d.body) + len(d.attachments_text) for d in docs) / 1000,
        "cold": 1000 / cold,
        "warm": 1000 / warm,
        "cores": len(many) / elapsed,
        "cold_cpu": 1000 / cold_cpu,
        "warm_cpu": 1000 / warm_cpu,
        "cores_cpu": cores * (len(many) + 200 * cores) / spent,
    }


def measure_backends(
    backends: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, dict]:
    """Indexing and latency figures of each backend."""
    results = {}
    for backend in backends:
        n = args.n
        if backend == "whoosh" and args.whoosh_n < n:
            n = args.whoosh_n
        engine, stats = build(backend, n, args, workdir)
        stats |= run_queries(engine, query_sets(n, args, stats.get("copied", 0)), args)
        stats["n"] = n
        results[backend] = stats
        engine.close()  # type: ignore[attr-defined]
    return results


def letter_document(doc: IndexDoc) -> dict:
    """A generated letter as the letter document the archive keeps (docs/letter-format.md)."""
    signer = doc.signer.split("\n")
    return {
        "format": 1,
        "kind": doc.kind,
        "circular": "/ว" in (doc.ref_no or ""),
        "urgency": doc.urgency,
        "secrecy": doc.secrecy,
        "ref_no": doc.ref_no,
        "sender": {"name": doc.sender, "address": []},
        "date": doc.date.isoformat() if doc.date else None,
        "subject": doc.subject,
        "salutation": "เรียน",
        "addressee": doc.addressee,
        "references": doc.references,
        "enclosures": [],
        "body": doc.body.split("\n"),
        "closing": "จึงเรียนมาเพื่อโปรดพิจารณา",
        "complimentary_close": "ขอแสดงความนับถือ",
        "signer": {"name": signer[0], "position": signer[1:]},
        "owner_unit": doc.owner_unit.split("\n"),
        "contact": {},
        "footer": None,
        "copies_to": [],
        "attachments_text": doc.attachments_text or None,
    }


def fill_archive(home: Path, n: int, rows: Callable[[Any], Iterator[dict]]) -> None:
    """An archive of ``n`` letters made once in ``home`` (a folder that already holds them is
    used as it is; one that holds another count is refused): ``rows(archive)`` gives the
    letters as rows of the letters table, written 5,000 a transaction."""
    from sqlalchemy import func, insert, select

    from saraban.archive import open_archive
    from saraban.archive._models import Letter

    archive = open_archive(home)
    try:
        with archive._read() as s:  # noqa: SLF001 - a benchmark's own archive
            held = s.scalar(select(func.count()).select_from(Letter))
        if held == n:
            return
        if held:
            raise SystemExit(f"{home} holds {held:,} letters, not {n:,}: give another --archive")
        batch: list[dict] = []
        for made, row in enumerate(rows(archive), start=1):
            batch.append(row)
            if len(batch) == 5000 or made == n:
                with archive._write() as s:  # noqa: SLF001
                    s.execute(insert(Letter), batch)
                batch.clear()
                print(f"archive: {made:,} / {n:,} letters", end="\r", file=sys.stderr)
        print(file=sys.stderr)
    finally:
        archive.close()


def make_archive(home: Path, n: int, seed: int) -> None:
    """An archive of ``n`` generated letters kept as imported letters, made once in ``home``
    (:func:`fill_archive`). The rows are written as ``store_imported`` writes them, without
    the original files, audit entries and index jobs, which a rebuild never reads (storing
    each letter on its own, with its fsyncs, takes about 60 ms a letter here)."""
    now = dt.datetime.now(dt.UTC)

    def rows(_archive: Any) -> Iterator[dict]:
        for doc in Generator(seed).letters(n):
            letter = letter_document(doc)
            yield {
                "status": "stored",
                "circular": letter["circular"],
                "ref_no": doc.ref_no,
                "date": doc.date,
                "subject": doc.subject,
                "sender": doc.sender,
                "addressee": doc.addressee,
                "secrecy": doc.secrecy,
                "doc": letter,
                "created_at": now,
                "created_by": "benchmark",
            }

    fill_archive(home, n, rows)


def _load() -> float:
    return os.getloadavg()[0]


def reindex_figures(home: Path, args: argparse.Namespace) -> dict:
    """``indexer.reindex`` (what ``saraban reindex`` runs) over the archive in ``home``, its
    index removed first: wall and CPU time (this process's threads, tantivy's among them,
    and the worker processes'), then the answers of the topic and phrase queries (total
    and the ids of the first ten), to compare with the baseline's."""
    from saraban.archive import open_archive
    from saraban.indexer import reindex

    shutil.rmtree(home / "index", ignore_errors=True)
    archive = open_archive(home)
    index = open_index(home)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = _load()
    started, cpu = time.perf_counter(), time.process_time()
    count = reindex(archive, index, workers=args.workers)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    answers = {}
    for query in TOPICS + PHRASES:
        result = index.search(query)
        answers[query] = [result.total, [[round(h.score, 4), h.id] for h in result.hits]]
    index.close()  # type: ignore[attr-defined]
    archive.close()
    figures = {"n": count, "wall": wall, "cpu": cpu, "workers_cpu": workers}
    return figures | {"load": [load, _load()], "answers": answers}


def reindex_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    """``--reindex``: this checkout's rebuild and the baseline's, alternately, on one archive."""
    home = Path(args.archive) if args.archive else workdir / "archive"
    started = time.perf_counter()
    make_archive(home, args.n, args.seed)
    print(f"archive of {args.n:,} letters ready ({time.perf_counter() - started:.0f} s)")
    rounds = []
    for _ in range(args.rounds):
        base = None
        if args.baseline != "none":
            base = baseline_figures(args, workdir, extra=["--archive", str(home)])
        rounds.append((reindex_figures(home, args), base))
    for ours, base in rounds:
        line = f"reindex of {ours['n']:,} letters: "
        for name, figures in (("this checkout", ours), (args.baseline, base)):
            if figures is None:
                continue
            total_cpu = figures["cpu"] + figures["workers_cpu"]
            line += (
                f"{name} {figures['wall']:.1f} s wall, {figures['n'] / figures['wall']:,.0f} "
                f"letters/s, CPU {figures['cpu']:.1f} s in the process that writes + "
                f"{figures['workers_cpu']:.1f} s in the workers = {total_cpu:.1f} s "
                f"({figures['n'] / total_cpu * (os.cpu_count() or 1):,.0f} letters/s were "
                f"{os.cpu_count()} cores free), load {figures['load'][0]:.1f}-"
                f"{figures['load'][1]:.1f}; "
            )
        print(line.rstrip("; "), flush=True)
        if base is not None:
            answers = ours["answers"]
            same = [q for q in answers if _same_answer(answers[q], base["answers"].get(q))]
            print(
                f"  search answers after the rebuild the same as {args.baseline}'s for "
                f"{len(same)} of {len(answers)} queries (total, the scores of the first ten, "
                "and their letters, which tantivy orders among equal scores by where its "
                "indexing threads put them, run to run)"
            )


def _same_answer(ours: list, base: list | None) -> bool:
    """The same total and scores, and the same letters at each score (letters of the last
    score shown may differ: the page cuts a tie)."""
    if base is None or ours[0] != base[0]:
        return False
    if [score for score, _id in ours[1]] != [score for score, _id in base[1]]:
        return False
    last = ours[1][-1][0] if ours[1] else None
    groups: dict[float, list[set[int]]] = {}
    for hits in (ours[1], base[1]):
        for score, letter_id in hits:
            groups.setdefault(score, [set(), set()])[hits is base[1]].add(letter_id)
    return all(a == b for score, (a, b) in groups.items() if score != last)


def baseline_figures(
    args: argparse.Namespace, workdir: Path, extra: list[str] | None = None
) -> dict | None:
    """The figures of ``args.baseline`` (a git ref), measured in a child process."""
    if args.baseline == "none":
        return None
    sources = workdir / "baseline"
    if sources.exists():
        shutil.rmtree(sources)
    sources.mkdir()
    packages = ("saraban", "indexer", "archive", "templates", "service")
    archived = subprocess.run(
        ["git", "-C", str(args.repo), "archive", args.baseline, *packages],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(sources)], input=archived, check=True)
    for package in packages[1:]:  # laid out as installed: saraban.indexer, ...
        (sources / package).rename(sources / "saraban" / package)
    child = [sys.executable, __file__, "--child", *sys.argv[1:], *(extra or [])]
    if args.database_url:  # the server this run started (each run empties its tables)
        child += ["--database-url", args.database_url]
    environment = os.environ | {"SARABAN_BENCH_SOURCES": str(sources)}
    done = subprocess.run(child, env=environment, capture_output=True, text=True)
    if done.returncode:
        print(f"baseline {args.baseline}: failed\n{done.stderr[-2000:]}")
        return None
    return json.loads(done.stdout.splitlines()[-1])


def _beside(value: float, base: float | None, unit: str = "", digits: int = 0) -> str:
    text = f"{value:,.{digits}f}{unit}"
    return f"{text} ({base:,.{digits}f})" if base is not None else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backends", default="tantivy,whoosh,postgres,fts5")
    parser.add_argument("--whoosh-n", type=int, default=20_000, help="letters for Whoosh")
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--recall-n", type=int, default=5000)
    parser.add_argument("--analysis-n", type=int, default=20_000, help="letters, all cores")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="analysis processes (default: one a core)")
    parser.add_argument("--database-url", help="PostgreSQL for the postgres backend")
    parser.add_argument(
        "--copies-of",
        type=int,
        help="with --pg-data: make the postgres corpus of --n letters by copying this many "
        "(indexed as usual) in the database, with new ids and numbers",
    )
    parser.add_argument(
        "--pg-data",
        help="a folder for the PostgreSQL server the run starts, kept afterwards: the letters "
        "indexed there are used again by the next run of the same --n and --seed",
    )
    parser.add_argument("--baseline", default="main", help="git ref to compare with, or none")
    parser.add_argument("--baseline-backends", default="tantivy")
    parser.add_argument("--repo", default=ROOT, help="git repository of the baseline")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--reindex",
        action="store_true",
        help="measure `saraban reindex` over an archive of --n letters instead (this "
        "checkout and --baseline alternately, --rounds times)",
    )
    parser.add_argument(
        "--archive", help="with --reindex: a folder for the archive, made once and used again"
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --reindex: runs of each")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="saraban-search-bench-"))
    if args.child and args.reindex:  # the baseline's rebuild
        try:
            print(json.dumps(reindex_figures(Path(args.archive), args)))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    if args.child:  # measuring the baseline: figures as JSON on the last line
        try:
            chosen = [b for b in args.baseline_backends.split(",") if b in backends]
            figures = measure_backends(chosen, args, workdir)
            print(json.dumps({"analysis": analysis(args), "backends": figures}))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    if args.reindex:
        print(f"saraban reindex benchmark: {args.n:,} letters, {os.cpu_count()} cores")
        try:
            reindex_benchmark(args, workdir)
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        return 0
    server = None
    if "postgres" in backends and not args.database_url:
        from postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("postgres: no initdb/pg_ctl found, skipped")
            backends.remove("postgres")
        else:
            base = Path(args.pg_data).resolve() if args.pg_data else None
            settings = KEPT_SERVER_SETTINGS if base else ()
            server = PostgresServer(bin_dir, base=base, settings=settings)
            server.start()
            args.database_url = server.create_database()
            args.pg_server = server
    print(f"saraban search benchmark: {args.n:,} letters, {os.cpu_count()} cores")
    if args.baseline != "none":
        print(f"each figure is followed by {args.baseline}'s in parentheses, measured in this run")
    try:
        base = baseline_figures(args, workdir)
        ours = analysis(args)
        old = (base or {}).get("analysis", {})
        cold, warm = _beside(ours["cold"], old.get("cold")), _beside(ours["warm"], old.get("warm"))
        workers = args.workers or os.cpu_count()
        print(
            f"analysis, {ours['chars']:,.0f} chars a letter, letters/s: one process cold {cold}, "
            f"warm {warm}; {args.analysis_n:,} letters on {workers} "
            f"worker processes {_beside(ours['cores'], old.get('cores'))}",
            flush=True,
        )
        if "warm_cpu" in ours:
            cpu = {k: _beside(ours[k], old.get(k)) for k in ("cold_cpu", "warm_cpu", "cores_cpu")}
            print(
                f"analysis in CPU time, letters/s: a core cold {cpu['cold_cpu']}, warm "
                f"{cpu['warm_cpu']}; on {workers} worker processes, were the cores free "
                f"{cpu['cores_cpu']}",
                flush=True,
            )
        for backend in backends:
            if backend == "whoosh" and args.whoosh_n < args.n:
                print(f"whoosh: indexed on {args.whoosh_n:,} letters only (slow to index)")
            stats = measure_backends([backend], args, workdir)[backend]
            other = (base or {}).get("backends", {}).get(backend, {})

            def pair(kind: str, stats=stats, other=other) -> str:  # noqa: ANN001
                p50, p95 = stats[kind]
                if kind not in other:
                    return f"{kind} p50 {p50:.1f} p95 {p95:.1f} ms"
                before = other[kind]
                return f"{kind} p50 {p50:.1f} ({before[0]:.1f}) p95 {p95:.1f} ({before[1]:.1f}) ms"

            made = (
                f"copies of {stats['copied']:,} made and indexed in {stats['seconds']:,.0f} s"
                if stats.get("copied")
                else f"indexing {_beside(stats['rate'], other.get('rate'))} letters/s, "
                f"{_beside(stats['seconds'], other.get('seconds'), ' s', 1)}"
            )
            print(
                f"{backend:9} {stats['n']:>8,} letters  {made}  "
                f"{_beside(stats['size'] / 1e6, other['size'] / 1e6 if other else None, ' MB')}  "
                + "  ".join(pair(k) for k in ("topic", "phrase", "reference", "filtered"))
                + f"  ref first {stats['ref_first']:.0%}",
                flush=True,
            )
            print(
                f"{'':9}   the same queries once more (caches warm):  "
                + "  ".join(
                    pair(f"{k}_again").replace("_again", "")
                    for k in ("topic", "phrase", "reference", "filtered")
                ),
                flush=True,
            )
        recall(
            [b for b in backends if b != "whoosh" or args.recall_n <= args.whoosh_n], args, workdir
        )
    finally:
        if server is not None:
            server.drop_database(args.database_url)
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
