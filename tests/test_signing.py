"""Signed electronic letters on real parts: a real issued PDF/A signed with pyHanko, checked
with pyHanko's own validator, read back with poppler (text, page image) and pypdf (the
PDF/A-3b rules signing can break: tests/pdfa.py; veraPDF cannot be installed here), the QR
code decoded from the rendered page with zxing-cpp and followed to the public page.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import ARCHIVE_UNIT, DATA, make_letter
from pdfa import embedded_files, pdfa_problems
from pdfutil import pdftotext

from saraban.archive import (
    SigningKeyError,
    SigningRefused,
    check_file,
    create_self_signed_key,
    import_key_pem,
    import_key_pkcs12,
    letter_for_token,
    list_signing_keys,
    open_archive,
    sign_issued,
    sign_letter,
    signed_copies,
)
from saraban.archive._signing import TOKEN_RE
from saraban.cli import main
from saraban.errors import NotFound, SarabanError

pytestmark = pytest.mark.pdf

UNIT_NAME = "ศาลากลางจังหวัดหนองคาย"
CM = 72 / 2.54


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An archive with a self-signed key, and a letter signed with it; a secret letter."""
    home = tmp_path_factory.mktemp("signing") / "home"
    archive = open_archive(home)
    archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, address=["ถนนมิตรภาพ นค ๔๓๐๐๐"], actor="tester")
    create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester")
    issued = archive.issue(make_letter("ขอเชิญประชุมคณะทำงาน"), ARCHIVE_UNIT, actor="tester")
    secret = archive.issue(make_letter("เรื่องลับ", secrecy="ลับ"), ARCHIVE_UNIT, actor="tester")
    signed = sign_letter(archive, issued.id, actor="tester")
    try:
        yield archive, issued, signed, secret
    finally:
        archive.close()


def _validate(data: bytes, cert_pem: bytes):
    """pyHanko's validator, the unit's certificate as the only trust root."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = list(load_certs_from_pemder_data(cert_pem))
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    return signature, validate_pdf_signature(signature, context)


def _cert_pem(archive) -> bytes:
    ((_unit, key),) = list_signing_keys(archive)
    return (key.folder / "cert.pem").read_bytes()


# ---- the signed file --------------------------------------------------------------------------


def test_signed_letter_validates_with_pyhankos_validator(world):
    archive, issued, signed, _ = world
    data = signed.path.read_bytes()
    signature, status = _validate(data, _cert_pem(archive))
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.modification_level.name == "NONE"
    # PAdES baseline B-B: the ETSI sub-filter, the signing certificate bound by a signed
    # attribute, and no CMS signing-time (the time is the dictionary's /M).
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    attributes = {a["type"].native for a in signature.signer_info["signed_attrs"]}
    assert "signing_certificate_v2" in attributes
    assert "signing_time" not in attributes
    assert UNIT_NAME in status.signing_cert.subject.human_friendly
    assert signed.self_signed and signed.new
    assert signed.issued_sha256 == issued.pdf_sha256


def test_the_issued_file_is_untouched_inside_the_signed_one(world):
    """An incremental update: the issued PDF/A is the first bytes of the signed copy, so
    its text layer and its embedded letter.json are exactly those issued."""
    _archive, issued, signed, _ = world
    original = issued.pdf_path.read_bytes()
    data = signed.path.read_bytes()
    assert data.startswith(original) and len(data) > len(original)
    # The letter's text as issued, after the stamp's own (which extracts as the Thai it
    # shows: the embedded subset carries a ToUnicode map).
    text, issued_text = pdftotext(data), pdftotext(original)
    stamp = text.removesuffix(issued_text)
    assert stamp != text and "ขอเชิญประชุมคณะทำงาน" in issued_text
    assert stamp.splitlines()[:2] == ["ลงลายมือชื่ออิเล็กทรอนิกส์โดย", UNIT_NAME]
    assert "ใบรับรองทดลองที่ลงนามเอง" in stamp
    files = embedded_files(data)
    assert files == embedded_files(original)
    assert json.loads(files["letter.json"])["ref_no"] == issued.ref_no


def test_the_signed_file_stays_pdfa_3b(world):
    _archive, issued, signed, _ = world
    assert pdfa_problems(issued.pdf_path.read_bytes()) == []
    assert pdfa_problems(signed.path.read_bytes()) == []


def test_the_pdfa_checks_catch_what_signing_can_break(world):
    """The checks fail on pyHanko's defaults (it writes its own name into the metadata),
    which saraban's signer avoids: they are not checks that cannot fail."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    archive, issued, _signed, _ = world
    ((_unit, key),) = list_signing_keys(archive)
    signer = signers.SimpleSigner.load(str(key.folder / "key.pem"), str(key.folder / "cert.pem"))
    writer = IncrementalPdfFileWriter(io.BytesIO(issued.pdf_path.read_bytes()))
    meta = signers.PdfSignatureMetadata(field_name="x", subfilter=fields.SigSeedSubFilter.PADES)
    plain = signers.sign_pdf(writer, meta, signer=signer).getvalue()
    assert any(p.startswith("6.6.3") for p in pdfa_problems(plain))


