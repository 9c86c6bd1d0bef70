"""``saraban serve``, ``saraban user`` and ``saraban token``: the web service's commands.

``serve`` runs the app under waitress (a production WSGI server in pure Python, not
Flask's development server) in one process, or with ``--workers N`` under gunicorn: a
pre-fork server whose N processes each open the archive, the index and the service's
tables for themselves (nothing is opened before the fork) and answer with
``SARABAN_THREADS`` threads, so issuing and rendering use every core. waitress stays the
one-process server: it is what the tests and offices on one core have run all along.
What the processes share is in the instance folder: the database, the index (its own
file lock), the progress of long jobs (``<home>/jobs``). One of them, the holder of
``<home>/.serve-leader.lock``, finishes what a crash left pending.
``--demo`` fills a fresh instance with the seed letters, a unit and register, and a demo
login, so a new user sees something real at once.
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import getpass
import json
import logging
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from saraban.errors import BadRequest, NotFound
from saraban.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "data" / "seeds"
EXAMPLE = REPO / "examples" / "circular.letter.json"
DEMO_UNIT = "นค ๐๐๑๙.๓"
DEMO_USER = "demo"


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the web service (waitress; gunicorn with --workers N)",
        description="Run the web service on SARABAN_HOME: one process under waitress, or "
        "N processes under gunicorn (--workers, SARABAN_WORKERS), each with SARABAN_THREADS "
        "threads. Stop it with Ctrl-C.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes (default SARABAN_WORKERS, 1): 1 runs waitress, more run gunicorn",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="fill a fresh instance with the seed letters, a unit and a demo login",
    )
    serve.set_defaults(func=_serve)

    user = sub.add_parser("user", help="web service accounts").add_subparsers(
        dest="user_command", metavar="ACTION", required=True
    )
    add = user.add_parser("add", help="add a user (the password is asked for)")
    add.add_argument("name")
    add.add_argument("--role", choices=("clerk", "admin"), default="clerk")
    add.add_argument("--clearance", choices=("ลับ", "ลับมาก", "ลับที่สุด"), default=None)
    add.add_argument("--display-name", help="the name shown on pages")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=_user_add)
    listing = user.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_user_list)
    passwd = user.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=_user_passwd)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", metavar="ACTION", required=True
    )
    create = token.add_parser("create", help="make a token for a user; printed once")
    create.add_argument("name", help="the user the token acts as")
    create.add_argument("--label", help="what uses the token")
    create.set_defaults(func=_token_create)
    tokens = token.add_parser("list", help="list tokens (never the tokens themselves)")
    tokens.set_defaults(func=_token_list)
    revoke = token.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_token_revoke)

    repair = sub.add_parser(
        "repair",
        help="finish what a crash left half done / ซ่อมสิ่งที่ค้างจากเครื่องหยุดกะทันหัน",
        description="Render once more and issue the letters a crash left pending (or record "
        "their numbers unused), settle drafts and import batches caught between the archive "
        "and the service, and close the instance folder to other users (0700/0600).",
    )
    repair.set_defaults(func=_repair)


# ---- opening ---------------------------------------------------------------------------------


@contextmanager
def _opened() -> Iterator[tuple[Any, Any]]:
    """The archive and the service's tables of SARABAN_HOME, closed after use."""
    from saraban.archive import open_settings_archive
    from saraban.service._config import check_instance
    from saraban.service._store import Store
    from saraban.usecases import recovery

    settings = Settings.load()
    check_instance(settings.home)
    archive = open_settings_archive(settings)
    try:
        store = Store(archive)
        try:
            recovery.on_open(archive, store)
            yield archive, store
        finally:
            store.close()
    finally:
        archive.close()


def _actor() -> str:
    from saraban.archive import default_actor

    return default_actor()


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("รหัสผ่าน / password: ")
    second = getpass.getpass("อีกครั้ง / again: ")
    if first != second:
        raise BadRequest("password: รหัสผ่านสองครั้งไม่ตรงกัน / the passwords differ")
    return first


# ---- users and tokens ------------------------------------------------------------------------


def _user_add(args: argparse.Namespace) -> int:
    password = _read_password(args)
    with _opened() as (archive, store):
        user = store.add_user(
            args.name,
            password,
            role=args.role,
            clearance=args.clearance,
            display_name=args.display_name,
        )
        archive.audit(
            "user.add",
            {"user": user.name, "role": user.role, "clearance": user.clearance},
            actor=_actor(),
        )
    clearance = f", ชั้นความลับ {user.clearance}" if user.clearance else ""
    print(f"เพิ่มผู้ใช้ {user.name} ({user.role}{clearance}) แล้ว / added user {user.name}")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    with _opened() as (_archive, store):
        users = store.users()
    if args.json:
        print(json.dumps([u.as_dict() for u in users], ensure_ascii=False, indent=2))
        return 0
    for u in users:
        state = "" if u.active else "\t(ปิดใช้งาน / disabled)"
        print(f"{u.name}\t{u.role}\t{u.clearance or '-'}{state}")
    return 0


