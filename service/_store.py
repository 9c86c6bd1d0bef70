"""What the web service keeps beside the archive: accounts, API tokens, drafts, the address
book and the signers.

Why here and not in the archive: the archive is the *record* (numbers, issued letters, the
audit chain), and its rows never change once issued. Accounts and drafts are the service's
working state: a draft is edited a hundred times and thrown away as often; it becomes a
record only when the archive issues it. So these tables live in the same database (SQLite
or PostgreSQL, whatever ``SARABAN_DATABASE_URL`` says) but under their own Alembic line
(``service/migrations``, version table ``saraban_service_version``), and the archive's
schema and its checks stay untouched.

Passwords are stored as werkzeug hashes (scrypt) and must pass the policy of
:mod:`saraban.service._passwords`; API tokens and login sessions as the SHA-256 of a 256-bit
random token (a token is never shown again after it is created; a session's lives only in
the signed cookie). A login session is a row, so it ends on the server: on logout, on a
password change (every other session of the account), when the account is disabled, and at
its expiry, whatever copy of the cookie is still about. No Flask here: the CLI
(``saraban user add``, ``saraban token create``) uses this module too.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from saraban.archive import Archive, Database, UTCDateTime, utcnow
from saraban.archive._models import new_public_id
from saraban.errors import BadRequest, Conflict, NotFound
from saraban.letter import SECRECIES
from saraban.service._passwords import check_password
from saraban.vocabulary import typed_text

ROLES = ("clerk", "admin")
VERSION_TABLE = "saraban_service_version"
TOKEN_PREFIX = "sbn_"
_MIGRATIONS = Path(__file__).parent / "migrations"
_NAME_RE = re.compile(r"[^\s\x00-\x1f\x7f]{2,64}")
_MIGRATION_LOCK = 0x5A2ABA10  # PostgreSQL advisory lock key, distinct from the archive's
_ATTEMPT_LOCK = 0x5A2ABA11  # attempts (logins, public pages' requests) counted one at a time
_TOUCH_EVERY = dt.timedelta(minutes=1)
# The longest window a limit counts over (a login's 15 minutes): older attempts are deleted.
ATTEMPTS_KEPT = dt.timedelta(minutes=15)
# The attempts kept (login_failures): enough for 100,000 throttle keys at their limits'
# worth of recent attempts; past it the oldest are forgotten first. Checked every
# PRUNE_EVERY rows, so an attempt pays for it rarely.
MAX_LOGIN_FAILURES = 300_000
PRUNE_EVERY = 500
# Ended and expired login sessions are kept this long (the account page lists the recent
# ones), then deleted when someone signs in.
SESSIONS_KEPT = dt.timedelta(days=30)


class Base(DeclarativeBase):
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        dt.datetime: UTCDateTime,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10))
    clearance: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class LoginSession(Base):
    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_owner", "owner_id", "updated_at"),
        Index("uq_drafts_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What URLs and JSON name a draft by (``id`` counts every clerk's drafts): random, as a
    # letter's. Nullable in the schema only as SQLite adds a column no other way
    # (s0004_harden gives every older row one).
    public_id: Mapped[str] = mapped_column(String(20), nullable=True, default=new_public_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    doc: Mapped[dict[str, Any]]
    unit: Mapped[str | None] = mapped_column(String(100))  # the unit prefix it will issue under
    date_text: Mapped[str | None] = mapped_column(String(200))  # the date as the clerk typed it
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    letter_id: Mapped[int | None] = mapped_column(Integer)  # set once issued; 0 while issuing
    issued_at: Mapped[dt.datetime | None]
    # While issuing: the key the archive records with the letter, and who claimed it when.
    issue_key: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None]


class LoginFailure(Base):
    """One attempt counted against one throttle key, by every process of the service alike:
    a failed login (a name from an address, an address, a name, a device), or a request, a
    wrong link or a file checked at the public pages (``/d``, ``/v``) from an address. The
    key is kept as its SHA-256 (:func:`attempt_key`): the names typed at the login form are
    not stored. A key's rows older than its window, and every row older than
    :data:`ATTEMPTS_KEPT`, are deleted as new ones come, and the table never holds more
    than :data:`MAX_LOGIN_FAILURES` rows (the oldest go first)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key", "key_hash", "at"),
        Index("ix_login_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]


class AddressBookEntry(Base):
    __tablename__ = "address_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    addressee: Mapped[str] = mapped_column(String(500), unique=True)
    salutation: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]


