"""The signing commands: ``saraban keys create|import|list``, ``saraban sign`` and
``saraban sign-check``. Each opens the archive in the instance folder (SARABAN_HOME)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from saraban.archive._archive import Archive, default_actor, open_settings_archive
from saraban.archive._keys import (
    DEFAULT_DAYS,
    UnitKey,
    create_self_signed_key,
    import_key_pem,
    import_key_pkcs12,
    list_signing_keys,
)
from saraban.archive._signing import FileCheck, check_file, sign_letter
from saraban.errors import BadRequest
from saraban.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="units' signing keys / กุญแจสำหรับลงนาม")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = keys_sub.add_parser(
        "create",
        help="make a self-signed key to try signing / สร้างกุญแจทดลอง (ลงนามเอง)",
        description="A new RSA-3072 key and a self-signed certificate for the unit. It is for "
        "trying signing out: the verification page says it is self-signed.",
    )
    create.add_argument("--unit", required=True, help='the unit\'s prefix, e.g. "นค ๐๐๑๙.๓"')
    create.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity in days")
    create.add_argument("--replace", action="store_true", help="replace the unit's key")
    create.add_argument("--json", action="store_true")
    create.add_argument("--actor", help="who does it, for the audit trail (default: your login)")
    create.set_defaults(func=_create)

    imp = keys_sub.add_parser(
        "import",
        help="install the office's own key and certificate / นำเข้ากุญแจและใบรับรอง",
        description="Install a key from a PKCS#12 file (FILE.p12 or .pfx), or from a PEM key "
        "with --key and --cert (and --chain for the CA certificates).",
    )
    imp.add_argument("file", nargs="?", type=Path, help="a PKCS#12 file (.p12, .pfx)")
    imp.add_argument("--unit", required=True, help='the unit\'s prefix, e.g. "นค ๐๐๑๙.๓"')
    imp.add_argument("--key", type=Path, help="private key (PEM)")
    imp.add_argument("--cert", type=Path, help="certificate (PEM or DER)")
    imp.add_argument("--chain", type=Path, help="CA certificates (PEM)")
    imp.add_argument(
        "--password-stdin", action="store_true", help="read the file's password from stdin"
    )
    imp.add_argument("--replace", action="store_true", help="replace the unit's key")
    imp.add_argument("--json", action="store_true")
    imp.add_argument("--actor", help="who does it, for the audit trail (default: your login)")
    imp.set_defaults(func=_import)

    lst = keys_sub.add_parser("list", help="each unit and its key / กุญแจของแต่ละส่วนราชการ")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)

    sign = sub.add_parser(
        "sign",
        help="sign an issued letter for sending / ลงนามหนังสือเพื่อส่งทางอิเล็กทรอนิกส์",
        description="The letter's PDF/A signed by its unit (PAdES), with a QR code that opens "
        "the verification page (SARABAN_BASE_URL). Signing again with the same key gives the "
        "same file.",
    )
    sign.add_argument("id", type=int, help="the letter's id (saraban letters list)")
    sign.add_argument("-o", "--output", type=Path, help="write the signed PDF here")
    sign.add_argument("--unit", help="sign with this unit's key (default: the issuing unit)")
    sign.add_argument("--json", action="store_true")
    sign.add_argument("--actor", help="who does it, for the audit trail (default: your login)")
    sign.set_defaults(func=_sign)

    check = sub.add_parser(
        "sign-check",
        help="is this PDF a letter this archive signed? / ตรวจสอบไฟล์หนังสือที่ลงนาม",
        description="Exit 0 when the file is exactly one the archive signed and its signature "
        "holds, 1 otherwise.",
    )
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_check)


def _open() -> Archive:
    return open_settings_archive(Settings.load())


def _say(text: str) -> None:
    sys.stdout.write(f"{text}\n")


def _print_json(value: Any) -> None:
    _say(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadRequest(
            f"{what}: อ่านไฟล์ {path} ไม่ได้ / cannot read {path}: {exc.strerror}"
        ) from exc


def _show_key(key: UnitKey, as_json: bool) -> None:
    if as_json:
        _print_json(key.as_dict())
        return
    kind = "ลงนามเอง (self-signed)" if key.self_signed else f"ออกโดย / issued by {key.issuer}"
    _say(f"{key.unit}\t{key.key_type}\t{kind}")
    _say(f"  ใบรับรอง / certificate: {key.subject}")
    _say(f"  ใช้ได้ถึง / valid until: {key.not_after:%Y-%m-%d}\tSHA-256 {key.fingerprint}")
    _say(f"  เก็บที่ / kept in: {key.folder}")
    for problem in key.problems:
        _say(f"  ! {problem}")


def _create(args: argparse.Namespace) -> int:
    with _open() as archive:
        key = create_self_signed_key(
            archive,
            args.unit,
            days=args.days,
            replace=args.replace,
            actor=args.actor or default_actor(),
        )
    _show_key(key, args.json)
    return 0


def _password(args: argparse.Namespace) -> bytes | None:
    if args.password_stdin:
        return sys.stdin.buffer.readline().rstrip(b"\r\n")
    if sys.stdin.isatty():
        entered = getpass.getpass("รหัสผ่าน (เว้นว่างถ้าไม่มี) / password (empty for none): ")
        return entered.encode() or None
    return None


def _import(args: argparse.Namespace) -> int:
    actor = args.actor or default_actor()
    if args.file is not None:
        if args.key or args.cert or args.chain:
            raise BadRequest(
                "ให้ระบุไฟล์ PKCS#12 หรือ --key กับ --cert อย่างใดอย่างหนึ่ง / give either a "
                "PKCS#12 file or --key and --cert, not both"
            )
        data = _read(args.file, "file")
        with _open() as archive:
            key = import_key_pkcs12(
                archive, args.unit, data, _password(args), actor=actor, replace=args.replace
            )
    else:
        if not (args.key and args.cert):
            raise BadRequest(
                "ต้องระบุไฟล์ PKCS#12 หรือทั้ง --key และ --cert / give a PKCS#12 file, or both "
                "--key and --cert"
            )
        key_data = _read(args.key, "--key")
        password = _password(args) if b"ENCRYPTED" in key_data else None
        with _open() as archive:
            key = import_key_pem(
                archive,
                args.unit,
                key_data,
                _read(args.cert, "--cert"),
                _read(args.chain, "--chain") if args.chain else None,
                password,
                actor=actor,
                replace=args.replace,
            )
    _show_key(key, args.json)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _open() as archive:
        found = list_signing_keys(archive)
    if args.json:
        _print_json(
            {
                "units": [
                    {"unit": u.prefix, "name": u.name, "key": k.as_dict() if k else None}
                    for u, k in found
                ]
            }
        )
        return 0
    for unit, key in found:
        if key is None:
            _say(f"{unit.prefix}\t{unit.name}\tยังไม่มีกุญแจ / no key")
        else:
            _show_key(key, False)
    return 0


def _sign(args: argparse.Namespace) -> int:
    with _open() as archive:
        settings = Settings.load()
        signed = sign_letter(
            archive,
            args.id,
            args.unit,
            actor=args.actor or default_actor(),
            base=settings.base_url,
            tsa_url=settings.tsa_url,
        )
        if args.output is not None:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.output.with_name(f".{args.output.name}.part")
            tmp.write_bytes(signed.path.read_bytes())
            tmp.replace(args.output)
    if args.json:
        _print_json(signed.as_dict())
        return 0
    _say(f"{signed.ref_no}\t{signed.path if args.output is None else args.output}")
    _say(f"  ตรวจสอบได้ที่ / verify at: {signed.url}")
    if not signed.new:
        _say("  (ลงนามไว้แล้วด้วยกุญแจนี้ / signed earlier with this key: the same file)")
    if signed.timestamped:
        _say("  ประทับเวลาโดยผู้ให้บริการประทับเวลา / timestamped by the authority (PAdES B-T)")
    if signed.self_signed:
        _say("  ! ใบรับรองทดลองที่ลงนามเอง / a self-signed certificate, for trying only")
    return 0


def _check(args: argparse.Namespace) -> int:
    data = _read(args.file, "file")
    with _open() as archive:
        result = check_file(archive, data)
    if args.json:
        _print_json(result.as_dict())
    else:
        _say(_describe(result))
    return 0 if result.authentic else 1


def _describe(result: FileCheck) -> str:
    letter = result.letter
    if result.authentic and letter:
        head = f"ถูกต้อง: เป็นไฟล์ที่สารบรรณนี้ลงนาม / authentic: signed by this archive ({letter.ref_no})"
    elif result.match == "signed_then_changed" and letter:
        head = (
            f"มีการเพิ่มเติมหลังลงนาม / changed after signing: holds {letter.ref_no} as signed, "
            "with later additions"
        )
    elif result.match == "issued" and letter:
        head = f"เป็นไฟล์ที่ออกโดยยังไม่ได้ลงนาม / the issued file, unsigned ({letter.ref_no})"
    else:
        head = "ไม่ตรงกับไฟล์ใดที่สารบรรณนี้ออกหรือลงนาม / not a file this archive issued or signed"
    lines = [head]
    for sig in result.signatures:
        state = "ใช้ได้ / valid" if sig.valid else "ไม่ถูกต้อง / NOT valid"
        lines.append(f"  ลายมือชื่อ / signature: {state}: {sig.signer or sig.error}")
    return "\n".join(lines)
