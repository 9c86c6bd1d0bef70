"""Letters that arrive by e-mail in a mailbox (``SARABAN_IMAP_*``): each look copies the
folder's unread messages into the watched folder ``SARABAN_HOME/inbox/`` as ``.eml``
files, and only then marks them read on the server. From there they take the one route of
a dropped ``.eml`` (:func:`saraban.usecases.intake.consume_inbox`: every attachment a
received letter, the file kept in ``inbox/done/`` or ``inbox/failed/`` with the reason).

Nothing is lost on the way: a message is written whole under a hidden name, flushed to disk
and renamed before it is marked read, so a crash in between leaves it unread and it is
copied again on the next look; its file name (``imap-UIDVALIDITY-UID.eml``) is the same
both times, so a copy already in the folder, in ``done/`` or in ``failed/`` is not taken
twice. A message larger than ``max_bytes`` is not copied: it is marked read and flagged
(``\\Flagged``) on the server, and reported, so that a person deals with it there.

Every cost is bounded: at most ``limit`` messages a look (the rest wait for the next),
each at most ``max_bytes``, and every network wait has a timeout.
"""

from __future__ import annotations

import base64
import imaplib
import os
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saraban.errors import SarabanError
from saraban.settings import Settings

__all__ = [
    "Fetched",
    "ImapSettings",
    "MailboxError",
    "Patience",
    "fetch_mail",
    "imap_utf7",
    "read_into",
]

TIMEOUT = 60.0
LIMIT = 200  # messages copied in one look


