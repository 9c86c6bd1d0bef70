"""The ``saraban`` command line.

Every command is one row of :data:`COMMANDS`: its name, the module that defines its
arguments and runs it (through the module's ``register(subparsers)``), and the line
``saraban --help`` shows. Only the module of the command being run is imported: the
others, and the packages they need (SQLAlchemy, WeasyPrint, Flask, PyThaiNLP, ...), are
never loaded, so every command starts at once. Adding a command is one row here.

Exit status: 0 success, 2 invalid input (errors on stderr), 1 anything else that went wrong.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from saraban import __version__
from saraban.errors import SarabanError

# name: (module with register(subparsers), the one-line help; the same as the module gives
# add_parser, which tests/test_cli_registry.py checks). The order is the order of --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "render": (
        "saraban.templates._cli",
        "render a letter document to DOCX or PDF / พิมพ์หนังสือเป็น DOCX หรือ PDF",
    ),
    "validate": (
        "saraban.templates._cli",
        "check a letter document and list errors and warnings / ตรวจหนังสือ",
    ),
    "forms": (
        "saraban.templates._forms_cli",
        "report forms: list, fill, blank, inspect / แบบฟอร์มรายงาน",
    ),
    "register": ("saraban.archive._cli", "units and their registers / ส่วนราชการและทะเบียน"),
    "issue": ("saraban.archive._cli", "number, render and archive a letter / ออกเลขหนังสือ"),
    "reserve": ("saraban.archive._cli", "reserve the next number / จองเลข"),
    "release": ("saraban.archive._cli", "give up a reserved number (recorded unused) / คืนเลขจอง"),
    "cancel": ("saraban.archive._cli", "cancel an issued letter, keeping its number / ยกเลิกหนังสือ"),
    "receive": ("saraban.archive._cli", "enter a received letter / ลงทะเบียนรับ"),
    "letters": ("saraban.archive._cli", "letters in the archive / หนังสือในคลัง"),
    "verify": ("saraban.archive._cli", "re-check files, numbers and audit chain / ตรวจความครบถ้วน"),
    "registers": ("saraban.archive._cli", "registers out / พิมพ์ทะเบียน"),
    "retention": ("saraban.archive._cli", "retention / การเก็บรักษาหนังสือ"),
    "import": (
        "saraban.archive._cli",
        "import existing letters (.txt, .docx, .pdf) into the archive / นำเข้าหนังสือ",
    ),
    "consume": (
        "saraban.archive._cli",
        "take in every file in SARABAN_HOME/inbox/ and e-mails there / รับหนังสือจากโฟลเดอร์",
    ),
    "recipients": ("saraban.archive._circulars_cli", "address book of recipients / สมุดรายชื่อผู้รับ"),
    "holidays": (
        "saraban.archive._circulars_cli",
        "holiday calendar for working days / ปฏิทินวันหยุด",
    ),
    "send": (
        "saraban.archive._circulars_cli",
        "send an issued letter to recipients / ส่งหนังสือถึงผู้รับ",
    ),
    "tracking": ("saraban.archive._circulars_cli", "who received and replied / ติดตามการตอบกลับ"),
    "remind": ("saraban.archive._circulars_cli", "e-mail those who have not replied / ทวงถาม"),
    "consolidate": (
        "saraban.archive._circulars_cli",
        "merge the form replies into one table / สรุปผลการรายงาน",
    ),
    "mail": ("saraban.archive._circulars_cli", "the queue of outgoing e-mail / อีเมลที่รอส่ง"),
    "keys": ("saraban.archive._signing_cli", "units' signing keys / กุญแจสำหรับลงนาม"),
    "sign": (
        "saraban.archive._signing_cli",
        "sign an issued letter for sending / ลงนามหนังสือเพื่อส่งทางอิเล็กทรอนิกส์",
    ),
    "sign-check": (
        "saraban.archive._signing_cli",
        "is this PDF a letter this archive signed? / ตรวจสอบไฟล์หนังสือที่ลงนาม",
    ),
    "search": (
        "saraban.indexer._cli",
        "search the archive (Thai full text, reference numbers, filters) / ค้นหาหนังสือ",
    ),
    "reindex": (
        "saraban.indexer._cli",
        "rebuild the search index from the archive / สร้างดัชนีค้นหาใหม่",
    ),
    "serve": ("saraban.service._cli", "run the web service (waitress; gunicorn with --workers N)"),
    "user": ("saraban.service._cli", "web service accounts"),
    "token": ("saraban.service._cli", "API tokens"),
    "route": ("saraban.service._routing_cli", "send a received letter to users (เกษียน)"),
    "inbox": ("saraban.service._routing_cli", "received letters waiting for a user / รอดำเนินการ"),
    "done": (
        "saraban.service._routing_cli",
        "mark a received letter done for a user / ดำเนินการแล้ว",
    ),
    "delegation": (
        "saraban.service._routing_cli",
        "acting for another user: list, add, revoke / รักษาการแทน",
    ),
    "members": (
        "saraban.service._routing_cli",
        "who works in a unit (sees what is routed to it) / สมาชิกส่วนราชการ",
    ),
    "repair": (
        "saraban.service._cli",
        "finish what a crash left half done / ซ่อมสิ่งที่ค้างจากเครื่องหยุดกะทันหัน",
    ),
}


class _OneCommand:
    """The sub-parsers as a module's ``register`` sees them, keeping only ``name``: the
    module's other commands go to parsers that are thrown away (they are already listed,
    by their row in :data:`COMMANDS`)."""

    def __init__(self, subparsers: Any, name: str) -> None:
        self._subparsers = subparsers
        self._name = name

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if name == self._name:
            return self._subparsers.add_parser(name, **kwargs)
        return argparse.ArgumentParser(prog=name, add_help=False)


def command_name(argv: Sequence[str]) -> str | None:
    """The command in ``argv``: its first word that is not an option (the top level has
    only ``-h`` and ``--version``, which take no value)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed; only ``command`` (if it is one) gets its
    arguments, from its module, which is imported now."""
    parser = argparse.ArgumentParser(
        prog="saraban",
        description="งานสารบรรณ: Thai official letters, registers, archive and search.",
    )
    parser.add_argument("--version", action="version", version=f"saraban {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, helptext) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(_OneCommand(sub, name))
        else:
            sub.add_parser(name, help=helptext, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_name(argv))
    args = parser.parse_args(argv)
    previous = _stop_on_sigterm()
    try:
        return int(args.func(args) or 0)
    except SarabanError as exc:
        print(f"saraban: {exc.message}", file=sys.stderr)
        return 2 if 400 <= exc.status < 500 else 1
    except KeyboardInterrupt:
        print("saraban: interrupted / ยกเลิกแล้ว", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


def _stop_on_sigterm() -> Any:
    """SIGTERM (systemd, docker stop, a supervisor) ends a command as Ctrl-C does, through
    its ``finally`` blocks: ``saraban serve`` closes the service (what it counted, such as
    failed logins, is written) and the worker processes that read files and render
    previews stop with it instead of living on. The handler it replaces (None: not the
    main thread, where none can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminated)


if __name__ == "__main__":
    sys.exit(main())
