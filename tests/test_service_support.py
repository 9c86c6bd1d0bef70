"""Helpers shared by the web service's tests (test_service*, test_api*, test_ui*): a real app
on a temporary instance (real SQLite, real files), users of each role and clearance, and
letters put in the archive without rendering (imported), so the fast tests stay fast.

Plain functions, not fixtures: each test module wraps the few it needs.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
SEEDS = DATA / "seeds"
UNIT = "นค ๐๐๑๙.๓"
PASSWORD = "correct horse battery"

# name -> (role, clearance)
USERS = {
    "admin": ("admin", None),
    "clerk": ("clerk", None),
    "secret": ("clerk", "ลับ"),
    "topsecret": ("clerk", "ลับที่สุด"),
}


def make_app(home: Path, **config: Any) -> Any:
    from saraban.service import create_app

    # A cheap password hash: the tests sign in hundreds of times (production uses scrypt).
    settings = {
        "SARABAN_HOME": str(home),
        "TESTING": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    return create_app({**settings, **config})


def add_unit(app: Any) -> None:
    app.extensions["archive"].add_unit(
        UNIT,
        "ศาลากลางจังหวัดหนองคาย",
        address=["ถนนมิตรภาพ นค ๔๓๐๐๐"],
        phone="๐ ๔๒๔๑ ๑๑๘๒",
        footer="หนองคายเมืองน่าอยู่",
        signer={"name": "นายไพโรจน์ โสภาพร", "position": ["ผู้ว่าราชการจังหวัดหนองคาย"]},
        actor="tester",
    )


def add_users(app: Any) -> dict[str, Any]:
    store = app.extensions["saraban_store"]
    return {
        name: store.add_user(name, PASSWORD, role=role, clearance=clearance)
        for name, (role, clearance) in USERS.items()
    }


def tokens(app: Any, users: dict[str, Any]) -> dict[str, str]:
    store = app.extensions["saraban_store"]
    return {name: store.create_token(user.id, "tests")[0] for name, user in users.items()}


def seed_letter(name: str = "001_1817bd84ea7a4ec5") -> dict[str, Any]:
    return json.loads((SEEDS / f"{name}.letter.json").read_text("utf-8"))


def store_letter(app: Any, letter: dict[str, Any], *, original: bytes | None = None) -> Any:
    """Keep a letter in the archive as imported (no PDF rendering): the fast way to have
    letters, secret ones included, for the tests of access and listing."""
    doc = copy.deepcopy(letter)
    data = original or json.dumps(doc, ensure_ascii=False).encode()
    return app.extensions["archive"].store_imported(
        doc, original=data, original_name="letter.txt", actor="tester"
    )


def secret_letter(
    level: str = "ลับ", subject: str = "ลับเฉพาะเรื่องโครงการพิเศษนาคราช"
) -> dict[str, Any]:
    letter = seed_letter()
    letter["secrecy"] = level
    letter["subject"] = subject
    letter["ref_no"] = "นค ๐๐๑๙.๓/๙๘๗๖"
    letter["body"] = ["ข้อความลับเรื่องโครงการพิเศษนาคราช ห้ามเปิดเผย"]
    return letter


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def login(client: Any, name: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    page = client.get("/login")
    token = csrf_of(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/").get_data(as_text=True))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def draft_form(csrf: str, **fields: Any) -> dict[str, Any]:
    """The draft editor's form fields for a small valid circular (what the page posts)."""
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "kind": "external",
        "circular": "1",
        "unit": UNIT,
        "sender.name": "ศาลากลางจังหวัดหนองคาย",
        "sender.address": "ถนนมิตรภาพ นค ๔๓๐๐๐",
        "date": "",
        "subject": "การประชุมคณะทำงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        "salutation": "เรียน",
        "addressee": "นายอำเภอ ทุกอำเภอ",
        "references": [
            "หนังสือจังหวัดหนองคาย ที่ นค ๐๐๑๙.๓/ว ๑๐๐ ลงวันที่ ๑ ตุลาคม ๒๕๖๘",
            "หนังสือกรมการพัฒนาชุมชน ที่ มท ๐๔๐๗.๒/ว ๕๐ ลงวันที่ ๓ ตุลาคม ๒๕๖๘",
        ],
        "enclosures.title": ["กำหนดการประชุม", "แบบตอบรับ", "แผนที่"],
        "enclosures.quantity": ["๑ ฉบับ", "๑ ฉบับ", "๑ แผ่น"],
        "body.0.kind": "paragraph",
        "body.0.text": "ตามที่อ้างถึง จังหวัดหนองคายกำหนดประชุมคณะทำงานศูนย์ผู้นำจิตอาสาพัฒนาชุมชน",
        "body.1.kind": "items",
        "body.1.items": ["แจ้งผู้เข้าร่วมประชุม", "ส่งแบบตอบรับ (สิ่งที่ส่งมาด้วย ๒)"],
        "closing": "จึงเรียนมาเพื่อโปรดพิจารณาดำเนินการ",
        "complimentary_close": "ขอแสดงความนับถือ",
        "signer.name": "นายไพโรจน์ โสภาพร",
        "signer.position": "ผู้ว่าราชการจังหวัดหนองคาย",
        "owner_unit": "สำนักงานพัฒนาชุมชนจังหวัด",
        "contact.phone": "๐ ๔๒๔๑ ๑๑๘๒",
        "contact.fax": "",
        "contact.email": "",
        "footer": "",
        "copies_to": "",
    }
    form.update(fields)
    return form


def add_districts(app: Any) -> None:
    """Nong Khai's districts in the address book, each with an e-mail address."""
    from saraban.usecases import recipients

    archive = app.extensions["archive"]
    recipients.seed_province(archive, "หนองคาย", actor="admin")
    rows = ["name,email"] + [
        f"{r.name},{r.code}@example.go.th" for r in recipients.listing(archive)
    ]
    recipients.import_csv(archive, "\n".join(rows).encode(), actor="admin")