class Signer(Base):
    __tablename__ = "signers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[list[str]]
    unit: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


# ---- plain values handed to callers -----------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    display_name: str | None
    role: str
    clearance: str | None
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "display_name": self.display_name,
            "role": self.role,
            "clearance": self.clearance,
            "active": self.active,
        }


@dataclass(frozen=True)
class TokenInfo:
    id: int
    user: str
    label: str | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    address: str | None


@dataclass(frozen=True)
class DraftInfo:
    id: int
    owner_id: int
    doc: dict[str, Any]
    unit: str | None
    date_text: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    letter_id: int | None
    public_id: str = ""  # what users see instead of ``id`` (which counts drafts)

    @property
    def subject(self) -> str:
        return str(self.doc.get("subject") or "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.public_id,
            "unit": self.unit,
            "date_text": self.date_text,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "letter_id": self.letter_id,
            "letter": copy.deepcopy(self.doc),
        }


@dataclass(frozen=True)
class DraftClaim:
    """A draft claimed for issuing: its idempotency key, and who claimed it when."""

    draft_id: int
    key: str | None
    worker: str | None
    since: dt.datetime


@dataclass(frozen=True)
class AddressInfo:
    id: int | None
    addressee: str
    salutation: str


@dataclass(frozen=True)
class SignerInfo:
    id: int | None
    name: str
    position: list[str]
    unit: str | None


# The address book every office starts with (reference §4: addressees of circulars); an
# administrator adds the office's own.
DEFAULT_ADDRESSES: tuple[tuple[str, str], ...] = (
    ("นายอำเภอ ทุกอำเภอ", "เรียน"),
    ("หัวหน้าส่วนราชการประจำจังหวัด ทุกส่วน", "เรียน"),
    ("นายกองค์การบริหารส่วนจังหวัด", "เรียน"),
    ("นายกเทศมนตรี ทุกแห่ง", "เรียน"),
    ("นายกองค์การบริหารส่วนตำบล ทุกแห่ง", "เรียน"),
    ("ผู้ว่าราชการจังหวัด ทุกจังหวัด", "เรียน"),
    ("ปลัดกระทรวงมหาดไทย", "เรียน"),
    ("อธิบดีกรมการพัฒนาชุมชน", "เรียน"),
    ("พัฒนาการอำเภอ ทุกอำเภอ", "เรียน"),
    ("ผู้ว่าราชการจังหวัด", "เรียน"),
)


def check_role(role: object) -> str:
    if role not in ROLES:
        raise BadRequest(
            f"role: ต้องเป็น clerk (เจ้าหน้าที่สารบรรณ) หรือ admin (ผู้ดูแลระบบ) / must be one of "
            f"{', '.join(ROLES)}, not {role!r}"
        )
    return str(role)


