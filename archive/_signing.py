"""Signed electronic letters: the issued PDF/A, signed by the office (PAdES B-B, pyHanko),
with a QR code that opens the public verification page; and the checks that page makes.

A signed copy is the issued PDF plus one incremental update: a visible signature in the
top margin of page one (the QR code, and who signed when, in Thai in the embedded Sarabun
font), so the issued layout is untouched and the letter's text layer and its embedded
``letter.json`` are those of the issued file. The document's metadata (Info dictionary and
XMP) is left as issued, so the copy stays PDF/A-3b. It is stored like the issued files
(content-addressed under ``files/``, recorded in ``files``) and recorded in the table
``signatures`` with the unguessable token its QR code carries: the verification page finds
a letter by that token, never by its id.

Secret letters are never signed for sending. The public answers (:class:`PublicLetter`)
carry the reference number, date and units of a letter, nothing of its content.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from saraban.archive import _audit
from saraban.archive._files import sha256_bytes
from saraban.archive._keys import (
    SigningMaterial,
    find_unit,
    is_self_signed,
    keys_root,
    signing_material,
)
from saraban.archive._models import (
    CANCELLED,
    ISSUED,
    Base,
    Letter,
    StoredFile,
    Unit,
    utcnow,
)
from saraban.errors import BadRequest, Conflict, NotFound, SarabanError, TooLarge

if TYPE_CHECKING:
    from pathlib import Path

    from saraban.archive._archive import Archive

PDF_TYPE = "application/pdf"
CERT_TYPE = "application/pkix-cert"
SIGNATURE_FIELD = "saraban-signature"
VERIFY_PATH = "/v/"
DEFAULT_BASE_URL = "http://localhost:8000"  # SARABAN_BASE_URL's default
MAX_CHECK_BYTES = 20 * 1024 * 1024  # a signed letter is tens of kB; enclosures are separate
MAX_SIGNATURES_CHECKED = 8
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16): 128 random bits

# The stamp sits in page one's top margin (2.5 cm, templates/letter.css), right of the
# centred emblem and above the first line, so the issued layout needs no room made for it.
# A memo's emblem and large heading reach higher (to about 1.6 cm from the top), so its
# stamp is a lower band. tests/test_signing.py checks every kind against the words on the
# page and reads the QR code back from the rendered page.
_CM = 72 / 2.54
STAMP_LEFT, STAMP_RIGHT = 12.6 * _CM, 19 * _CM  # from the page's left edge, A4
STAMP_BAND = (0.35 * _CM, 2.3 * _CM)  # from the page's top edge
MEMO_STAMP_BAND = (0.2 * _CM, 1.5 * _CM)
_STAMP_FONT = "Sarabun-Regular.ttf"
_STAMP_INNSEP = 2


class Signature(Base):
    """One signed copy of an issued letter (the file that is sent). Never changed."""

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("letter_id", "certificate_sha256", name="uq_signatures_letter_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(500))  # what the QR code opens
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the signed PDF
    issued_sha256: Mapped[str] = mapped_column(String(64))  # the PDF/A it was made from
    certificate_sha256: Mapped[str] = mapped_column(String(64))  # stored in files/ too
    # The timestamp authority's certificate (B-T; stored in files/), trusted as it was then.
    tsa_certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    self_signed: Mapped[bool] = mapped_column(Boolean)
    signed_at: Mapped[dt.datetime]
    signed_by: Mapped[str] = mapped_column(String(200))


class SigningRefused(Conflict):
    """This letter cannot be signed for sending (secret, not issued, cancelled)."""


@dataclass(frozen=True)
class SignedLetter:
    """A signed copy as the archive keeps it."""

    id: int
    letter_id: int
    ref_no: str
    unit: str  # prefix of the signing unit
    token: str
    url: str  # what the QR code opens (the base URL of the time it was signed)
    sha256: str
    issued_sha256: str
    certificate_sha256: str
    self_signed: bool
    signed_at: dt.datetime
    signed_by: str
    path: Path
    timestamped: bool  # PAdES B-T: the signature carries a timestamp authority's token
    new: bool  # made by this call (False: an earlier copy signed with the same key)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["signed_at"] = self.signed_at.isoformat()
        d["path"] = str(self.path)
        return d


@dataclass(frozen=True)
class PublicLetter:
    """What anyone holding the QR code may learn: that this archive issued the letter,
    under which number, on which date, by which unit; and who signed the copy when.
    Nothing of the content."""

    ref_no: str
    date: dt.date
    unit: str  # issuing unit's prefix
    unit_name: str
    status: str  # issued or cancelled
    cancelled_on: dt.date | None
    signed_by_unit: str | None = None  # None: the issued PDF itself, not a signed copy
    signed_by_unit_name: str | None = None
    signed_at: dt.datetime | None = None
    self_signed: bool = False
    certificate_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref_no": self.ref_no,
            "date": self.date.isoformat(),
            "unit": self.unit,
            "unit_name": self.unit_name,
            "status": self.status,
            "cancelled_on": self.cancelled_on.isoformat() if self.cancelled_on else None,
            "signed_by_unit": self.signed_by_unit,
            "signed_by_unit_name": self.signed_by_unit_name,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "self_signed": self.self_signed,
            "certificate_sha256": self.certificate_sha256,
        }


@dataclass(frozen=True)
class SignatureCheck:
    """One signature of an uploaded file, as pyHanko's validator judged it."""

    valid: bool  # intact, cryptographically sound, and made by a certificate of this archive
    intact: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    self_signed: bool
    signed_at: dt.datetime | None
    certificate_sha256: str | None
    error: str | None = None
    timestamp: dt.datetime | None = None  # a timestamp authority's time, when it holds

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        d["timestamp"] = self.timestamp.isoformat() if self.timestamp else None
        return d


