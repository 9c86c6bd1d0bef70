"""The instance folder holds secret letters: everything in it is for its owner only,
folders 0700 and files 0600 (stored letters 0400: they never change), whatever the umask.

What the archive creates itself is created with those modes; :func:`keep_private` adds
``077`` to the process's umask, so that what the search index, SQLite's journal or an
import batch creates inside the folder is private too; :func:`exposed` lists what another
user could read (``saraban verify``), :func:`close_up` takes the access away
(``saraban repair``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
STORED_FILE_MODE = 0o400  # a stored letter is never rewritten
_OTHERS = 0o077


def keep_private() -> None:
    """From now on this process creates nothing that its user's group or others can read
    (the umask gains 077; the owner's own bits are left as they were)."""
    current = os.umask(_OTHERS)
    os.umask(current | _OTHERS)


def private_folder(path: Path) -> Path:
    """The folder, created (with any missing parents) as 0700; an existing one is made
    0700 if it is open to others."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, FOLDER_MODE)
        except FileExistsError:
            pass
    mode = path.stat().st_mode
    if mode & _OTHERS:
        os.chmod(path, stat.S_IMODE(mode) & ~_OTHERS)
    return path


def private_file(path: Path) -> None:
    """Create an empty file as 0600 unless it exists; an existing one (of an instance made
    before) is closed to others. SQLite keeps its database in it, and gives its journal
    files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & _OTHERS:
            os.chmod(path, stat.S_IMODE(mode) & ~_OTHERS)


def _walk(home: Path) -> Iterator[Path]:
    yield home
    for folder, folders, files in os.walk(home):
        for name in folders + files:
            yield Path(folder) / name


def exposed(home: Path) -> list[tuple[Path, int]]:
    """Everything in the instance folder (the folder too) that its group or other users
    may read, write or enter, with its mode; symbolic links are not followed."""
    found = []
    for path in _walk(home):
        try:
            info = path.lstat()
        except FileNotFoundError:  # gone meanwhile (a temporary file)
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        if info.st_mode & _OTHERS:
            found.append((path, stat.S_IMODE(info.st_mode)))
    return found


def close_up(home: Path) -> list[str]:
    """Take group and other access away from everything :func:`exposed` finds; a line
    for each."""
    done = []
    for path, mode in exposed(home):
        os.chmod(path, mode & ~_OTHERS)
        done.append(f"{path}: mode {mode:04o} -> {mode & ~_OTHERS:04o}")
    return done
