"""The password policy (OWASP ASVS 4.0 level 2, section 2.1), one function for every place a
password is set: the account page, the administration page, ``POST /api/v1/users`` and the
``saraban user`` commands.

- at least :data:`MIN_LENGTH` characters (runs of spaces count as one), at most
  :data:`MAX_LENGTH`; any Unicode text, Thai included; no rule of "one digit, one capital";
- not one of the most common passwords (``saraban/data/common-passwords.txt``), nor such a
  password with digits or signs around it (``sunshine2568!``);
- not digits only (a national ID card number, a telephone number, a date: guessed by anyone
  who knows the person);
- not the user name, the display name or the program's name, nor one of them with a little
  added or changed;
- each rule also applied to the password as it would read typed with the other keyboard
  layout (Thai Kedmanee <-> English QWERTY): ``ๅ/-ภถุึคตจขช`` is ``1234567890-=`` typed with
  the Thai layout on.

No Flask here: the CLI uses it too.
"""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources

from saraban.errors import BadRequest

MIN_LENGTH = 12
MAX_LENGTH = 128
_PROGRAM_WORDS = ("saraban", "sarabun", "สารบรรณ", "สารบัญ")

# The Thai Kedmanee layout, key by key over the US QWERTY one (unshifted, then shifted).
_QWERTY = (
    "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./"
    '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?'
)
_KEDMANEE = '_ๅ/-ภถุึคตจขชๆไำพะัีรนยบลฃฟหกดเ้่าสวงผปแอิืทมใฝ%+๑๒๓๔ู฿๕๖๗๘๙๐"ฎฑธํ๊ณฯญฐ,ฅฤฆฏโฌ็๋ษศซ.()ฉฮฺ์?ฒฬฦ'
_TO_QWERTY = str.maketrans(_KEDMANEE, _QWERTY)
_TO_KEDMANEE = str.maketrans(_QWERTY, _KEDMANEE)
_SEQUENCES = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "abcdefghijklmnopqrstuvwxyz",
)
_NEXT_TO = {(a, b) for seq in _SEQUENCES for a, b in zip(seq, seq[1:], strict=False)}
_NEXT_TO |= {(b, a) for a, b in _NEXT_TO}
_REPEATED_RE = re.compile(r"(.{1,6}?)\1+")
_EDGE_RE = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SPACES_RE = re.compile(r"\s+")


def _refuse(th: str, en: str) -> BadRequest:
    return BadRequest(f"password: {th} / {en}")


@functools.cache
def common_passwords() -> frozenset[str]:
    source = resources.files("saraban") / "data" / "common-passwords.txt"
    lines = source.read_text("utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _readings(password: str) -> list[str]:
    """The password as typed, and as the same keys read on the other layout."""
    folded = password.casefold()
    readings = [folded]
    for table in (_TO_QWERTY, _TO_KEDMANEE):
        other = password.translate(table).casefold()
        if other not in readings:
            readings.append(other)
    return readings


def _predictable(reading: str) -> bool:
    """A short unit repeated (``abcabcabcabc``), or a few runs along the keyboard or the
    alphabet (``qwertyuiopas``, ``abcdefghijkl``)."""
    if _REPEATED_RE.fullmatch(reading):
        return True
    runs = 1 + sum(
        1 for a, b in zip(reading, reading[1:], strict=False) if a != b and (a, b) not in _NEXT_TO
    )
    return runs <= len(reading) // 4


def _close(word: str, reading: str) -> bool:
    """The password is the word, holds it, or differs from it by a little."""
    if len(word) < 3:
        return word == reading
    if word in reading or word[::-1] in reading:
        return True
    core = _EDGE_RE.sub("", reading)
    if not core:
        return False
    return difflib.SequenceMatcher(None, word, core).ratio() >= 0.75


def check_password(
    password: object, *, name: str | None = None, display_name: str | None = None
) -> str:
    """The password, if the policy allows it; else 400 naming the rule it breaks (in Thai
    and English). ``name`` and ``display_name`` are the account's own."""
    if not isinstance(password, str):
        raise _refuse("ต้องเป็นข้อความ", "must be text")
    length = len(_SPACES_RE.sub(" ", password))
    if length < MIN_LENGTH:
        raise _refuse(
            f"รหัสผ่านต้องยาวอย่างน้อย {MIN_LENGTH} ตัวอักษร (ใช้วลีที่จำง่ายหลายคำได้ เช่น แมวส้มนอนบนหลังคา)",
            f"the password must be at least {MIN_LENGTH} characters (a passphrase of several "
            "words is easy to remember)",
        )
    if len(password) > MAX_LENGTH:
        raise _refuse(
            f"รหัสผ่านยาวเกิน {MAX_LENGTH} ตัวอักษร",
            f"the password is longer than {MAX_LENGTH} characters",
        )
    words = [w.casefold() for w in (name or "", *(display_name or "").split()) if w]
    words += list(_PROGRAM_WORDS)
    common = common_passwords()
    for reading in _readings(password):
        if reading.isdigit() or not _EDGE_RE.sub("", reading):
            raise _refuse(
                "รหัสผ่านที่มีแต่ตัวเลขหรือเครื่องหมาย (เช่น เลขบัตรประชาชน เบอร์โทรศัพท์ วันเกิด) "
                "ผู้อื่นเดาได้ง่าย กรุณาใช้คำหรือวลี",
                "digits or signs only (an ID card number, a telephone number, a date) are "
                "easily guessed: use words",
            )
        core = _EDGE_RE.sub("", reading)
        if reading in common or core in common or _SPACES_RE.sub("", core) in common:
            raise _refuse(
                "รหัสผ่านนี้อยู่ในรายการรหัสผ่านที่ใช้กันมากที่สุด ผู้บุกรุกลองเป็นอันดับแรก กรุณาตั้งใหม่",
                "this password is among the most common passwords, which attackers try first",
            )
        if _predictable(reading):
            raise _refuse(
                "รหัสผ่านเป็นแป้นที่เรียงกันหรือซ้ำกัน (เช่น qwertyuiop, abcabcabc) เดาได้ง่าย",
                "a row of keys, a sequence or a repetition (qwertyuiop, abcabcabc) is easily "
                "guessed",
            )
        if any(_close(word, reading) for word in words):
            raise _refuse(
                "รหัสผ่านต้องไม่ใช่หรือคล้ายชื่อผู้ใช้ ชื่อที่แสดง หรือชื่อโปรแกรม",
                "the password must not be, hold or resemble the user name, the display "
                "name or the program's name",
            )
    return password