def _assert_stamp_clear(issued_pdf: bytes, signed_path: Path) -> None:
    """The stamp lies in page one's top margin, inside the right margin, and covers no word
    of the letter's text."""
    from pypdf import PdfReader

    page = PdfReader(signed_path).pages[0]
    height = float(page.mediabox.height)
    widgets = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Widget"]
    (widget,) = widgets
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert y1 >= height - 2.5 * CM  # above the first line (the page's 2.5 cm top margin)
    assert y2 - y1 >= 1.25 * CM  # room for a QR code a phone reads from paper
    assert x2 <= float(page.mediabox.width) - 2 * CM + 1  # within the right margin
    assert widget["/F"] & 4  # printed
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"',
        pdftotext(issued_pdf, "-bbox", "-f", "1", "-l", "1"),
    )
    assert words
    for wx1, wy1, wx2, wy2 in ((float(v) for v in w) for w in words):
        top, bottom = height - wy1, height - wy2  # pdftotext measures from the top
        assert not (wx1 < x2 and wx2 > x1 and bottom < y2 and top > y1)


def test_the_stamp_sits_in_the_top_margin_clear_of_the_text(world):
    _archive, issued, signed, _ = world
    _assert_stamp_clear(issued.pdf_path.read_bytes(), signed.path)


@pytest.mark.parametrize("kind", ["memo", "announcement", "stamped"])
def test_the_stamp_clears_every_kind_of_letter(world, kind, tmp_path):
    archive, *_ = world
    doc = json.loads((DATA / "letters" / f"{kind}.letter.json").read_text("utf-8"))
    doc.pop("ref_no", None)
    doc.pop("date", None)
    issued = archive.issue(doc, ARCHIVE_UNIT, actor="tester")
    signed = sign_letter(archive, issued.id, actor="tester")
    _assert_stamp_clear(issued.pdf_path.read_bytes(), signed.path)
    assert pdfa_problems(signed.path.read_bytes()) == []
    assert _qr_codes(signed.path.read_bytes(), tmp_path) == [signed.url]


def _page_image(pdf: bytes, tmp_path: Path) -> Path:
    source = tmp_path / "signed.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "p")],
        check=True,
    )
    (image,) = tmp_path.glob("p*.png")
    return image