# What an uploaded file is, compared with what the archive keeps.
SIGNED, SIGNED_THEN_CHANGED, ISSUED_UNSIGNED = "signed", "signed_then_changed", "issued"


@dataclass(frozen=True)
class FileCheck:
    sha256: str
    size: int
    match: str | None  # SIGNED, SIGNED_THEN_CHANGED, ISSUED_UNSIGNED or None
    letter: PublicLetter | None
    signatures: list[SignatureCheck]
    readable: bool  # a PDF pyHanko could read
    for_token: bool | None  # when asked through a token: is it that letter's file?

    @property
    def authentic(self) -> bool:
        """Exactly a file this archive signed, and its signature holds."""
        return (
            self.match == SIGNED
            and bool(self.signatures)
            and all(s.valid for s in self.signatures)
            and self.for_token is not False
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "authentic": self.authentic,
            "sha256": self.sha256,
            "size": self.size,
            "match": self.match,
            "letter": self.letter.as_dict() if self.letter else None,
            "signatures": [s.as_dict() for s in self.signatures],
            "readable": self.readable,
            "for_token": self.for_token,
        }


# ---- settings --------------------------------------------------------------------------------


def base_url(value: str) -> str:
    """The address SARABAN_BASE_URL gives, checked: http(s), a host, no query or fragment."""
    raw = value.strip()
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or not raw.isascii()
        or any(c.isspace() for c in raw)
    ):
        raise SarabanError(
            f"SARABAN_BASE_URL: ต้องเป็นที่อยู่เว็บแบบ https://saraban.example.go.th / must be "
            f"an http(s) address such as https://saraban.example.go.th, not {raw!r}"
        )
    return raw.rstrip("/")