def _user_passwd(args: argparse.Namespace) -> int:
    password = _read_password(args)
    with _opened() as (archive, store):
        user = store.user_by_name(args.name)
        if user is None:
            raise NotFound(f"ไม่พบผู้ใช้ {args.name} / no user {args.name}")
        store.set_password(user.id, password)
        archive.audit("user.password", {"user": user.name}, actor=_actor())
    print(f"ตั้งรหัสผ่านของ {args.name} แล้ว / password set")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    with _opened() as (archive, store):
        user = store.user_by_name(args.name)
        if user is None:
            raise NotFound(f"ไม่พบผู้ใช้ {args.name} (เพิ่มด้วย saraban user add) / no user {args.name}")
        token, info = store.create_token(user.id, args.label)
        archive.audit(
            "token.create",
            {"user": user.name, "token_id": info.id, "label": info.label},
            actor=_actor(),
        )
    print(
        f"โทเค็นของ {user.name} (แสดงครั้งเดียว เก็บไว้ให้ดี) / token for {user.name}, shown once:",
        file=sys.stderr,
    )
    print(token)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    with _opened() as (_archive, store):
        tokens = store.tokens()
    for t in tokens:
        state = "revoked" if t.revoked else "live"
        print(f"{t.id}\t{t.user}\t{t.label or '-'}\t{t.created_at:%Y-%m-%d}\t{state}")
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    with _opened() as (archive, store):
        store.revoke_token(args.id)
        archive.audit("token.revoke", {"token_id": args.id}, actor=_actor())
    print(f"เพิกถอนโทเค็น {args.id} แล้ว / token {args.id} revoked")
    return 0


def _repair(args: argparse.Namespace) -> int:
    from saraban.archive import close_up
    from saraban.usecases import recovery

    with _opened() as (archive, store):
        done = recovery.finish(archive, store) + close_up(archive.home)
    for line in done:
        print(line)
    print(f"ซ่อมแล้ว {len(done)} รายการ / {len(done)} things repaired")
    return 0


# ---- serving ---------------------------------------------------------------------------------