def _qr_codes(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR codes zxing-cpp reads on page one rendered at 150 dpi (a phone's view of a
    printed page is no sharper)."""
    import zxingcpp
    from PIL import Image

    image = Image.open(_page_image(pdf, tmp_path))
    return [
        c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode
    ]


def test_the_qr_code_on_the_page_opens_the_verification_page(world, tmp_path):
    import zxingcpp
    from PIL import Image
    from pypdf import PdfReader

    from saraban.service import close_app, create_app

    archive, issued, signed, _ = world
    image = Image.open(_page_image(signed.path.read_bytes(), tmp_path))
    codes = [c for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    assert [c.text for c in codes] == [signed.url]
    assert signed.url == f"http://localhost:8000/v/{signed.token}"  # SARABAN_BASE_URL default
    links = [
        a.get_object()["/A"]["/URI"]
        for a in PdfReader(signed.path).pages[0]["/Annots"]
        if a.get_object()["/Subtype"] == "/Link"
    ]
    assert links == [signed.url]  # a click on the code opens the same page

    app = create_app({"SARABAN_HOME": str(archive.home), "TESTING": True})
    try:
        page = app.test_client().get(codes[0].text.removeprefix("http://localhost:8000"))
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert issued.ref_no in text and UNIT_NAME in text
        assert "ใบรับรองทดลอง" in text  # self-signed, said so
        assert "ขอเชิญประชุม" not in text  # nothing of the content
        assert page.headers["Cache-Control"] == "no-store"
    finally:
        close_app(app)


def test_one_byte_changed_and_it_does_not_verify(world):
    archive, _issued, signed, _ = world
    data = signed.path.read_bytes()
    assert check_file(archive, data).authentic
    contents = data.index(b"/Contents <") + len(b"/Contents <") + 40
    for position in (len(data) // 3, contents, len(data) - 20):
        changed = bytearray(data)
        changed[position] = changed[position] ^ 0x01
        result = check_file(archive, bytes(changed), token=signed.token)
        assert not result.authentic, position
        assert result.match is None and result.letter is None and result.for_token is False
        for sig in result.signatures:
            assert not sig.valid
        try:
            _sig, status = _validate(bytes(changed), _cert_pem(archive))
        except Exception:  # noqa: BLE001 - unreadable counts as not verifying
            continue
        assert not status.bottom_line, position


def test_a_later_addition_is_told_apart(world):
    """Bytes appended after signing (an incremental update by someone else): the signed
    revision is still found, and the file is not called the one the archive sent."""
    archive, issued, signed, _ = world
    data = signed.path.read_bytes() + b"\n% added later\n"
    result = check_file(archive, data)
    assert result.match == "signed_then_changed"
    assert result.letter.ref_no == issued.ref_no
    assert not result.authentic


def test_the_issued_file_and_strangers(world):
    archive, issued, _signed, secret = world
    plain = check_file(archive, issued.pdf_path.read_bytes())
    assert plain.match == "issued" and plain.letter.ref_no == issued.ref_no
    assert not plain.authentic and plain.signatures == []
    stranger = check_file(archive, b"%PDF-1.7\nnot really\n")
    assert stranger.match is None and not stranger.readable


def test_secret_letters_are_never_signed_and_never_told(world):
    archive, _issued, _signed, secret = world
    with pytest.raises(SigningRefused) as refused:
        sign_letter(archive, secret.id, actor="tester")
    assert refused.value.status == 409 and "ลับ" in refused.value.message
    assert signed_copies(archive, secret.id) == []
    assert "letter.sign" not in [e.action for e in archive.history(secret.id)]
    # Its issued file uploaded: answered exactly as a file the archive never saw.
    told = check_file(archive, secret.pdf_path.read_bytes()).as_dict()
    assert told["match"] is None and told["letter"] is None
    assert main(["sign", str(secret.id)]) == 2


def test_signing_again_gives_the_same_copy_and_is_recorded(world):
    archive, issued, signed, _ = world
    again = sign_letter(archive, issued.id, actor="tester")
    assert (again.sha256, again.token, again.new) == (signed.sha256, signed.token, False)
    assert sign_issued(archive, issued.id) == signed.path.read_bytes()
    assert [e.action for e in archive.history(issued.id)].count("letter.sign") == 1
    assert archive.verify() == []  # the copy and the certificate are recorded files
    assert oct(stat.S_IMODE(signed.path.stat().st_mode)) == "0o400"


def test_the_token_is_unguessable_and_not_the_letter_id(world):
    archive, issued, signed, _ = world
    assert TOKEN_RE.fullmatch(signed.token)  # 128 random bits, not derived from the id
    for wrong in (str(issued.id), signed.token[:-1], signed.token + "A", "", "../../etc"):
        with pytest.raises(NotFound):
            letter_for_token(archive, wrong)
    assert letter_for_token(archive, signed.token).ref_no == issued.ref_no


def test_a_cancelled_letter_says_so(world):
    archive, *_ = world
    issued = archive.issue(make_letter("หนังสือที่จะยกเลิก"), ARCHIVE_UNIT, actor="tester")
    signed = sign_letter(archive, issued.id, actor="tester")
    archive.cancel(issued.id, "ออกซ้ำ", actor="tester")
    public = letter_for_token(archive, signed.token)
    assert public.status == "cancelled" and public.cancelled_on is not None
    with pytest.raises(SigningRefused, match="cancelled"):
        sign_letter(archive, issued.id, actor="tester")


# ---- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o777])
def test_key_files_are_private_whatever_the_umask(tmp_path, umask):
    archive = open_archive(tmp_path / "home")
    archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
    old = os.umask(umask)
    try:
        key = create_self_signed_key(archive, "นค 0019.3", actor="tester", days=30)
    finally:
        os.umask(old)
        archive.close()
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "home" / "keys") == 0o700
    assert mode(key.folder) == 0o700
    assert {p.name: mode(p) for p in key.folder.iterdir()} == {"key.pem": 0o600, "cert.pem": 0o600}
    assert key.folder.name == "นค0019.3" and key.self_signed and key.problems == ()


def test_a_key_others_can_read_is_not_used(world):
    archive, issued, *_ = world
    ((_unit, key),) = list_signing_keys(archive)
    (key.folder / "key.pem").chmod(0o644)
    try:
        with pytest.raises(SigningKeyError, match="chmod 600"):
            sign_letter(archive, issued.id, actor="tester")
    finally:
        (key.folder / "key.pem").chmod(0o600)


def _ca_and_leaf(name: str, *, leaf_days: int = 365):
    """A certification authority and a unit certificate it issued (RSA 2048)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Office CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=leaf_days))
        .sign(ca_key, hashes.SHA256())
    )
    return ca, key, leaf


