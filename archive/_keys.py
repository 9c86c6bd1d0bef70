"""The signing key and certificate of each unit, kept in the instance folder.

``<home>/keys/<unit>/`` holds ``key.pem`` (the private key, PKCS#8, unencrypted: the
service signs unattended), ``cert.pem`` (the unit's certificate) and, when the certificate
was issued by a certification authority, ``chain.pem`` (its CA certificates). ``<unit>`` is
the unit's prefix in its plain form (``นค ๐๐๑๙.๓`` -> ``นค0019.3``). The folders are made
0700 and the files 0600 whatever the umask, and a key whose files others could read is
refused, as ssh refuses one: the key is the office's signature.

A key comes from an office's own certification authority (``import_key_pkcs12``,
``import_key_pem``), or is made here, self-signed, for trying signing out
(``create_self_signed_key``); a self-signed certificate says so in its subject and is shown as
such wherever it appears. Replacing a unit's key moves the old folder to
``keys/retired/``; letters signed with it keep verifying, because the archive stores the
certificate of every signature it made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saraban.errors import BadRequest, NotFound, SarabanError
from saraban.thai import RefNoError, parse_ref_no

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from saraban.archive._archive import Archive
    from saraban.archive._records import UnitInfo

KEYS_FOLDER = "keys"
KEY_FILE, CERT_FILE, CHAIN_FILE = "key.pem", "cert.pem", "chain.pem"
DEFAULT_DAYS = 3 * 365
SELF_SIGNED_MARK = "ใบรับรองทดลองที่ลงนามเอง (self-signed, for trying only)"
_RSA_MIN_BITS = 2048
_EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_CN_MAX_BYTES = 64  # X.509 ub-common-name, counted in UTF-8 bytes by `cryptography`
_DIR_MODE, _FILE_MODE = 0o700, 0o600


class SigningKeyError(BadRequest):
    """A key or certificate that cannot be used for signing; the message says why."""


@dataclass(frozen=True)
class UnitKey:
    """What a unit signs with, as shown to a clerk (never the private key itself)."""

    unit: str  # the unit's prefix, "นค ๐๐๑๙.๓"
    folder: Path
    subject: str
    issuer: str
    self_signed: bool
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str  # SHA-256 of the certificate (DER), hex
    key_type: str  # "RSA 3072", "EC secp256r1"
    chain: int  # CA certificates kept beside it
    problems: tuple[str, ...] = ()  # loose permissions, expiry: why it cannot sign now

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "folder": str(self.folder),
            "subject": self.subject,
            "issuer": self.issuer,
            "self_signed": self.self_signed,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "fingerprint": self.fingerprint,
            "key_type": self.key_type,
            "chain": self.chain,
            "problems": list(self.problems),
        }


# ---- where keys live -------------------------------------------------------------------------


def folder_name(prefix: str) -> str:
    """The folder of a unit's key: its prefix without spaces, in Arabic digits."""
    try:
        ref = parse_ref_no(f"{prefix}/1")
    except RefNoError as exc:
        raise BadRequest(
            f"unit: เลขประจำส่วนราชการ {prefix!r} ไม่ถูกต้อง / bad unit {prefix!r}"
        ) from exc
    if not ref.code:
        raise BadRequest(f"unit: {prefix!r} ไม่ใช่เลขประจำส่วนราชการ / not a unit prefix")
    return f"{ref.code}{ref.unit}"


def keys_root(home: Path) -> Path:
    return Path(home) / KEYS_FOLDER


def unit_folder(home: Path, prefix: str) -> Path:
    return keys_root(home) / folder_name(prefix)


def find_unit(archive: Archive, unit: str) -> UnitInfo:
    """The unit named by its prefix, typed in Thai or Arabic digits, with or without spaces."""
    wanted = folder_name(unit)
    for info in archive.units():
        if folder_name(info.prefix) == wanted:
            return info
    raise NotFound(f"unit: ไม่พบส่วนราชการ {unit!r} / no unit {unit!r}")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, _DIR_MODE)  # mkdir's mode is cut by the umask, and an old folder keeps its own


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        os.fchmod(fd, _FILE_MODE)  # whatever the umask took away or left
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _loose(path: Path, wanted: int) -> str | None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~wanted:
        return (
            f"สิทธิ์ของ {path} เปิดให้ผู้อื่นอ่านได้ ({mode:04o}) ให้แก้ด้วย chmod {wanted:o} / "
            f"{path} is open to others (mode {mode:04o}): chmod {wanted:o} {path}"
        )
    return None


# ---- reading ---------------------------------------------------------------------------------