def fill_demo(app: Any) -> list[str]:
    """A fresh instance made real: a unit with its register, the seed letters imported, one
    circular issued, and a demo login. Returns what was done, one line each."""
    from saraban.errors import SarabanError
    from saraban.usecases.importing import import_file

    archive = app.extensions["archive"]
    store = app.extensions["saraban_store"]
    done = []
    if not archive.units():
        archive.add_unit(
            DEMO_UNIT,
            "ศาลากลางจังหวัดหนองคาย",
            address=["ถนนมิตรภาพ นค ๔๓๐๐๐"],
            phone="๐ ๔๒๔๑ ๑๑๘๒",
            fax="๐ ๔๒๔๑ ๑๑๘๒",
            footer="หนองคายเมืองน่าอยู่",
            signer={"name": "นายไพโรจน์ โสภาพร", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
            actor="demo",
        )
        store.add_signer(
            "นายสมชาย ใจดี",
            ["รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน", "ผู้ว่าราชการจังหวัดหนองคาย"],
            DEMO_UNIT,
        )
        done.append(f"ส่วนราชการและทะเบียน {DEMO_UNIT} ศาลากลางจังหวัดหนองคาย")
    if not archive.letters(limit=1):
        count = 0
        for path in sorted(SEEDS.glob("*.txt")):
            try:
                import_file(archive, path, actor="demo")
                count += 1
            except SarabanError as exc:
                done.append(f"นำเข้า {path.name} ไม่ได้: {exc.message}")
        done.append(f"นำเข้าหนังสือตัวอย่าง {count} ฉบับ")
        if EXAMPLE.exists():
            letter = json.loads(EXAMPLE.read_text("utf-8"))
            letter["ref_no"] = None
            letter["date"] = None
            issued = archive.issue(letter, DEMO_UNIT, actor="demo")
            done.append(f"ออกหนังสือเวียนตัวอย่าง ที่ {issued.ref_no}")
    password = secrets.token_urlsafe(9)
    existing = store.user_by_name(DEMO_USER)
    if existing is None:
        store.add_user(DEMO_USER, password, role="admin", clearance="ลับ", display_name="ผู้ใช้ทดลอง")
    else:
        store.set_password(existing.id, password)
    done.append(f"เข้าสู่ระบบด้วย ชื่อผู้ใช้ {DEMO_USER} รหัสผ่าน {password}")
    return done


def _finish_in_background(app: Any) -> None:
    from saraban.usecases import recovery

    try:
        for line in recovery.finish(app.extensions["archive"], app.extensions["saraban_store"]):
            print(f"saraban: repaired after a crash: {line}", flush=True)
    except Exception:  # noqa: BLE001 - reported; the service goes on
        logging.getLogger("saraban.service").exception("finishing pending letters failed")


LEADER_LOCK = ".serve-leader.lock"


def take_lead(app: Any) -> bool:
    """Whether this process leads the instance's serving processes: the one that holds
    ``<home>/.serve-leader.lock`` (an OS lock, released when the process ends, so a
    process started after the leader died takes over). Kept until :func:`close_app`."""
    path = Path(app.config["SARABAN_HOME"]) / LEADER_LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    app.extensions["saraban_leader_lock"] = fd
    return True


def start_background(app: Any) -> None:
    """What each serving process starts: it syncs what commands queued for the index while
    the service was down (each process may; the index takes writers in turn), and the
    leader renders again the letters a crash left pending, in the background: the service
    answers at once, and one bad letter cannot stop it. The preview render processes
    start now, not on the first preview."""
    app.extensions["saraban_search"].poke()
    app.extensions["saraban_previews"].start()
    if take_lead(app):
        threading.Thread(
            target=_finish_in_background, args=(app,), daemon=True, name="saraban-repair"
        ).start()
        # Files dropped in SARABAN_HOME/inbox/ are taken in by the leader alone.
        from saraban.service._inbox import start_watching

        app.extensions["saraban_inbox_stop"] = start_watching(app)
    settle()


def settle() -> None:
    """What the process holds once started (the app, its settings, the tables of the Thai
    analyzer and the renderer) it holds for life: moved out of the cycle collector's reach
    (``gc.freeze``), so that its full passes walk only what requests make. Over a started
    service's 160,000 objects such a pass took about 95 ms, inside whichever request
    allocated at that moment; over the frozen ones it takes none."""
    gc.collect()  # what startup left as garbage is freed, not kept for good
    gc.freeze()


def _serve(args: argparse.Namespace) -> int:
    from saraban.service import create_app

    workers = args.workers if args.workers is not None else Settings.load().workers
    if not 1 <= workers <= 64:
        raise BadRequest(f"--workers: ต้องเป็น 1 ถึง 64 / must be 1 to 64, not {workers}")
    url = f"http://{args.host}:{args.port}/"
    serving = f"saraban: เปิดใช้งานที่ {url} (หยุดด้วย Ctrl-C) / serving on {url}"
    if workers > 1:
        # gunicorn forks its processes from this one, which must hold no database, index
        # or native thread pool (OpenCV's, tantivy's) then: the instance is opened once
        # first (a bad setting said once, the schema brought up to date once, --demo
        # filled once) in a child process of its own.
        status = _prepare_in_child(args.demo)
        if status:
            return status
        print(serving, flush=True)
        _serve_gunicorn(args, workers)
        return 0
    app = create_app()
    try:
        if args.demo:
            for line in fill_demo(app):
                print(f"demo: {line}", flush=True)
        print(serving, flush=True)
        _serve_waitress(app, args)
    finally:
        stop_serving(app)
    return 0


def stop_serving(app: Any) -> None:
    """What a serving process does as it ends (SIGTERM, Ctrl-C, a gunicorn worker
    replaced): the inbox stops looking, the app closes, and the reading processes are
    stopped, not waited for (a folder of scans queued for OCR held the process minutes
    after SIGTERM; its files stay in the folder and are read at the next start)."""
    from saraban.service import close_app
    from saraban.usecases import intake

    if (watching := app.extensions.get("saraban_inbox_stop")) is not None:
        watching.set()
    intake.stop_readers()
    close_app(app)


def _prepare_in_child(demo: bool) -> int:
    import subprocess

    code = f"from saraban.service._cli import prepare_instance; prepare_instance({demo!r})"
    return subprocess.run([sys.executable, "-c", code], check=False).returncode


def prepare_instance(demo: bool) -> None:
    """Open the instance as the service does (and fill it with --demo), then close it; the
    exit status says how it went, the errors are on stderr."""
    from saraban.errors import SarabanError
    from saraban.service import close_app, create_app

    try:
        app = create_app()
    except SarabanError as exc:
        print(f"saraban: {exc.message}", file=sys.stderr)
        sys.exit(2 if 400 <= exc.status < 500 else 1)
    try:
        if demo:
            for line in fill_demo(app):
                print(f"demo: {line}", flush=True)
    finally:
        close_app(app)


def _serve_waitress(app: Any, args: argparse.Namespace) -> None:
    import waitress

    start_background(app)
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=app.config["SARABAN_THREADS"],
        ident="saraban",
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        clear_untrusted_proxy_headers=True,
    )


def _serve_gunicorn(args: argparse.Namespace, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from saraban.service import create_app

    settings = Settings.load()
    host = f"[{args.host}]" if ":" in args.host else args.host
    options: dict[str, Any] = {
        "bind": [f"{host}:{args.port}"],
        "workers": workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": 120,  # a process silent this long is replaced (gthread beats while busy)
        "graceful_timeout": 30,
        "keepalive": 5,
        "forwarded_allow_ips": "",  # trust no X-Forwarded-* header, as waitress is told
        "proxy_allow_ips": "",
        "umask": 0o077,
        "proc_name": "saraban",
        "errorlog": "-",
        "loglevel": "warning",
        "control_socket_disable": True,  # no control socket in the user's home
        "worker_exit": lambda _server, worker: stop_serving(worker.wsgi),
    }

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = create_app()
            start_background(app)
            return app

    Server().run()