def test_an_office_brings_its_own_pkcs12(tmp_path):
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    ca, key, leaf = _ca_and_leaf("สำนักงานจังหวัด")
    p12 = pkcs12.serialize_key_and_certificates(
        b"office", key, leaf, [ca], BestAvailableEncryption(b"s3cret")
    )
    archive = open_archive(tmp_path / "home")
    try:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        with pytest.raises(SigningKeyError, match="password"):
            import_key_pkcs12(archive, ARCHIVE_UNIT, p12, b"wrong", actor="tester")
        installed = import_key_pkcs12(archive, ARCHIVE_UNIT, p12, b"s3cret", actor="tester")
        assert not installed.self_signed and installed.chain == 1
        issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
        signed = sign_letter(archive, issued.id, actor="tester")
        assert not signed.self_signed
        result = check_file(archive, signed.path.read_bytes())
        assert result.authentic and not result.signatures[0].self_signed
        assert not letter_for_token(archive, signed.token).self_signed
        assert [e.action for e in archive.events(actions=("key.install",))] == ["key.install"]
    finally:
        archive.close()


def test_pem_keys_are_checked_before_they_are_kept(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    ca, key, leaf = _ca_and_leaf("สำนักงาน")
    _ca2, other_key, _leaf2 = _ca_and_leaf("อื่น")

    def pem(k, encryption=None):
        return k.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption or NoEncryption())

    cert = leaf.public_bytes(Encoding.PEM)
    archive = open_archive(tmp_path / "home")
    try:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        with pytest.raises(SigningKeyError, match="does not belong"):
            import_key_pem(archive, ARCHIVE_UNIT, pem(other_key), cert, actor="tester")
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        with pytest.raises(SigningKeyError, match="2048"):
            import_key_pem(archive, ARCHIVE_UNIT, pem(small), cert, actor="tester")
        _ca3, old_key, expired = _ca_and_leaf("เก่า", leaf_days=-1)
        with pytest.raises(SigningKeyError, match="valid only"):
            import_key_pem(
                archive, ARCHIVE_UNIT, pem(old_key), expired.public_bytes(Encoding.PEM), actor="t"
            )
        locked = pem(key, BestAvailableEncryption(b"pw"))
        with pytest.raises(SigningKeyError, match="encrypted"):
            import_key_pem(archive, ARCHIVE_UNIT, locked, cert, actor="tester")
        assert not (tmp_path / "home" / "keys" / "นค0019.3").exists()  # nothing kept
        made = import_key_pem(
            archive, ARCHIVE_UNIT, locked, cert, ca.public_bytes(Encoding.PEM), b"pw", actor="t"
        )
        assert made.chain == 1 and not made.self_signed
        key_text = (made.folder / "key.pem").read_text()
        assert "ENCRYPTED" not in key_text  # kept unencrypted, 0600, for unattended signing
    finally:
        archive.close()


def test_a_replaced_key_keeps_old_letters_verifying(tmp_path):
    archive = open_archive(tmp_path / "home")
    try:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester")
        issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
        first = sign_letter(archive, issued.id, actor="tester")
        with pytest.raises(Exception, match="--replace"):
            create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester")
        create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester", replace=True)
        assert len(list((tmp_path / "home" / "keys" / "retired").iterdir())) == 1
        second = sign_letter(archive, issued.id, actor="tester")
        assert second.new and second.token != first.token
        for copy in (first, second):
            assert check_file(archive, copy.path.read_bytes()).authentic
        assert archive.verify() == []
    finally:
        archive.close()


# ---- the command line -------------------------------------------------------------------------