def check_clearance(clearance: object) -> str | None:
    if clearance in (None, ""):
        return None
    if clearance not in SECRECIES:
        raise BadRequest(
            f"clearance: ชั้นความลับต้องเป็น {', '.join(SECRECIES)} หรือเว้นว่าง / clearance "
            f"must be one of {', '.join(SECRECIES)} or empty, not {clearance!r}"
        )
    return str(clearance)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def attempt_key(*parts: str) -> str:
    """The throttle key :meth:`Store.take_attempt` counts under: the SHA-256 of its parts,
    the first naming what is counted (``"address"``, ``"d.miss"``, ...)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()


def _user_info(row: User) -> UserInfo:
    return UserInfo(row.id, row.name, row.display_name, row.role, row.clearance, row.active)


def _draft_info(row: Draft) -> DraftInfo:
    return DraftInfo(
        row.id,
        row.owner_id,
        copy.deepcopy(row.doc),
        row.unit,
        row.date_text,
        row.created_at,
        row.updated_at,
        row.letter_id,
        row.public_id,
    )


class Store:
    """The service's tables, in the archive's database. Thread-safe: one session per call."""

    def __init__(self, archive: Archive, *, password_method: str | None = None) -> None:
        self._database = Database(archive.url)
        self._read, self._write = self._database.read, self._database.write
        # werkzeug's default (scrypt) unless told otherwise (the tests use a cheap one).
        self._hash_method = password_method or "scrypt"
        self._touched: dict[int, dt.datetime] = {}
        self._touch_lock = threading.Lock()
        self.upgrade()

    def close(self) -> None:
        self._database.close()

    def upgrade(self) -> None:
        """Create or upgrade the service's tables (under a lock: several workers may start
        at once)."""
        self._database.upgrade(_MIGRATIONS, version_table=VERSION_TABLE, lock=_MIGRATION_LOCK)

    # ---- users --------------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        *,
        role: str = "clerk",
        clearance: str | None = None,
        display_name: str | None = None,
    ) -> UserInfo:
        name = typed_text(name, "name", limit=64) or ""
        if not _NAME_RE.fullmatch(name):
            raise BadRequest(
                f"name: ชื่อผู้ใช้ {name!r} ต้องยาว ๒-๖๔ ตัวอักษรและไม่มีช่องว่าง / the user "
                f"name {name!r} must be 2-64 characters without spaces"
            )
        role = check_role(role)
        clearance = check_clearance(clearance)
        display = typed_text(display_name, "display_name", required=False, limit=200)
        password = check_password(password, name=name, display_name=display)
        now = utcnow()
        with self._write() as s:
            if s.scalar(select(User.id).where(User.name == name)) is not None:
                raise Conflict(f"มีผู้ใช้ชื่อ {name} แล้ว / a user named {name} exists already")
            row = User(
                name=name,
                display_name=display,
                password_hash=generate_password_hash(password, self._hash_method),
                role=role,
                clearance=clearance,
                active=True,
                created_at=now,
                password_changed_at=now,
            )
            s.add(row)
            s.flush()
            return _user_info(row)

    def users(self) -> list[UserInfo]:
        with self._read() as s:
            return [_user_info(u) for u in s.scalars(select(User).order_by(User.name))]

    def user(self, user_id: int) -> UserInfo | None:
        with self._read() as s:
            row = s.get(User, user_id)
            return _user_info(row) if row else None

    def user_by_name(self, name: str) -> UserInfo | None:
        with self._read() as s:
            row = s.scalar(select(User).where(User.name == name))
            return _user_info(row) if row else None

    def authenticate(self, name: str, password: str) -> UserInfo | None:
        """The active user with this name and password, or None (for either mistake alike)."""
        with self._read() as s:
            row = s.scalar(select(User).where(User.name == name)) if name else None
            stored = row.password_hash if row else None
        if stored is None:
            # Spend the same time as a real check, so a name's existence does not show.
            check_password_hash(_dummy_hash(), password or "")
            return None
        if not check_password_hash(stored, password or "") or not row or not row.active:
            return None
        return _user_info(row)

    def update_user(
        self,
        user_id: int,
        *,
        role: str | None = None,
        clearance: str | None | object = ...,
        active: bool | None = None,
        display_name: str | None | object = ...,
    ) -> UserInfo:
        with self._write() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound(f"ไม่พบผู้ใช้รายการ {user_id} / no user {user_id}")
            if role is not None:
                row.role = check_role(role)
            if clearance is not ...:
                row.clearance = check_clearance(clearance)
            if active is not None:
                row.active = bool(active)
                if not row.active:
                    self._end_sessions(s, user_id, keep=None)
            if display_name is not ...:
                row.display_name = typed_text(
                    display_name, "display_name", required=False, limit=200
                )
            s.flush()
            changed = _user_info(row)
        return changed

    def set_password(self, user_id: int, password: str, *, keep_session: str | None = None) -> None:
        """A new password (the policy's checks first); every login session of the account
        ends, but ``keep_session`` (the one the user changed it from)."""
        with self._read() as s:
            row = s.get(User, user_id)
            if row is None:
                raise NotFound(f"ไม่พบผู้ใช้รายการ {user_id} / no user {user_id}")
            name, display = row.name, row.display_name
        password = check_password(password, name=name, display_name=display)
        hashed = generate_password_hash(password, self._hash_method)
        with self._write() as s:
            row = s.get_one(User, user_id)
            row.password_hash = hashed
            row.password_changed_at = utcnow()
            self._end_sessions(s, user_id, keep=keep_session)

    # ---- login sessions -----------------------------------------------------------------------

    def start_session(
        self, user_id: int, *, lifetime: dt.timedelta, address: str | None = None
    ) -> str:
        """A new login session for the user: the token for the cookie (kept here only as its
        hash). Ended and expired sessions older than :data:`SESSIONS_KEPT` go."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._write() as s:
            cutoff = now - SESSIONS_KEPT
            s.execute(
                delete(LoginSession).where(
                    or_(LoginSession.expires_at < cutoff, LoginSession.ended_at < cutoff)
                )
            )
            s.add(
                LoginSession(
                    user_id=user_id,
                    token_hash=hash_token(token),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + lifetime,
                    address=(address or "")[:64] or None,
                )
            )
        return token

    def user_for_session(self, token: str) -> UserInfo | None:
        """The active user of a live session (not ended, not expired), or None."""
        if not token or len(token) > 200:
            return None
        now = utcnow()
        with self._read() as s:
            found = s.execute(
                select(LoginSession.id, LoginSession.last_seen_at, User)
                .join(User, User.id == LoginSession.user_id)
                .where(
                    LoginSession.token_hash == hash_token(token),
                    LoginSession.ended_at.is_(None),
                    LoginSession.expires_at > now,
                )
            ).first()
        if found is None or not found[2].active:
            return None
        if now - found[1] >= _TOUCH_EVERY:
            with self._write() as s:
                s.execute(
                    update(LoginSession).where(LoginSession.id == found[0]).values(last_seen_at=now)
                )
        return _user_info(found[2])

    def end_session(self, token: str) -> None:
        with self._write() as s:
            s.execute(
                update(LoginSession)
                .where(
                    LoginSession.token_hash == hash_token(token), LoginSession.ended_at.is_(None)
                )
                .values(ended_at=utcnow())
            )

    def end_sessions(self, user_id: int, *, keep: str | None = None) -> int:
        """End every login session of the user (but ``keep``); how many ended."""
        with self._write() as s:
            return self._end_sessions(s, user_id, keep=keep)

    @staticmethod
    def _end_sessions(s: Any, user_id: int, *, keep: str | None) -> int:
        statement = update(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
        )
        if keep:
            statement = statement.where(LoginSession.token_hash != hash_token(keep))
        return int(s.execute(statement.values(ended_at=utcnow())).rowcount or 0)

    def sessions(self, user_id: int) -> list[SessionInfo]:
        """The user's live sessions, the last used first."""
        with self._read() as s:
            rows = s.scalars(
                select(LoginSession)
                .where(
                    LoginSession.user_id == user_id,
                    LoginSession.ended_at.is_(None),
                    LoginSession.expires_at > utcnow(),
                )
                .order_by(LoginSession.last_seen_at.desc())
            ).all()
            return [
                SessionInfo(r.id, r.created_at, r.last_seen_at, r.expires_at, r.address)
                for r in rows
            ]

    # ---- attempts: failed logins, the public pages' requests (the throttle every process
    # shares) ------------------------------------------------------------------------------------

    @staticmethod
    def _count_failure(s: Session, keys: list[str], window: dt.timedelta) -> list[int]:
        now = utcnow()
        s.execute(delete(LoginFailure).where(LoginFailure.at <= now - ATTEMPTS_KEPT))
        if window < ATTEMPTS_KEPT:  # these keys' rows count no more: at most a limit's worth
            s.execute(
                delete(LoginFailure).where(
                    LoginFailure.key_hash.in_(keys), LoginFailure.at <= now - window
                )
            )
        rows = [LoginFailure(key_hash=key, at=now) for key in keys]
        s.add_all(rows)
        s.flush()
        if max(row.id for row in rows) % PRUNE_EVERY < len(rows):
            oldest_kept = s.scalar(
                select(LoginFailure.id)
                .order_by(LoginFailure.id.desc())
                .offset(MAX_LOGIN_FAILURES - 1)
                .limit(1)
            )
            if oldest_kept is not None:
                s.execute(delete(LoginFailure).where(LoginFailure.id < oldest_kept))
        return [row.id for row in rows]

    def take_attempt(
        self, limits: list[tuple[str, int]], window: dt.timedelta
    ) -> tuple[int | None, list[int]]:
        """One attempt counted for every key of ``limits`` (key, limit) before its password
        is checked, unless a key reached its limit: (that key's position, []) then, else
        (None, the rows counted, which :meth:`forget_attempt` takes back when the password
        was right). Checked and counted in one turn (SQLite's write lock, PostgreSQL's
        advisory lock): 40 guesses sent at once had 17 passwords checked of a limit of 10,
        each one counted only after its slow check. ``window`` is at most
        :data:`ATTEMPTS_KEPT`."""
        if window > ATTEMPTS_KEPT:
            raise ValueError(f"a window of {window} is longer than the {ATTEMPTS_KEPT} kept")
        since = utcnow() - window
        keys = [key for key, _limit in limits]
        with self._write() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ATTEMPT_LOCK})
            counts = dict(
                s.execute(
                    select(LoginFailure.key_hash, func.count())
                    .where(LoginFailure.key_hash.in_(keys), LoginFailure.at > since)
                    .group_by(LoginFailure.key_hash)
                ).all()
            )
            for position, (key, limit) in enumerate(limits):
                if counts.get(key, 0) >= limit:
                    return position, []
            return None, self._count_failure(s, keys, window)

    def attempts(self, key: str, window: dt.timedelta) -> int:
        """How many attempts ``key`` has within ``window``, read without the write lock."""
        with self._read() as s:
            return int(
                s.scalar(
                    select(func.count()).where(
                        LoginFailure.key_hash == key, LoginFailure.at > utcnow() - window
                    )
                )
                or 0
            )

    def forget_attempt(self, rows: list[int]) -> None:
        """Take back an attempt :meth:`take_attempt` counted (its password was right)."""
        if rows:
            with self._write() as s:
                s.execute(delete(LoginFailure).where(LoginFailure.id.in_(rows)))

    def clear_failures(self, key: str) -> None:
        with self._write() as s:
            s.execute(delete(LoginFailure).where(LoginFailure.key_hash == key))

    # ---- API tokens ---------------------------------------------------------------------------

    def create_token(self, user_id: int, label: str | None = None) -> tuple[str, TokenInfo]:
        """A new token for the user: the token itself (shown once) and what is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        label = typed_text(label, "label", required=False, limit=200)
        with self._write() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"ไม่พบผู้ใช้รายการ {user_id} / no user {user_id}")
            row = ApiToken(
                user_id=user_id, label=label, token_hash=hash_token(token), created_at=utcnow()
            )
            s.add(row)
            s.flush()
            return token, TokenInfo(row.id, user.name, label, row.created_at, None, False)

    def user_for_token(self, token: str) -> UserInfo | None:
        """The active user a live token belongs to, or None."""
        if not token or len(token) > 200:
            return None
        # Read on every request, not kept per process: a token revoked or an account
        # disabled in one process of `serve --workers N` answered for 5 s in the others.
        digest = hash_token(token)
        with self._read() as s:
            found = s.execute(
                select(ApiToken.id, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
            ).first()
        if found is None or not found[1].active:
            return None
        self._touch_token(found[0])
        return _user_info(found[1])

    def _touch_token(self, token_id: int) -> None:
        """Record when a token was last used, at most once a minute (a write per request
        would queue every API call behind the database's write lock)."""
        now = utcnow()
        with self._touch_lock:
            last = self._touched.get(token_id)
            if last is not None and now - last < _TOUCH_EVERY:
                return
            self._touched[token_id] = now
        with self._write() as s:
            row = s.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = now

    def tokens(self, user_id: int | None = None) -> list[TokenInfo]:
        with self._read() as s:
            query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
            if user_id is not None:
                query = query.where(ApiToken.user_id == user_id)
            rows = s.execute(query.order_by(ApiToken.id)).all()
            return [
                TokenInfo(
                    t.id, name, t.label, t.created_at, t.last_used_at, t.revoked_at is not None
                )
                for t, name in rows
            ]

    def revoke_token(self, token_id: int) -> None:
        with self._write() as s:
            row = s.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"ไม่พบโทเค็นรายการ {token_id} / no token {token_id}")
            row.revoked_at = row.revoked_at or utcnow()

    # ---- drafts -------------------------------------------------------------------------------

    def create_draft(self, owner_id: int, doc: dict[str, Any], *, unit: str | None) -> DraftInfo:
        now = utcnow()
        with self._write() as s:
            row = Draft(
                owner_id=owner_id,
                doc=copy.deepcopy(doc),
                unit=unit,
                date_text=None,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return _draft_info(row)

    def draft(self, draft_id: int) -> DraftInfo | None:
        with self._read() as s:
            row = s.get(Draft, draft_id)
            return _draft_info(row) if row else None

    def draft_id_for(self, public_id: str) -> int | None:
        """The row of the draft with this public id, None if there is none (the caller
        still checks whose it is)."""
        if not isinstance(public_id, str) or len(public_id) > 20:
            return None
        with self._read() as s:
            return s.scalar(select(Draft.id).where(Draft.public_id == public_id))

    def drafts(self, owner_id: int, *, limit: int = 50, offset: int = 0) -> list[DraftInfo]:
        """The owner's drafts not issued yet, the last edited first."""
        with self._read() as s:
            rows = s.scalars(
                select(Draft)
                .where(Draft.owner_id == owner_id, Draft.letter_id.is_(None))
                .order_by(Draft.updated_at.desc(), Draft.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_draft_info(r) for r in rows]

    def count_drafts(self, owner_id: int) -> int:
        with self._read() as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(Draft)
                    .where(Draft.owner_id == owner_id, Draft.letter_id.is_(None))
                )
                or 0
            )

    def update_draft(
        self,
        draft_id: int,
        doc: dict[str, Any],
        *,
        unit: str | None,
        date_text: str | None,
    ) -> DraftInfo:
        with self._write() as s:
            row = s.get(Draft, draft_id)
            if row is None:
                raise NotFound("ไม่พบร่างหนังสือนี้ / no such draft")
            if row.letter_id is not None:
                raise Conflict(
                    "ร่างนี้ออกเลขเป็นหนังสือแล้ว แก้ไขไม่ได้ / this draft was issued and cannot change"
                )
            row.doc = copy.deepcopy(doc)
            row.unit = unit
            row.date_text = date_text
            row.updated_at = utcnow()
            s.flush()
            return _draft_info(row)

    def claim_draft(self, draft_id: int, *, worker: str) -> str | None:
        """Take a draft for issuing, so two clicks on "issue" cannot take two numbers: its
        letter id becomes 0 (a placeholder) and it gets a fresh idempotency key, which the
        archive records with the letter it issues. Returns the key; None if the draft is
        issued or being issued already. ``worker`` names the claiming process."""
        with self._write() as s:
            row = s.get(Draft, draft_id)
            if row is None or row.letter_id is not None:
                return None
            row.letter_id = 0
            row.issue_key = f"draft:{draft_id}:{secrets.token_hex(8)}"
            row.claimed_by = worker
            row.claimed_at = utcnow()
            return row.issue_key

    def mark_issued(self, draft_id: int, letter_id: int, key: str | None = None) -> None:
        """Link the draft to the letter it became (only under the claim ``key``, if
        given)."""
        with self._write() as s:
            row = s.get(Draft, draft_id)
            if row is not None and (key is None or row.issue_key == key):
                row.letter_id = letter_id
                row.issued_at = utcnow()
                row.claimed_by = None

    def release_draft(self, draft_id: int, key: str | None = None) -> None:
        """Give back a draft whose issue failed, so the clerk can correct it (only under the
        claim ``key``, if given)."""
        with self._write() as s:
            row = s.get(Draft, draft_id)
            if row is not None and row.letter_id == 0 and (key is None or row.issue_key == key):
                row.letter_id = None
                row.issue_key = row.claimed_by = row.claimed_at = None

    def claimed_drafts(self) -> list[DraftClaim]:
        """Drafts claimed for issuing and not yet linked to a letter (a crash can leave
        them so)."""
        with self._read() as s:
            rows = s.scalars(select(Draft).where(Draft.letter_id == 0).order_by(Draft.id))
            return [
                DraftClaim(r.id, r.issue_key, r.claimed_by, r.claimed_at or r.updated_at)
                for r in rows
            ]

    def delete_draft(self, draft_id: int) -> None:
        with self._write() as s:
            row = s.get(Draft, draft_id)
            if row is None or row.letter_id is not None:
                raise Conflict(f"ลบร่างรายการ {draft_id} ไม่ได้ / draft {draft_id} cannot be deleted")
            s.delete(row)

    # ---- address book and signers -------------------------------------------------------------

    def addresses(self) -> list[AddressInfo]:
        with self._read() as s:
            rows = s.scalars(select(AddressBookEntry).order_by(AddressBookEntry.addressee)).all()
            own = [AddressInfo(r.id, r.addressee, r.salutation) for r in rows]
        known = {a.addressee for a in own}
        builtin = [AddressInfo(None, a, sal) for a, sal in DEFAULT_ADDRESSES if a not in known]
        return own + builtin

    def add_address(self, addressee: str, salutation: str = "เรียน") -> AddressInfo:
        addressee = typed_text(addressee, "addressee") or ""
        salutation = typed_text(salutation, "salutation", limit=100) or "เรียน"
        with self._write() as s:
            if s.scalar(select(AddressBookEntry.id).where(AddressBookEntry.addressee == addressee)):
                raise Conflict(f"มี {addressee} ในสมุดรายชื่อแล้ว / already in the address book")
            row = AddressBookEntry(addressee=addressee, salutation=salutation, created_at=utcnow())
            s.add(row)
            s.flush()
            return AddressInfo(row.id, addressee, salutation)

    def delete_address(self, entry_id: int) -> None:
        with self._write() as s:
            row = s.get(AddressBookEntry, entry_id)
            if row is None:
                raise NotFound(f"ไม่พบรายชื่อรายการ {entry_id} / no address {entry_id}")
            s.delete(row)

    def signers(self) -> list[SignerInfo]:
        with self._read() as s:
            rows = s.scalars(select(Signer).order_by(Signer.name)).all()
            return [SignerInfo(r.id, r.name, list(r.position), r.unit) for r in rows]

    def add_signer(self, name: str, position: list[str], unit: str | None = None) -> SignerInfo:
        name = typed_text(name, "name", limit=200) or ""
        lines = [line.strip() for line in position if line and line.strip()]
        if not lines:
            raise BadRequest("position: ต้องระบุตำแหน่งอย่างน้อยหนึ่งบรรทัด / at least one line")
        unit = typed_text(unit, "unit", required=False)
        with self._write() as s:
            row = Signer(name=name, position=lines, unit=unit, created_at=utcnow())
            s.add(row)
            s.flush()
            return SignerInfo(row.id, name, lines, unit)

    def delete_signer(self, signer_id: int) -> None:
        with self._write() as s:
            row = s.get(Signer, signer_id)
            if row is None:
                raise NotFound(f"ไม่พบผู้ลงนามรายการ {signer_id} / no signer {signer_id}")
            s.delete(row)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password: evens out the time of a failed login")
