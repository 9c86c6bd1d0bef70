"""``saraban search`` and ``saraban reindex``: the index from the command line.

Both work on the instance folder (``SARABAN_HOME``) and the archive's database
(``SARABAN_DATABASE_URL``); the backend is ``SARABAN_SEARCH_BACKEND``. A search first
drains the archive's index queue, so it finds a letter issued a moment ago.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from saraban.errors import BadRequest
from saraban.settings import Settings


def register(subparsers: Any) -> None:
    search = subparsers.add_parser(
        "search",
        help="search the archive (Thai full text, reference numbers, filters) / ค้นหาหนังสือ",
        description="Search letters by topic, reference number, person or date.",
    )
    search.add_argument("query", help='words, a reference number, or "an exact phrase"')
    search.add_argument("--json", action="store_true", help="print JSON")
    # Paged as the API is (page, per_page); --limit/--offset still work, with a note.
    search.add_argument("--per-page", type=int, default=None, help="hits a page (default 10)")
    search.add_argument("--page", type=int, default=None, help="which page, from 1 (default 1)")
    search.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    search.add_argument("--offset", type=int, default=None, help=argparse.SUPPRESS)
    search.add_argument(
        "--from", dest="date_from", type=_date, help="letters dated from YYYY-MM-DD"
    )
    search.add_argument("--to", dest="date_to", type=_date, help="letters dated up to YYYY-MM-DD")
    search.add_argument(
        "--fiscal-year", type=int, help="ปีงบประมาณ, BE (2568) or CE (2025: the same letters)"
    )
    search.add_argument("--kind", help="external, memo, order, announcement, stamped")
    search.add_argument("--unit", help='unit prefix, e.g. "นค 0019.3"')
    search.add_argument("--urgency", help="ด่วน, ด่วนมาก, ด่วนที่สุด")
    search.add_argument("--direction", help="sent, received, imported")
    search.add_argument("--sort", choices=("relevance", "date"), default="relevance")
    search.add_argument(
        "--clearance", help="highest secrecy level to show: ลับ, ลับมาก, ลับที่สุด (default none)"
    )
    search.set_defaults(func=_search)

    reindex = subparsers.add_parser(
        "reindex",
        help="rebuild the search index from the archive / สร้างดัชนีค้นหาใหม่",
        description="Rebuild the search index from the archive (progress on stderr).",
    )
    reindex.set_defaults(func=_reindex)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"วันที่ต้องเป็น YYYY-MM-DD (ค.ศ.) / a date must be YYYY-MM-DD, not {text!r}"
        ) from None


def _open() -> tuple[Any, Any]:
    from saraban.archive import open_settings_archive

    settings = Settings.load()
    archive = open_settings_archive(settings)
    try:
        index = _open_index(settings)
    except BaseException:
        archive.close()
        raise
    return archive, index


def _paging(args: argparse.Namespace) -> tuple[int, int]:
    """(limit, offset) from --per-page/--page, the API's words; the old --limit/--offset
    are read too, with a note on stderr to use the new ones."""
    if args.limit is not None or args.offset is not None:
        print(
            "หมายเหตุ: --limit/--offset เลิกใช้แล้ว ใช้ --per-page/--page แทน / --limit and "
            "--offset are deprecated: use --per-page and --page, as the API does",
            file=sys.stderr,
        )
    per_page = args.per_page if args.per_page is not None else args.limit
    per_page = 10 if per_page is None else per_page
    if per_page < 1 or (args.page is not None and args.page < 1):
        raise BadRequest("--per-page/--page: ต้องตั้งแต่ ๑ ขึ้นไป / must be 1 or more")
    if args.offset is not None and args.page is None:
        if args.offset < 0:
            raise BadRequest("--offset: ต้องไม่ติดลบ / must not be negative")
        return per_page, args.offset
    return per_page, ((args.page or 1) - 1) * per_page


def _open_index(settings: Settings) -> Any:
    from saraban.indexer import open_index

    return open_index(
        settings.home,
        backend=settings.search_backend,
        database_url=settings.database_url,
        engine=settings.tokenizer,
    )


# The embedded database and the archive's queue of letters for the index (archive/_db.py
# SQLITE_FILENAME, archive/_models.py IndexJob; tests/test_cli_registry.py checks both).
SQLITE_FILENAME = "saraban.sqlite3"
INDEX_QUEUE_TABLE = "index_queue"


def _nothing_queued(settings: Settings) -> bool:
    """Whether the archive's index queue is certainly empty, asked of the embedded SQLite
    file directly (read-only): a search then needs only the index, and starts without
    loading the archive (SQLAlchemy). Anything less than certain (PostgreSQL, no file yet,
    a table of another shape, a lock) is False: the archive is opened and the queue drained.
    """
    import sqlite3
    from contextlib import closing

    if settings.database_url:
        return False
    uri = f"{(settings.home / SQLITE_FILENAME).resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as db:
            return db.execute(f"SELECT 1 FROM {INDEX_QUEUE_TABLE} LIMIT 1").fetchone() is None
    except (sqlite3.Error, OSError):
        return False


def _search(args: argparse.Namespace) -> int:
    from saraban.indexer import sync
    from saraban.usecases.searching import search

    limit, offset = _paging(args)
    filters = {
        "date_from": args.date_from,
        "date_to": args.date_to,
        "fiscal_year": args.fiscal_year,
        "kind": args.kind,
        "unit": args.unit,
        "urgency": args.urgency,
        "direction": args.direction,
    }
    settings = Settings.load()
    index = _open_index(settings) if _nothing_queued(settings) else None
    if index is not None and getattr(index, "needs_rebuild", False):
        index.close()
        index = None
    if index is None:  # letters wait for the index (or it is new): the archive fills it first
        archive, index = _open()
        try:
            sync(archive, index)
        except BaseException:
            index.close()
            raise
        finally:
            archive.close()
    try:
        result = search(
            index,
            args.query,
            clearance=args.clearance or None,
            filters=filters,
            sort=args.sort,
            limit=limit,
            offset=offset,
        )
    finally:
        index.close()
    if args.json:
        body = {
            "total": result.total,
            "hits": [
                {
                    k: hit.as_dict()[k]
                    for k in ("id", "ref_no", "subject", "date", "score", "snippet")
                }
                for hit in result.hits
            ],
            "facets": result.facets,
            "numbers_not_found": result.numbers_not_found,
        }
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    for number in result.numbers_not_found:
        print(f"ไม่พบหนังสือเลขที่ {number} / no letter carries or cites {number}")
    print(f"พบ {result.total} ฉบับ / {result.total} found")
    for hit in result.hits:
        date = hit.date.isoformat() if hit.date else "-"
        print(f"{hit.id}\t{hit.ref_no or '-'}\t{date}\t{hit.subject}")
        snippet = hit.snippet.replace("<mark>", "[").replace("</mark>", "]")
        print(f"\t{_unescape(snippet)}")
    return 0


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _reindex(args: argparse.Namespace) -> int:
    from saraban.indexer import reindex

    def progress(done: int, total: int) -> None:
        print(f"\rสร้างดัชนี / indexing {done}/{total}", end="", file=sys.stderr, flush=True)

    archive, index = _open()
    try:
        count = reindex(archive, index, progress=progress)
    finally:
        index.close()
        archive.close()
    print(file=sys.stderr)
    print(f"สร้างดัชนีแล้ว {count} ฉบับ / indexed {count} letters ({index.backend})")
    return 0