def test_the_commands(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("SARABAN_HOME", str(home))
    monkeypatch.setenv("SARABAN_BASE_URL", "https://saraban.example.go.th/")
    with open_archive(home) as archive:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        letter_id = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester").id
    assert main(["sign", str(letter_id)]) == 2  # no key yet
    assert "keys create" in capsys.readouterr().err
    assert main(["keys", "create", "--unit", "นค 0019.3", "--days", "30"]) == 0
    assert "ลงนามเอง" in capsys.readouterr().out
    assert main(["keys", "list", "--json"]) == 0
    (unit,) = json.loads(capsys.readouterr().out)["units"]
    assert unit["key"]["self_signed"] and unit["key"]["key_type"] == "RSA 3072"
    out = tmp_path / "out" / "signed.pdf"
    assert main(["sign", str(letter_id), "-o", str(out), "--json"]) == 0
    signed = json.loads(capsys.readouterr().out)
    assert signed["url"] == f"https://saraban.example.go.th/v/{signed['token']}"
    assert out.read_bytes().startswith(b"%PDF")
    assert main(["sign-check", str(out)]) == 0
    assert "ถูกต้อง" in capsys.readouterr().out
    changed = bytearray(out.read_bytes())
    changed[len(changed) // 2] ^= 1
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    assert main(["sign-check", str(tmp_path / "changed.pdf"), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["authentic"] is False


def test_signature_records_never_change(archive):
    """On both databases: a signature row can be neither changed nor deleted (triggers)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester", days=30)
    signed = sign_letter(archive, archive.issue(make_letter(), ARCHIVE_UNIT, actor="t").id)
    for statement in (
        "UPDATE signatures SET token = 'x' WHERE id = :id",
        "UPDATE signatures SET sha256 = 'x' WHERE id = :id",
        "DELETE FROM signatures WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="never changed or deleted"):
            with archive.engine.begin() as connection:
                connection.execute(text(statement), {"id": signed.id})
    assert letter_for_token(archive, signed.token).ref_no == signed.ref_no
    assert archive.verify() == []


# ---- PAdES B-T: a timestamp authority run here ------------------------------------------------


@pytest.fixture
def timestamp_authority():
    """An RFC 3161 timestamp authority over HTTP on a loopback port: pyHanko's own TSA
    logic (DummyTimeStamper) behind http.server, with its own certificate (extended key
    usage timeStamping). Yields (URL, the TSA's certificate in DER)."""
    import http.server
    import threading

    from asn1crypto import keys as asn1_keys
    from asn1crypto import tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Timestamp Authority")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(Encoding.DER)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(der),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        ),
    )
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            reply = stamper.request_tsa_response(request).dump()
            served.append(self.headers["Content-Type"])
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa", der, served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_with_a_timestamp_authority_the_signature_is_b_t(
    tmp_path, monkeypatch, timestamp_authority
):
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    url, tsa_der, served = timestamp_authority
    archive = open_archive(tmp_path / "home")
    try:
        archive.add_unit(ARCHIVE_UNIT, UNIT_NAME, actor="tester")
        create_self_signed_key(archive, ARCHIVE_UNIT, actor="tester")
        issued = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
        signed = sign_letter(archive, issued.id, actor="tester", tsa_url=url)
        assert signed.timestamped and set(served) == {"application/timestamp-query"}
        data = signed.path.read_bytes()

        from asn1crypto import x509 as asn1_x509

        roots = [
            *load_certs_from_pemder_data(_cert_pem(archive)),
            asn1_x509.Certificate.load(tsa_der),
        ]
        (embedded,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
        token = status.timestamp_validity
        assert status.bottom_line and token is not None
        assert token.intact and token.valid and token.trusted
        assert abs(token.timestamp - signed.signed_at) < dt.timedelta(minutes=1)
        # The archive kept the authority's certificate, and trusts it when checking.
        result = check_file(archive, data)
        assert result.authentic and result.signatures[0].timestamp == token.timestamp
        assert pdfa_problems(data) == []
        assert archive.verify() == []

        nobody = "http://127.0.0.1:9/nothing-listens-here"
        other = archive.issue(make_letter(), ARCHIVE_UNIT, actor="tester")
        with pytest.raises(SarabanError, match="timestamp authority") as failed:
            sign_letter(archive, other.id, actor="tester", tsa_url=nobody)
        assert failed.value.status == 502 and signed_copies(archive, other.id) == []
        assert archive.verify() == []  # nothing half-stored
    finally:
        archive.close()
