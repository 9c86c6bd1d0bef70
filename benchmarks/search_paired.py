"""PostgreSQL search, this checkout against another version, query by query on one server.

    .venv/bin/python benchmarks/search_paired.py --pg-data /srv/bench-pg --against main \\
        [--n 1000000 --copies-of 50000] [--kinds topic,filtered] [--rounds 2]

On a corpus kept by ``benchmarks/search.py --pg-data`` (same ``--n``, ``--copies-of`` and
``--seed``), both versions' ``PostgresIndex`` answer the benchmark's queries in turn, the
order alternating from one query to the next, so both meet the same server, the same caches
and the same load. A database larger than the machine's memory makes runs minutes apart
differ by a fifth; pairs do not. Printed for each kind: both versions' p50, p95 and mean,
and the paired difference (its median, and in how many pairs this checkout was faster).

The other version's ``indexer/_postgres.py`` is taken from git and loaded beside this one
(the rest of saraban is this checkout's); its layout is taken to be the corpus's, so it
reads the index as it is: a version whose layout differs asks for lexemes the corpus may
not hold (say so beside the figures).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import search as bench  # noqa: E402
from postgres import PostgresServer, find_bin_dir  # noqa: E402

from saraban.indexer import _postgres, open_index  # noqa: E402


def other_version(ref: str, folder: Path) -> object:
    """``indexer/_postgres.py`` of ``ref``, as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:indexer/_postgres.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = folder / "other_postgres.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("other_postgres", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.LAYOUT = _postgres.LAYOUT  # type: ignore[attr-defined]
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-data", required=True, help="the folder of search.py --pg-data")
    parser.add_argument("--against", default="main", help="git ref of the other version")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--copies-of", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--kinds", default="topic,filtered")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    name = bench.corpus_name(args.n, args.seed, args.copies_of)
    server = PostgresServer(
        find_bin_dir(), base=Path(args.pg_data).resolve(), settings=bench.KEPT_SERVER_SETTINGS
    )
    server.start()
    with tempfile.TemporaryDirectory() as folder:
        try:
            url = server.url(name)
            ours = open_index(Path(folder) / "ours", backend="postgres", database_url=url)
            if ours.count() != args.n:
                print(f"{name}: {ours.count():,} letters, not {args.n:,}: make it with search.py")
                return 1
            module = other_version(args.against, Path(folder))
            theirs = module.PostgresIndex(Path(folder) / "theirs", url)  # type: ignore[attr-defined]
            copied = args.copies_of if args.n > args.copies_of else 0
            sets = bench.query_sets(args.n, args, copied=copied)
            print(f"{args.n:,} letters, this checkout against {args.against}, load {_load()}")
            for kind in args.kinds.split(","):
                report(kind, sets[kind], ours, theirs, args.rounds)
            print(f"load after: {_load()}")
            ours.close()
            theirs.close()
        finally:
            server.stop()
    return 0


def report(kind: str, queries: list, ours: object, theirs: object, rounds: int) -> None:
    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    saved: list[float] = []
    for round_ in range(rounds):
        for n, (query, extra) in enumerate(queries):
            pair = [("ours", ours), ("theirs", theirs)]
            taken = {}
            for label, index in pair if (n + round_) % 2 else pair[::-1]:
                started = time.perf_counter()
                index.search(query, filters=extra.get("filters"))  # type: ignore[attr-defined]
                taken[label] = (time.perf_counter() - started) * 1000
                times[label].append(taken[label])
            saved.append(taken["theirs"] - taken["ours"])
    for label, samples in times.items():
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        print(
            f"  {kind:9} {label:7} p50 {statistics.median(samples):6.1f}  p95 {p95:6.1f}  "
            f"mean {statistics.mean(samples):6.1f} ms"
        )
    faster = sum(s > 0 for s in saved)
    print(
        f"  {kind:9} paired: {statistics.median(saved):+.1f} ms (median, theirs - ours), "
        f"this checkout faster in {faster} of {len(saved)}"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
