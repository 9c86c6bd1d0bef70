"""A throw-away PostgreSQL server for the tests: ``initdb`` into a temporary folder, started
with ``pg_ctl`` on a unix socket in that folder (no TCP port at all), stopped and removed at
the end of the session.

PostgreSQL refuses to run as root. When the tests run as root (CI does), the server runs as
an unprivileged user: ``postgres`` (Debian's package creates it) if it exists, else
``nobody``; the temporary folder is made theirs.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

PORT = 5432  # only names the socket file: the server listens on no TCP address
SUPERUSER = "saraban"


def find_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


class PostgresServer:
    """One server with its own data folder; :meth:`create_database` gives each test a
    fresh database."""

    def __init__(
        self, bin_dir: Path, *, base: Path | None = None, settings: tuple[str, ...] = ()
    ) -> None:
        """``base``: a folder that outlives the server (a benchmark's corpus, started again
        on the next run) instead of a temporary one; ``settings``: more ``-c`` options."""
        self.bin_dir = bin_dir
        self.user = _server_user()
        self.kept = base is not None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.base = base if base is not None else Path(tempfile.mkdtemp(prefix="saraban-pg-"))
        self.data = self.base / "data"
        self.settings = settings
        self.log = self.base / "server.log"
        self._names = itertools.count(1)
        self.started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        result = subprocess.run(
            args, capture_output=True, text=True, env=env, cwd=self.base, check=False, **kwargs
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n"
                f"{result.stderr}\n{log[-3000:]}"
            )
        return result

    def start(self) -> None:
        if self.user is not None:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self.base.chmod(0o755)  # the test process (root) reaches the socket through it
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        self._start()

    def _initdb(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def _start(self) -> None:
        options = " ".join(
            [
                f"-k {self.base}",
                "-c listen_addresses=''",
                f"-p {PORT}",
                "-c fsync=off",  # a test server: speed over durability
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                *(f"-c {setting}" for setting in self.settings),
            ]
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True

    def stop(self) -> None:
        if self.started:
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast" if self.kept else "immediate",  # a kept folder: no recovery next time
                    "-w",
                    "stop",
                )
            finally:
                self.started = False
        if not self.kept:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.base}&port={PORT}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (``name``: that database, made if it does not exist yet);
        returns its SQLAlchemy URL."""
        name = name or f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(
            host=str(self.base), port=PORT, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1].split("?", 1)[0]
        with psycopg.connect(
            host=str(self.base), port=PORT, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