def _sha256(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _name(name: x509.Name) -> str:
    return ", ".join(f"{a.oid._name}={a.value!s}" for a in reversed(list(name)))


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issued by itself: its own key verifies its signature (not only a matching name)."""
    if cert.issuer != cert.subject:
        return False
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _key_type(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def _load_certs(data: bytes, what: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise SigningKeyError(
            f"{what}: อ่านใบรับรองไม่ได้ (ต้องเป็น PEM หรือ DER) / cannot read the certificate "
            f"(PEM or DER expected): {exc}"
        ) from exc


def read_unit_key(home: Path, prefix: str) -> UnitKey | None:
    """The unit's key as a clerk sees it, or None when it has none."""
    folder = unit_folder(home, prefix)
    cert_path = folder / CERT_FILE
    if not cert_path.is_file() or not (folder / KEY_FILE).is_file():
        return None
    cert = _load_certs(cert_path.read_bytes(), str(cert_path))[0]
    chain_path = folder / CHAIN_FILE
    chain = _load_certs(chain_path.read_bytes(), str(chain_path)) if chain_path.is_file() else []
    problems = [
        p
        for p in (
            _loose(keys_root(home), _DIR_MODE),
            _loose(folder, _DIR_MODE),
            _loose(folder / KEY_FILE, _FILE_MODE),
        )
        if p
    ]
    now = dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc < now:
        problems.append(
            f"ใบรับรองหมดอายุแล้วเมื่อ {cert.not_valid_after_utc:%Y-%m-%d} / the certificate "
            f"expired on {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    elif cert.not_valid_before_utc > now:
        problems.append(
            f"ใบรับรองยังไม่เริ่มใช้ได้จนถึง {cert.not_valid_before_utc:%Y-%m-%d} / the "
            f"certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
        )
    return UnitKey(
        unit=prefix,
        folder=folder,
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        self_signed=is_self_signed(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=_sha256(cert),
        key_type=_key_type(cert.public_key()),
        chain=len(chain),
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class SigningMaterial:
    """What signing needs, read from the unit's folder; only archive code holds one."""

    key_pem: bytes = b""
    cert_der: bytes = b""
    chain_der: tuple[bytes, ...] = ()
    self_signed: bool = False

    def __repr__(self) -> str:  # never print the key
        return f"SigningMaterial(cert={hashlib.sha256(self.cert_der).hexdigest()[:12]}…)"


def signing_material(home: Path, prefix: str) -> SigningMaterial:
    """The unit's key, certificate and chain, or a clear error saying how to get a key."""
    from cryptography.hazmat.primitives.serialization import Encoding

    info = read_unit_key(home, prefix)
    if info is None:
        raise SigningKeyError(
            f"ส่วนราชการ {prefix} ยังไม่มีกุญแจสำหรับลงนาม ให้นำเข้าด้วย saraban keys import "
            f"หรือสร้างกุญแจทดลองด้วย saraban keys create --unit '{prefix}' / unit {prefix} has "
            "no signing key: import one (saraban keys import) or make a self-signed one to try "
            "(saraban keys create)"
        )
    if info.problems:
        raise SigningKeyError(
            f"กุญแจของ {prefix} ใช้ลงนามไม่ได้ / cannot sign: " + "; ".join(info.problems)
        )
    folder = info.folder
    cert = _load_certs((folder / CERT_FILE).read_bytes(), CERT_FILE)[0]
    chain_path = folder / CHAIN_FILE
    chain = _load_certs(chain_path.read_bytes(), CHAIN_FILE) if chain_path.is_file() else []
    return SigningMaterial(
        key_pem=(folder / KEY_FILE).read_bytes(),
        cert_der=cert.public_bytes(Encoding.DER),
        chain_der=tuple(c.public_bytes(Encoding.DER) for c in chain),
        self_signed=info.self_signed,
    )


def list_signing_keys(archive: Archive) -> list[tuple[UnitInfo, UnitKey | None]]:
    """Every unit of the archive with its key (None: it has none yet)."""
    return [(unit, read_unit_key(archive.home, unit.prefix)) for unit in archive.units()]


# ---- checking and storing --------------------------------------------------------------------


def _check_pair(key: PrivateKeyTypes, cert: x509.Certificate) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _RSA_MIN_BITS:
            raise SigningKeyError(
                f"กุญแจ RSA ต้องยาวอย่างน้อย {_RSA_MIN_BITS} บิต / an RSA key needs at least "
                f"{_RSA_MIN_BITS} bits, this one has {key.key_size}"
            )
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in _EC_CURVES:
            raise SigningKeyError(
                f"ใช้เส้นโค้ง {key.curve.name} ไม่ได้ / the curve {key.curve.name} is not "
                f"supported: use one of {', '.join(_EC_CURVES)}"
            )
    else:
        raise SigningKeyError(
            f"กุญแจชนิด {type(key).__name__} ใช้ไม่ได้ ต้องเป็น RSA หรือ EC / the key must be RSA "
            f"or EC, not {type(key).__name__}"
        )
    der = PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(Encoding.DER, der) != cert.public_key().public_bytes(
        Encoding.DER, der
    ):
        raise SigningKeyError(
            "กุญแจกับใบรับรองไม่เข้าคู่กัน / the private key does not belong to the certificate"
        )
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SigningKeyError(
            f"ใบรับรองใช้ได้เฉพาะ {cert.not_valid_before_utc:%Y-%m-%d} ถึง "
            f"{cert.not_valid_after_utc:%Y-%m-%d} / the certificate is valid only from "
            f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise SigningKeyError(
            "ใบรับรองนี้ไม่ได้ออกให้ใช้ลงลายมือชื่อ (key usage) / the certificate's key usage "
            "allows neither digital signatures nor non-repudiation"
        )


def _store(
    archive: Archive,
    unit: UnitInfo,
    key: PrivateKeyTypes,
    cert: x509.Certificate,
    chain: Iterable[x509.Certificate],
    *,
    replace: bool,
    actor: str,
    how: str,
) -> UnitKey:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    _check_pair(key, cert)
    root = keys_root(archive.home)
    _private_dir(root)
    target = unit_folder(archive.home, unit.prefix)
    if target.exists() and not replace:
        raise SarabanError(
            f"ส่วนราชการ {unit.prefix} มีกุญแจอยู่แล้ว ใช้ --replace เพื่อเปลี่ยน (กุญแจเดิมจะย้ายไปเก็บใน "
            f"{root / 'retired'}) / unit {unit.prefix} already has a key: give --replace to "
            "change it (the old one is moved to keys/retired)",
            status=409,
        )
    staging = root / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    _private_dir(staging)
    try:
        key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _write_private(staging / KEY_FILE, key_pem)
        _write_private(staging / CERT_FILE, cert.public_bytes(Encoding.PEM))
        chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
        if chain_pem:
            _write_private(staging / CHAIN_FILE, chain_pem)
        if target.exists():
            retired = root / "retired"
            _private_dir(retired)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            os.replace(target, retired / f"{target.name}-{stamp}")
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    made = read_unit_key(archive.home, unit.prefix)
    assert made is not None
    archive.audit(
        "key.install",
        {
            "unit": unit.prefix,
            "how": how,
            "fingerprint": made.fingerprint,
            "subject": made.subject,
            "self_signed": made.self_signed,
            "replaced": replace,
        },
        actor=actor,
    )
    return made


def _common_name(unit: UnitInfo) -> str:
    for candidate in (unit.name, unit.prefix):
        if len(candidate.encode()) <= _CN_MAX_BYTES:
            return candidate
    return unit.prefix.encode()[:_CN_MAX_BYTES].decode(errors="ignore")


def create_self_signed_key(
    archive: Archive,
    unit: str,
    *,
    actor: str,
    days: int = DEFAULT_DAYS,
    replace: bool = False,
) -> UnitKey:
    """A new RSA-3072 key and a self-signed certificate for the unit, for trying signing:
    anyone can make one, so it proves only that the archive made the file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 20 * 366:
        raise BadRequest(f"days: ต้องเป็น ๑ ถึง ๗๓๒๐ วัน / must be 1 to 7320 days, not {days!r}")
    info = find_unit(archive, unit)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, info.name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, SELF_SIGNED_MARK),
            x509.NameAttribute(NameOID.COMMON_NAME, _common_name(info)),
        ]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _store(archive, info, key, cert, [], replace=replace, actor=actor, how="self-signed")


def import_key_pkcs12(
    archive: Archive,
    unit: str,
    data: bytes,
    password: bytes | None,
    *,
    actor: str,
    replace: bool = False,
) -> UnitKey:
    """Install a key and certificate (and CA chain) from a PKCS#12 file (.p12, .pfx)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    info = find_unit(archive, unit)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password or None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            "อ่านไฟล์ PKCS#12 ไม่ได้ รหัสผ่านผิดหรือไฟล์ไม่ใช่ .p12 / cannot open the PKCS#12 "
            "file: wrong password, or not a .p12/.pfx file"
        ) from exc
    if key is None or cert is None:
        raise SigningKeyError(
            "ไฟล์ PKCS#12 ต้องมีทั้งกุญแจและใบรับรอง / the PKCS#12 file must hold both a private "
            "key and its certificate"
        )
    return _store(archive, info, key, cert, extra, replace=replace, actor=actor, how="pkcs12")


def import_key_pem(
    archive: Archive,
    unit: str,
    key_data: bytes,
    cert_data: bytes,
    chain_data: bytes | None = None,
    password: bytes | None = None,
    *,
    actor: str,
    replace: bool = False,
) -> UnitKey:
    """Install a PEM private key (encrypted with ``password`` or not) and its certificate
    (PEM or DER), with the CA certificates of ``chain_data`` (PEM) if given."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    info = find_unit(archive, unit)
    try:
        key = load_pem_private_key(key_data, password or None)
    except TypeError as exc:
        raise SigningKeyError(
            "กุญแจถูกเข้ารหัสไว้ ต้องใส่รหัสผ่าน / the private key is encrypted: give its password"
            if password is None
            else "กุญแจไม่ได้เข้ารหัสไว้ ไม่ต้องใส่รหัสผ่าน / the key is not encrypted: give no password"
        ) from exc
    except ValueError as exc:
        raise SigningKeyError(
            "อ่านกุญแจไม่ได้ (ต้องเป็น PEM) หรือรหัสผ่านผิด / cannot read the private key (PEM "
            "expected) or the password is wrong"
        ) from exc
    certs = _load_certs(cert_data, "cert")
    chain = _load_certs(chain_data, "chain") if chain_data else certs[1:]
    return _store(archive, info, key, certs[0], chain, replace=replace, actor=actor, how="pem")