def timestamper(url: str | None) -> Any:
    """A client of the timestamp authority SARABAN_TSA_URL gives, or None: B-B."""
    raw = (url or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or not raw.isascii():
        raise SarabanError(
            f"SARABAN_TSA_URL: ต้องเป็นที่อยู่เว็บของผู้ให้บริการประทับเวลา / must be the http(s) "
            f"address of an RFC 3161 timestamp authority, not {raw!r}"
        )
    return _timestamp_client(raw)


_TSA_TIMEOUT = 15  # seconds
_TSA_MAX_REPLY = 1024 * 1024


def _timestamp_client(url: str) -> Any:
    import asyncio
    import urllib.error
    import urllib.request

    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    class UrllibTimeStamper(TimeStamper):
        """RFC 3161 over HTTP with the standard library, each connection closed when its
        answer is read (pyHanko's aiohttp client can leave its socket to the garbage
        collector when the event loop of a synchronous call ends)."""

        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            def post() -> bytes:
                request = urllib.request.Request(
                    url,
                    data=req.dump(),
                    headers={
                        "Content-Type": "application/timestamp-query",
                        "Accept": "application/timestamp-reply",
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=_TSA_TIMEOUT) as response:
                        kind = response.headers.get("Content-Type")
                        body = response.read(_TSA_MAX_REPLY + 1)
                except (OSError, urllib.error.URLError) as exc:
                    raise TimestampRequestError(f"{url}: {exc}") from exc
                if kind != "application/timestamp-reply" or len(body) > _TSA_MAX_REPLY:
                    raise TimestampRequestError(f"{url}: not a timestamp reply ({kind})")
                return body

            return tsp.TimeStampResp.load(await asyncio.to_thread(post))

    return UrllibTimeStamper()


def _timestamp_certificate(signed: bytes, cert_der: bytes) -> bytes | None:
    """The certificate of the timestamp authority that stamped ``signed`` (DER), if its
    token holds (checked by pyHanko's validator with that certificate as trusted)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import extract_certificate_info
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    tokens = [
        attr["values"][0]["content"]
        for attr in embedded.signer_info["unsigned_attrs"] or []
        if attr["type"].native == "signature_time_stamp_token"
    ]
    if len(tokens) != 1:
        return None
    tsa_cert = extract_certificate_info(tokens[0]).signer_cert
    roots = [asn1_x509.Certificate.load(cert_der), tsa_cert]
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    token = validate_pdf_signature(embedded, context).timestamp_validity
    if token is None or not (token.intact and token.valid and token.trusted):
        return None
    return bytes(tsa_cert.dump())


def verify_url(token: str, base: str = DEFAULT_BASE_URL) -> str:
    return f"{base_url(base)}{VERIFY_PATH}{token}"


# ---- signing ---------------------------------------------------------------------------------


def _stamp_font_path() -> Path:
    from saraban.fonts import SARABUN_DIR

    return SARABUN_DIR / _STAMP_FONT


@functools.cache
def _drawable() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(_stamp_font_path(), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _stamp_text(text: str) -> str:
    """One line the stamp font can draw: no line breaks or invisible characters, and '?'
    for a character Sarabun lacks (PDF/A forbids showing the font's empty .notdef glyph)."""
    drawable = _drawable()
    out = []
    for c in " ".join(text.split()):
        if unicodedata.category(c) in ("Cc", "Cf"):
            continue
        out.append(c if ord(c) in drawable or c == " " else "?")
    return "".join(out)


def _signed_at_text(moment: dt.datetime) -> str:
    from saraban.thai import thai_date, to_thai_digits

    local = moment.astimezone()
    return f"{thai_date(local.date(), 'letter')} เวลา {to_thai_digits(local.strftime('%H.%M'))} น."


def _stamp_lines(unit_name: str, moment: dt.datetime, self_signed: bool) -> list[str]:
    lines = [
        "ลงลายมือชื่ออิเล็กทรอนิกส์โดย",
        _stamp_text(unit_name),
        _signed_at_text(moment),
        "สแกนคิวอาร์โค้ดเพื่อตรวจสอบหนังสือฉบับนี้",
    ]
    if self_signed:
        lines.append("ใบรับรองทดลองที่ลงนามเอง ใช้ทดลองเท่านั้น")
    return lines


@functools.lru_cache(maxsize=16)
def _private_key(key_pem: bytes) -> Any:
    """The unit's key, parsed once per process and key (it was checked when installed)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(key_pem, None, unsafe_skip_rsa_key_validation=True)


@functools.cache
def _stamp_font_bytes() -> bytes:
    return _stamp_font_path().read_bytes()


def _stamp_font_factory() -> Any:
    from pyhanko.pdf_utils.font.api import FontEngineFactory
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator

    class StampFont(FontEngineFactory):
        """Sarabun for the stamp text (pyHanko's own factory opens the font file and never
        closes it)."""

        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(_stamp_font_bytes()),
                font_size=7,
                bcp47_lang_code="th",
                obj_stream=obj_stream,
            )

    return StampFont()


def _sign_pdf(
    pdf: bytes,
    material: SigningMaterial,
    *,
    url: str,
    lines: list[str],
    location: str,
    low_band: bool = False,
    stamper: Any = None,
) -> bytes:
    """The issued PDF with one incremental update: the visible PAdES signature and a link
    over its QR code."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.stamp import QRPosition, QRStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class KeepIssuedMetadata(IncrementalPdfFileWriter):
        """PDF/A wants the Info dictionary and the XMP metadata to agree; pyHanko writes its
        name and a modification date into them, differently in each (and re-compresses the
        XMP). A signature does not change what the document is: keep both as issued."""

        def _update_meta(self) -> None:
            return

    key = _private_key(material.key_pem)

    class KeyLoadedOnce(signers.SimpleSigner):
        """pyHanko parses the key again for each signature it makes (two per file: one to
        measure, one to keep), and OpenSSL re-checks an RSA key each time (a third of a
        second for 3072 bits); the key, checked when it was installed, is parsed once."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            digest = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), digest)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(digest))
            return super().sign_raw(data, digest_algorithm)

    signer = KeyLoadedOnce(
        signing_cert=asn1_x509.Certificate.load(material.cert_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(der) for der in material.chain_der]
        ),
    )
    writer = KeepIssuedMetadata(io.BytesIO(pdf))
    page_ref, _resources = writer.find_page_for_modification(0)
    llx, _lly, _urx, ury = (float(v) for v in page_ref.get_object()["/MediaBox"])
    top, bottom = MEMO_STAMP_BAND if low_band else STAMP_BAND
    box = (
        round(llx + STAMP_LEFT),
        round(ury - bottom),
        round(llx + STAMP_RIGHT),
        round(ury - top),
    )
    qr_side = box[3] - box[1]
    qr_rect = (box[2] - qr_side, box[1], box[2], box[3])
    link = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
            generic.pdf_name("/Subtype"): generic.pdf_name("/Link"),
            generic.pdf_name("/Rect"): generic.ArrayObject(
                [generic.FloatObject(v) for v in qr_rect]
            ),
            generic.pdf_name("/F"): generic.NumberObject(4),  # Print: PDF/A wants it set
            generic.pdf_name("/Border"): generic.ArrayObject([generic.NumberObject(0)] * 3),
            generic.pdf_name("/A"): generic.DictionaryObject(
                {
                    generic.pdf_name("/S"): generic.pdf_name("/URI"),
                    generic.pdf_name("/URI"): generic.pdf_string(url),
                }
            ),
        }
    )
    writer.register_annotation(page_ref, writer.add_object(link))
    style = QRStampStyle(
        stamp_text="\n".join(line.replace("%", "%%") for line in lines),
        text_box_style=TextBoxStyle(font=_stamp_font_factory(), font_size=7, leading=9),
        border_width=0,
        background=None,
        innsep=_STAMP_INNSEP,
        qr_position=QRPosition.RIGHT_OF_TEXT,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        location=location,
        reason="หนังสือราชการอิเล็กทรอนิกส์ / official letter sent electronically",
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=stamper,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD, on_page=0, box=box),
    )
    out = pdf_signer.sign_pdf(writer, appearance_text_params={"url": url})
    return bytes(out.getbuffer())


def _signed_letter(
    archive: Archive, row: Signature, ref_no: str, prefix: str, new: bool
) -> SignedLetter:
    return SignedLetter(
        id=row.id,
        letter_id=row.letter_id,
        ref_no=ref_no,
        unit=prefix,
        token=row.token,
        url=row.url,
        sha256=row.sha256,
        issued_sha256=row.issued_sha256,
        certificate_sha256=row.certificate_sha256,
        self_signed=row.self_signed,
        signed_at=row.signed_at,
        signed_by=row.signed_by,
        path=archive.files.path(row.sha256),
        timestamped=row.tsa_certificate_sha256 is not None,
        new=new,
    )


def sign_letter(
    archive: Archive,
    letter_id: int,
    unit: str | None = None,
    *,
    actor: str | None = None,
    base: str = DEFAULT_BASE_URL,
    tsa_url: str | None = None,
) -> SignedLetter:
    """Sign an issued letter's PDF/A with ``unit``'s key (default: the unit that issued
    it), store and record the signed copy, and return it. A letter already signed with
    the same key is not signed again: its earlier copy is returned (``new`` False).

    Refuses secret letters, letters not issued by this archive, and cancelled ones.
    ``base`` is the verification site's address (SARABAN_BASE_URL), ``tsa_url`` the
    timestamp authority's (SARABAN_TSA_URL; None: no timestamp).
    """
    from saraban.archive._archive import default_actor

    actor = actor or default_actor()
    record = archive.get(letter_id)
    if record.secrecy:
        raise SigningRefused(
            f"หนังสือ {letter_id} เป็นหนังสือลับ ({record.secrecy}) จึงไม่ลงนามเพื่อส่งทางอิเล็กทรอนิกส์ / "
            f"letter {letter_id} is secret: secret letters are never signed for sending"
        )
    if record.status != ISSUED or not record.pdf_sha256 or not record.unit:
        raise SigningRefused(
            f"หนังสือ {letter_id} ไม่ใช่หนังสือที่ออกเลขแล้วของสารบรรณนี้ (สถานะ {record.status}) / "
            f"letter {letter_id} is not a letter issued here and in force (status "
            f"{record.status})"
        )
    signer_unit = find_unit(archive, unit or record.unit)
    material = signing_material(archive.home, signer_unit.prefix)
    cert_sha = hashlib.sha256(material.cert_der).hexdigest()
    with archive._read() as s:
        existing = s.scalar(
            select(Signature).where(
                Signature.letter_id == letter_id, Signature.certificate_sha256 == cert_sha
            )
        )
    if existing is not None:
        damaged = archive.files.check(existing.sha256)
        if damaged:
            raise SarabanError(
                f"สำเนาที่ลงนามไว้ของหนังสือ {letter_id} เสียหาย / the signed copy of letter "
                f"{letter_id} is damaged (run saraban verify): {damaged}"
            )
        return _signed_letter(archive, existing, record.ref_no or "", signer_unit.prefix, False)

    problem = archive.files.check(record.pdf_sha256)
    if problem:
        raise SarabanError(f"ไฟล์ PDF ที่ออกไว้เสียหาย ลงนามไม่ได้ / the issued PDF is damaged: {problem}")
    token = secrets.token_urlsafe(16)
    url = verify_url(token, base)
    stamper = timestamper(tsa_url)
    now = utcnow()
    try:
        signed = _sign_pdf(
            archive.files.read(record.pdf_sha256),
            material,
            url=url,
            lines=_stamp_lines(signer_unit.name, now, material.self_signed),
            location=signer_unit.name,
            low_band=archive.letter_document(letter_id).get("kind") == "memo",
            stamper=stamper,
        )
    except Exception as exc:
        from pyhanko.sign.timestamps.common_utils import TimestampRequestError

        if not isinstance(exc, TimestampRequestError):
            raise
        raise SarabanError(
            f"SARABAN_TSA_URL: ขอประทับเวลาไม่สำเร็จ / the timestamp authority did not answer: {exc}",
            status=502,
        ) from exc
    tsa_der = _timestamp_certificate(signed, material.cert_der) if stamper is not None else None
    if stamper is not None and tsa_der is None:
        raise SarabanError(
            "SARABAN_TSA_URL: ตราประทับเวลาที่ได้รับใช้ไม่ได้ / the timestamp token received does not hold",
            status=502,
        )
    tsa_sha = hashlib.sha256(tsa_der).hexdigest() if tsa_der else None
    sha = archive.files.put(signed)
    archive.files.put(material.cert_der)
    if tsa_der:
        archive.files.put(tsa_der)
    try:
        with archive._write() as s:
            for digest, data, media_type in (
                (sha, signed, PDF_TYPE),
                (cert_sha, material.cert_der, CERT_TYPE),
                *([(tsa_sha, tsa_der, CERT_TYPE)] if tsa_sha and tsa_der else []),
            ):
                s.execute(
                    archive._insert(StoredFile)
                    .values(sha256=digest, size=len(data), media_type=media_type, created_at=now)
                    .on_conflict_do_nothing()
                )
            row = Signature(
                letter_id=letter_id,
                unit_id=signer_unit.id,
                token=token,
                url=url,
                sha256=sha,
                issued_sha256=record.pdf_sha256,
                certificate_sha256=cert_sha,
                tsa_certificate_sha256=tsa_sha,
                self_signed=material.self_signed,
                signed_at=now,
                signed_by=actor,
            )
            s.add(row)
            s.flush()
            _audit.append(
                s,
                actor=actor,
                action="letter.sign",
                letter_id=letter_id,
                detail={
                    "ref_no": record.ref_no,
                    "unit": signer_unit.prefix,
                    "sha256": sha,
                    "issued_sha256": record.pdf_sha256,
                    "certificate_sha256": cert_sha,
                    "tsa_certificate_sha256": tsa_sha,
                    "self_signed": material.self_signed,
                },
            )
    except IntegrityError:
        # Another process signed it with the same key a moment ago: keep its copy, and
        # take back the file that nobody will record.
        archive.files.path(sha).unlink(missing_ok=True)
        with archive._read() as s:
            earlier = s.scalar(
                select(Signature).where(
                    Signature.letter_id == letter_id, Signature.certificate_sha256 == cert_sha
                )
            )
        if earlier is None:
            raise
        return _signed_letter(archive, earlier, record.ref_no or "", signer_unit.prefix, False)
    return _signed_letter(archive, row, record.ref_no or "", signer_unit.prefix, True)


def sign_issued(
    archive: Archive,
    letter_id: int,
    unit: str | None = None,
    *,
    actor: str | None = None,
    base: str = DEFAULT_BASE_URL,
    tsa_url: str | None = None,
) -> bytes:
    """The signed PDF of an issued letter, ready to send (signed now, or the copy signed
    earlier with the same key); see :func:`sign_letter`."""
    signed = sign_letter(archive, letter_id, unit, actor=actor, base=base, tsa_url=tsa_url)
    return signed.path.read_bytes()


def signed_copies(archive: Archive, letter_id: int) -> list[SignedLetter]:
    """Every signed copy of a letter, oldest first."""
    with archive._read() as s:
        rows = s.execute(
            select(Signature, Letter.ref_no, Unit.prefix)
            .join(Letter, Letter.id == Signature.letter_id)
            .join(Unit, Unit.id == Signature.unit_id)
            .where(Signature.letter_id == letter_id)
            .order_by(Signature.id)
        ).all()
    return [_signed_letter(archive, row, ref or "", prefix, False) for row, ref, prefix in rows]


# ---- what the public may learn ---------------------------------------------------------------


def _public(archive: Archive, signature: Signature) -> PublicLetter | None:
    with archive._read() as s:
        letter = s.get(Letter, signature.letter_id)
        if letter is None or letter.secrecy or letter.status not in (ISSUED, CANCELLED):
            return None  # never signed: refused; answered as "not found" all the same
        issuer = s.get(Unit, letter.unit_id) if letter.unit_id else None
        signer = s.get(Unit, signature.unit_id)
        if issuer is None or signer is None or letter.date is None or not letter.ref_no:
            return None
        return PublicLetter(
            ref_no=letter.ref_no,
            date=letter.date,
            unit=issuer.prefix,
            unit_name=issuer.name,
            status=letter.status,
            cancelled_on=_cancelled_on(letter),
            signed_by_unit=signer.prefix,
            signed_by_unit_name=signer.name,
            signed_at=signature.signed_at,
            self_signed=signature.self_signed,
            certificate_sha256=signature.certificate_sha256,
        )


def _cancelled_on(letter: Letter) -> dt.date | None:
    if letter.status != CANCELLED or letter.closed_at is None:
        return None
    return letter.closed_at.astimezone().date()


def _signature(archive: Archive, **where: str) -> Signature | None:
    ((column, value),) = where.items()
    with archive._read() as s:
        return s.scalar(select(Signature).where(getattr(Signature, column) == value))


def letter_for_token(archive: Archive, token: str) -> PublicLetter:
    """The letter behind a QR code's token, or NotFound (also for anything malformed)."""
    found = _signature(archive, token=token) if TOKEN_RE.fullmatch(token or "") else None
    public = _public(archive, found) if found is not None else None
    if public is None:
        raise NotFound("ไม่พบหนังสือตามคิวอาร์โค้ดนี้ในสารบรรณ / no letter of this archive has this code")
    return public


def _trust_roots(archive: Archive) -> dict[str, bytes]:
    """Every certificate the archive signed with, and each unit's present one, by SHA-256."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots: dict[str, bytes] = {}
    with archive._read() as s:
        shas = set(s.scalars(select(Signature.certificate_sha256).distinct()))
        shas |= set(
            s.scalars(
                select(Signature.tsa_certificate_sha256)
                .where(Signature.tsa_certificate_sha256.is_not(None))
                .distinct()
            )
        )
    for sha in sorted(shas):
        if archive.files.check(sha) is None:
            roots[sha] = archive.files.read(sha)
    for path in sorted(keys_root(archive.home).glob("*/cert.pem")):
        for cert in x509.load_pem_x509_certificates(path.read_bytes())[:1]:
            der = cert.public_bytes(Encoding.DER)
            roots[hashlib.sha256(der).hexdigest()] = der
    return roots


def _check_signatures(
    archive: Archive, data: bytes
) -> tuple[bool, list[tuple[SignatureCheck, str]]]:
    """(readable, [(check, SHA-256 of the revision the signature covers)])."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)[:MAX_SIGNATURES_CHECKED]
    except Exception:  # noqa: BLE001 - any unreadable upload is "not a PDF we can read"
        return False, []
    roots = [asn1_x509.Certificate.load(der) for der in _trust_roots(archive).values()]
    results = []
    for sig in embedded:
        try:
            start, length = int(sig.byte_range[-2]), int(sig.byte_range[-1])
            revision_sha = sha256_bytes(data[: start + length])
        except Exception:  # noqa: BLE001
            revision_sha = ""
        recorded = _signature(archive, sha256=revision_sha) if revision_sha else None
        context = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,
            revocation_mode="soft-fail",
            moment=recorded.signed_at if recorded else None,
        )
        try:
            status = validate_pdf_signature(sig, context)
            cert = status.signing_cert
            token = status.timestamp_validity
            token_holds = token is None or bool(token.intact and token.valid and token.trusted)
            check = SignatureCheck(
                valid=bool(status.intact and status.valid and status.trusted and token_holds),
                intact=bool(status.intact),
                trusted=bool(status.trusted),
                covers_whole_file=status.coverage is not None
                and status.coverage.name == "ENTIRE_FILE",
                signer=cert.subject.human_friendly,
                self_signed=_asn1_self_signed(cert.dump()),
                signed_at=status.signer_reported_dt,
                certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
                timestamp=token.timestamp if token is not None and token_holds else None,
            )
        except Exception as exc:  # noqa: BLE001 - a broken signature is an answer, not a 500
            check = SignatureCheck(
                valid=False,
                intact=False,
                trusted=False,
                covers_whole_file=False,
                signer="",
                self_signed=False,
                signed_at=None,
                certificate_sha256=None,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
        results.append((check, revision_sha))
    return True, results


def _asn1_self_signed(der: bytes) -> bool:
    from cryptography import x509

    return is_self_signed(x509.load_der_x509_certificate(der))


def check_file(archive: Archive, data: bytes, *, token: str | None = None) -> FileCheck:
    """Is ``data`` exactly a file this archive signed (or issued), and do its signatures
    hold? With ``token``: is it the file of that QR code's letter?"""
    if len(data) > MAX_CHECK_BYTES:
        raise TooLarge(
            f"ไฟล์ใหญ่เกิน {MAX_CHECK_BYTES // (1024 * 1024)} MB / the file is larger than "
            f"{MAX_CHECK_BYTES // (1024 * 1024)} MB"
        )
    if not data:
        raise BadRequest("file: ไฟล์ว่างเปล่า / the file is empty")
    wanted = None
    if token is not None:
        letter_for_token(archive, token)  # NotFound for a token that names nothing
        wanted = _signature(archive, token=token)
    sha = sha256_bytes(data)
    match: str | None = None
    letter: PublicLetter | None = None
    matched: Signature | None = _signature(archive, sha256=sha)
    if matched is not None:
        match = SIGNED
    readable, checks = _check_signatures(archive, data)
    if matched is None:
        for _check, revision_sha in checks:
            earlier = _signature(archive, sha256=revision_sha) if revision_sha else None
            if earlier is not None:
                matched, match = earlier, SIGNED_THEN_CHANGED
                break
    if matched is not None:
        letter = _public(archive, matched)
        if letter is None:
            matched, match = None, None
    else:
        letter = _issued_unsigned(archive, sha)
        match = ISSUED_UNSIGNED if letter is not None else None
    for_token = None
    if wanted is not None:
        for_token = matched is not None and matched.letter_id == wanted.letter_id
    return FileCheck(
        sha256=sha,
        size=len(data),
        match=match,
        letter=letter,
        signatures=[c for c, _ in checks],
        readable=readable,
        for_token=for_token,
    )


def _issued_unsigned(archive: Archive, sha: str) -> PublicLetter | None:
    """The issued PDF itself (before signing), unless secret."""
    with archive._read() as s:
        row = s.execute(
            select(Letter, Unit)
            .join(Unit, Unit.id == Letter.unit_id)
            .where(Letter.pdf_sha256 == sha, Letter.status.in_((ISSUED, CANCELLED)))
        ).first()
    if row is None:
        return None
    letter, unit = row
    if letter.secrecy or letter.date is None or not letter.ref_no:
        return None
    return PublicLetter(
        ref_no=letter.ref_no,
        date=letter.date,
        unit=unit.prefix,
        unit_name=unit.name,
        status=letter.status,
        cancelled_on=_cancelled_on(letter),
    )
