"""Government terms and synonyms: data files an administrator edits, no code change.

Built-in lists are ``indexer/data/terms.txt`` and ``indexer/data/synonyms.txt``; files of
the same names in ``SARABAN_HOME/search/`` extend them, and a line ``-text`` there drops a
built-in entry (a term, or every synonym group that contains the expression). Both act on
queries only, so editing them never needs a reindex. A file is re-read when it changes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from saraban.indexer._thai import analyze

Tokens = tuple[str, ...]


@dataclass
class Vocabulary:
    """Terms and synonym groups, as token sequences, indexed for longest-match lookup."""

    terms: set[Tokens] = field(default_factory=set)
    groups: list[list[Tokens]] = field(default_factory=list)
    # Expressions written with ฯ ("กรมฯ", "ศูนย์ฯ"): abbreviations that stand for the other
    # expressions of their group, but that the others do not stand for (ฯ is not indexed,
    # so "กรมฯ" reads as "กรม": a query for กรมการพัฒนาชุมชน must not match every กรม).
    one_way: list[set[Tokens]] = field(default_factory=list)
    _by_first: dict[str, list[Tokens]] = field(default_factory=dict)
    _groups_of: dict[Tokens, list[int]] = field(default_factory=dict)

    def finish(self) -> Vocabulary:
        for i, group in enumerate(self.groups):
            for tokens in group:
                self._groups_of.setdefault(tokens, []).append(i)
        for tokens in self.terms | set(self._groups_of):
            self._by_first.setdefault(tokens[0], []).append(tokens)
        for candidates in self._by_first.values():
            candidates.sort(key=len, reverse=True)
        return self

    def longest_at(self, tokens: list[str], start: int) -> Tokens | None:
        """The longest known term or synonym expression starting at ``tokens[start]``."""
        for candidate in self._by_first.get(tokens[start], ()):
            if tuple(tokens[start : start + len(candidate)]) == candidate:
                return candidate
        return None

    def is_term(self, tokens: Tokens) -> bool:
        return tokens in self.terms

    def synonyms(self, tokens: Tokens) -> list[Tokens]:
        """Every expression meaning the same as ``tokens`` (itself first)."""
        found = [tokens]
        for i in self._groups_of.get(tokens, ()):
            abbreviation = tokens in self.one_way[i]
            found += [
                t
                for t in self.groups[i]
                if t not in found and (abbreviation or t not in self.one_way[i])
            ]
        return found


def _lines(text: str) -> list[str]:
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def _read(name: str, home: Path | None) -> tuple[list[str], list[str]]:
    """(lines to add, expressions to drop): the built-in file, then the instance's."""
    lines = _lines(files(__package__).joinpath("data", name).read_text("utf-8"))
    drops: list[str] = []
    if home is not None:
        own = home / "search" / name
        if own.is_file():
            for line in _lines(own.read_text("utf-8")):
                if line.startswith("-"):
                    drops.append(line[1:].strip())
                else:
                    lines.append(line)
    return lines, drops


def build_vocabulary(home: Path | None, engine: str) -> Vocabulary:
    vocabulary = Vocabulary()
    terms, drops = _read("terms.txt", home)
    dropped = {tuple(analyze(d, engine=engine)) for d in drops}
    for term in terms:
        tokens = tuple(analyze(term, engine=engine))
        if tokens and tokens not in dropped:
            vocabulary.terms.add(tokens)
    lines, drops = _read("synonyms.txt", home)
    dropped = {tuple(analyze(d, engine=engine)) for d in drops}
    for line in lines:
        group: list[Tokens] = []
        one_way: set[Tokens] = set()
        for expression in line.split("="):
            tokens = tuple(analyze(expression, engine=engine))
            if tokens and tokens not in group:
                group.append(tokens)
            if tokens and expression.strip().endswith("ฯ"):
                one_way.add(tokens)
        if len(group) > 1 and not dropped.intersection(group):
            vocabulary.groups.append(group)
            vocabulary.one_way.append(one_way)
    return vocabulary.finish()


_cache: dict[tuple[str | None, str], tuple[tuple, Vocabulary]] = {}
_lock = threading.Lock()


def _stamp(home: Path | None) -> tuple:
    if home is None:
        return ()
    stamps: list[tuple[str, int | None, int | None]] = []
    for name in ("terms.txt", "synonyms.txt"):
        try:
            stat = os.stat(home / "search" / name)
            stamps.append((name, stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append((name, None, None))
    return tuple(stamps)


def vocabulary(home: Path | None, engine: str) -> Vocabulary:
    """The vocabulary for an instance, re-read when its files change."""
    key = (str(home) if home else None, engine)
    stamp = _stamp(home)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    built = build_vocabulary(home, engine)
    with _lock:
        _cache[key] = (stamp, built)
    return built