class MailboxError(SarabanError):
    """The mailbox could not be read (server unreachable, refused login, no such folder):
    nothing was copied or marked read."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: str  # ssl, starttls, none
    user: str
    password: str
    folder: str = "INBOX"
    timeout: float = TIMEOUT

    @classmethod
    def of(cls, settings: Settings) -> ImapSettings | None:
        """The mailbox the settings name; None when ``SARABAN_IMAP_HOST`` is empty."""
        if not settings.imap_host:
            return None
        return cls(
            host=settings.imap_host,
            port=settings.imap_port,
            tls=settings.imap_tls,
            user=settings.imap_user or "",
            password=settings.imap_password or "",
            folder=settings.imap_folder,
        )


class Patience:
    """When to try again a mailbox that failed (a wrong password, a server down): after a
    wait that doubles each time, from the look's interval (at least 30 s) up to 15 minutes,
    so that a mail server does not lock the account for the failed logins."""

    LONGEST = 900.0

    def __init__(self) -> None:
        self.until = 0.0
        self.wait = 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.until

    def failed(self, interval: float) -> float:
        """Note a failure; the seconds until the next try."""
        self.wait = min(max(2 * self.wait, interval, 30.0), self.LONGEST)
        self.until = time.monotonic() + self.wait
        return self.wait

    def succeeded(self) -> None:
        self.until = self.wait = 0.0


@dataclass
class Fetched:
    copied: list[str] = field(default_factory=list)  # file names written in the folder
    too_large: list[tuple[int, int]] = field(default_factory=list)  # (uid, size)
    already: int = 0  # copied by an earlier look that stopped before marking them read


def imap_utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3), as servers expect Thai
    names; ASCII names are unchanged but for ``&``."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            raw = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(imap: ImapSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if imap.tls == "ssl":
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            imap.host, imap.port, ssl_context=context, timeout=imap.timeout
        )
    else:
        client = imaplib.IMAP4(imap.host, imap.port, timeout=imap.timeout)
    try:
        if imap.tls == "starttls":
            client.starttls(context)
        if imap.user.isascii() and imap.password.isascii():
            client.login(imap.user, imap.password)
        else:  # LOGIN takes ASCII only; AUTHENTICATE PLAIN carries UTF-8
            secret = f"\0{imap.user}\0{imap.password}".encode()
            client.authenticate("PLAIN", lambda _challenge: secret)
    except BaseException:
        client.shutdown()
        raise
    return client


def _check(reply: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = reply
    if status != "OK":
        said = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise MailboxError(f"{what}: {said}"[:500])
    return data


def _seen_before(inbox: Path, name: str) -> bool:
    return any((folder / name).exists() for folder in (inbox, inbox / "done", inbox / "failed"))


def _write(inbox: Path, name: str, data: bytes) -> None:
    """Whole or not at all: a hidden file (the folder's reader skips those), flushed, then
    renamed to its name."""
    part = inbox / f".{name}.part"
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(part, 0o600)
    part.replace(inbox / name)


_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


def fetch_mail(
    imap: ImapSettings,
    inbox: Path,
    *,
    max_bytes: int,
    limit: int = LIMIT,
    progress: Callable[[int, int], None] | None = None,
) -> Fetched:
    """Copy the folder's unread messages (at most ``limit``) into ``inbox`` and mark them
    read; raises :class:`MailboxError` when the mailbox cannot be read."""
    inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    fetched = Fetched()
    where = f"{imap.host}:{imap.port}"
    try:
        client = _connect(imap)
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            f"เข้ากล่องจดหมาย {where} ไม่ได้ / the IMAP server refused the login: {exc}"
        ) from None
    except ssl.SSLError as exc:
        raise MailboxError(
            f"เชื่อมต่อ {where} อย่างปลอดภัยไม่ได้ / no trusted TLS connection to the IMAP server: {exc}"
        ) from None
    except OSError as exc:  # timeouts included
        raise MailboxError(
            f"ติดต่อเซิร์ฟเวอร์อีเมล {where} ไม่ได้ / cannot reach the IMAP server: {exc}"
        ) from None
    try:
        _check(
            client.select(_quoted(imap_utf7(imap.folder))),
            f"ไม่พบโฟลเดอร์ {imap.folder!r} / cannot open the folder {imap.folder!r}",
        )
        validity = client.response("UIDVALIDITY")[1]
        epoch = validity[0].decode() if validity and isinstance(validity[0], bytes) else "0"
        found = _check(client.uid("SEARCH", "UNSEEN"), "search")
        uids = [int(u) for u in b" ".join(d for d in found if isinstance(d, bytes)).split()]
        uids = sorted(uids)[:limit]
        for n, uid in enumerate(uids):
            name = f"imap-{epoch}-{uid}.eml"
            if _seen_before(inbox, name):
                fetched.already += 1
            else:
                body = _body(client, uid, max_bytes)
                if body is None:  # expunged meanwhile: nothing to take
                    continue
                if isinstance(body, int):  # its size, too large: left for a person
                    client.uid("STORE", str(uid), "+FLAGS", "(\\Seen \\Flagged)")
                    fetched.too_large.append((uid, body))
                    continue
                _write(inbox, name, body)
                fetched.copied.append(name)
            _check(client.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"), "mark read")
            if progress is not None:
                progress(n + 1, len(uids))
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            f"อ่านกล่องจดหมายไม่สำเร็จ / reading the mailbox failed: {exc}"[:500]
        ) from None
    except OSError as exc:  # timeouts included
        raise MailboxError(
            f"การเชื่อมต่อกับ {where} ขาด / the connection to the IMAP server broke: {exc}"
        ) from None
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return fetched


def _body(client: imaplib.IMAP4, uid: int, max_bytes: int) -> bytes | int | None:
    """The message, or its size when that is over ``max_bytes`` (asked first, so a large one
    is not downloaded; checked again on what came), or None when it is gone."""
    size = 0
    for item in _check(client.uid("FETCH", str(uid), "(RFC822.SIZE)"), "size"):
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes) and (m := _SIZE.search(line)):
            size = int(m.group(2) or m.group(3))
    if size > max_bytes:
        return size
    data = _check(client.uid("FETCH", str(uid), "(BODY.PEEK[])"), "fetch")
    body = next((d[1] for d in data if isinstance(d, tuple) and len(d) == 2), None)
    if not isinstance(body, bytes):
        return None
    return len(body) if len(body) > max_bytes else body


def read_into(
    imap: ImapSettings,
    inbox: Path,
    patience: Patience,
    *,
    max_bytes: int,
    interval: float | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Fetched | None, list[tuple[str, str]]]:
    """One look at the mailbox for ``saraban serve`` and ``saraban consume --imap``: what
    :func:`fetch_mail` copied (None when the mailbox was not read, failing or still waiting
    out an earlier failure), and what went wrong as (what, why) lines for the clerk.
    ``interval``: seconds between looks (None: a single look, so no next try to tell of)."""
    if not patience.ready():
        return None, []
    try:
        fetched = fetch_mail(imap, inbox, max_bytes=max_bytes, progress=progress)
    except MailboxError as exc:
        wait = patience.failed(interval or 0)
        again = f" (ลองใหม่ใน {wait:.0f} วินาที / tried again in {wait:.0f} s)"
        return None, [("IMAP", exc.message + (again if interval is not None else ""))]
    patience.succeeded()
    return fetched, [
        (
            f"IMAP UID {uid}",
            f"อีเมลใหญ่เกิน {max_bytes // 2**20} MB ({size:,} bytes): ทำเครื่องหมายไว้ในกล่องจดหมาย"
            " / too large: left in the mailbox, marked read and flagged",
        )
        for uid, size in fetched.too_large
    ]
