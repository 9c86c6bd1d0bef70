"""Administration (administrators only): units and registers, users and their clearance,
API tokens, the address book and signers, rebuilding the search index and verifying the
archive (both with progress), the files the watched folder could not take in (tried again on
request), and the latest audit events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from saraban.errors import BadRequest, Conflict, NotFound, SarabanError
from saraban.letter import SECRECIES, can_see
from saraban.service import _web
from saraban.service._passwords import check_password
from saraban.service._store import ROLES
from saraban.usecases import intake

bp = Blueprint("admin", __name__, url_prefix="/admin")
NUMBER_FORMATS_TH = {
    "plain": "เลขเรียงต่อเนื่อง เช่น นค ๐๐๑๙.๓/๑๒๓",
    "year": "มีปีท้ายเลข เช่น นค ๐๐๑๙.๓/๑๒๓/๒๕๖๘",
}
CIRCULAR_SERIES_TH = {
    "separate": "หนังสือเวียน (ว) แยกชุดเลข",
    "shared": "หนังสือเวียนใช้ชุดเลขเดียวกับหนังสือปกติ",
}


AUDIT_SHOWN = 30
AUDIT_SCAN = 5000  # events read at most to fill one page of the audit table


def visible_events(archive: Any, clearance: str | None, limit: int = AUDIT_SHOWN) -> list[Any]:
    """The newest audit events an administrator may read: an event about a letter above
    their clearance (or whose detail carries such a secrecy) is left out whole, so its
    subject, cancel reason or file name never shows, and the table is filled from older
    events, so the number of rows does not tell how many were left out."""
    secrecy_of: dict[int, str | None] = {}
    received_secrecy: dict[int, str | None] = {}

    def visible(event: Any) -> bool:
        levels = [event.detail.get("secrecy")] if event.detail.get("secrecy") else []
        received_id = event.detail.get("received_id")
        if isinstance(received_id, int):  # a received letter typed in has no letter
            if received_id not in received_secrecy:
                try:
                    received_secrecy[received_id] = archive.received_one(received_id).secrecy
                except NotFound:
                    received_secrecy[received_id] = None
            levels.append(received_secrecy[received_id])
        elif (event.action == "letter.receive" and event.letter_id is None) or (
            event.action == "delivery.reply"
        ):
            # Written before such events named their row: its secrecy is unknown.
            levels.append(SECRECIES[-1])
        if event.letter_id is not None:
            if event.letter_id not in secrecy_of:
                try:
                    secrecy_of[event.letter_id] = archive.get(event.letter_id).secrecy
                except NotFound:
                    secrecy_of[event.letter_id] = None
            levels.append(secrecy_of[event.letter_id])
        return all(can_see(clearance, level) for level in levels)

    fetched = limit
    while True:
        events = archive.events(limit=fetched)
        shown = [e for e in events if visible(e)]
        if len(shown) >= limit or len(events) < fetched or fetched >= AUDIT_SCAN:
            return shown[:limit]
        fetched = min(fetched * 4, AUDIT_SCAN)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _done(message: str, section: str) -> Any:
    flash(message, "success")
    return redirect(url_for("admin.index") + f"#{section}")


def _failed(exc: SarabanError, section: str) -> Any:
    if exc.status >= 500:
        raise exc
    flash(exc.message, "error")
    return redirect(url_for("admin.index") + f"#{section}")


@bp.get("/")
@_web.admin_required
def index() -> Any:
    archive = _web.archive()
    store = _web.store()
    return render_template(
        "admin.html",
        units=archive.units(),
        registers=archive.registers(),
        users=store.users(),
        tokens=store.tokens(),
        addresses=store.addresses(),
        signers=store.signers(),
        roles=ROLES,
        secrecies=SECRECIES,
        number_formats=NUMBER_FORMATS_TH,
        circular_series=CIRCULAR_SERIES_TH,
        events=visible_events(archive, _web.clearance()),
        sees_everything=_web.clearance() == SECRECIES[-1],
        search=_web.search_service(),
        job=request.args.get("job"),
        intake=_intake_state(),
    )


def _intake_state() -> dict[str, Any]:
    """The watched folder and mailbox as the page shows them: what is set, and the files
    not taken in. Their names and reasons go only to an administrator cleared for every
    level (a file not taken in has no secrecy yet); others see how many."""
    settings = current_app.extensions["saraban_settings"]
    failed, total = intake.failed_files(settings.home / "inbox")
    return {
        "watch": settings.inbox_watch,
        "imap": f"{settings.imap_folder} @ {settings.imap_host}" if settings.imap_host else None,
        "failed": failed if _web.clearance() == SECRECIES[-1] else [],
        "failed_total": total,
    }


@bp.post("/intake/retry")
@_web.admin_required
def retry_intake() -> Any:
    if _web.clearance() != SECRECIES[-1]:
        raise NotFound("ไม่พบไฟล์นี้ในรายการที่รับไม่ได้ / no such file among those not taken in")
    name = request.form.get("name", "")
    home = current_app.extensions["saraban_settings"].home
    try:
        back = intake.retry_failed(home / "inbox", name)
    except SarabanError as exc:
        return _failed(exc, "intake")
    _web.archive().audit("intake.retry", actor=_web.user().name, detail={"file": back})
    return _done(f"นำ {back} กลับเข้าโฟลเดอร์รับหนังสือแล้ว จะรับใหม่ในรอบถัดไป", "intake")


@bp.post("/units")
@_web.admin_required
def add_unit() -> Any:
    form = request.form
    signer_name = (form.get("signer_name") or "").strip()
    signer = (
        {"name": signer_name, "position": _lines(form.get("signer_position"))}
        if signer_name
        else None
    )
    try:
        unit = _web.archive().add_unit(
            form.get("prefix") or "",
            form.get("name") or "",
            register=(form.get("register") or "").strip() or None,
            address=_lines(form.get("address")),
            phone=form.get("phone") or None,
            fax=form.get("fax") or None,
            email=form.get("email") or None,
            footer=form.get("footer") or None,
            signer=signer,
            number_format=form.get("number_format") or "plain",
            circular_series=form.get("circular_series") or "separate",
            actor=_web.user().name,
        )
    except SarabanError as exc:
        return _failed(exc, "units")
    return _done(f"เพิ่มส่วนราชการ {unit.prefix} {unit.name} แล้ว", "units")


@bp.post("/registers")
@_web.admin_required
def add_register() -> Any:
    form = request.form
    try:
        register = _web.archive().add_register(
            form.get("name") or "",
            number_format=form.get("number_format") or "plain",
            circular_series=form.get("circular_series") or "separate",
            actor=_web.user().name,
        )
    except SarabanError as exc:
        return _failed(exc, "units")
    return _done(f"เพิ่มทะเบียน {register.name} แล้ว", "units")


@bp.post("/users")
@_web.admin_required
def add_user() -> Any:
    form = request.form
    admin = _web.user()
    try:
        if (form.get("password") or "") != (form.get("repeat_password") or ""):
            raise BadRequest("repeat_password: รหัสผ่านทั้งสองช่องไม่ตรงกัน / the passwords differ")
        _web.check_clearance_grant(form.get("clearance") or None)
        added = _web.store().add_user(
            form.get("name") or "",
            form.get("password") or "",
            role=form.get("role") or "clerk",
            clearance=form.get("clearance") or None,
            display_name=form.get("display_name") or None,
        )
    except SarabanError as exc:
        return _failed(exc, "users")
    _web.archive().audit(
        "user.add",
        {"user": added.name, "role": added.role, "clearance": added.clearance},
        actor=admin.name,
    )
    return _done(f"เพิ่มผู้ใช้ {added.name} แล้ว", "users")


@bp.post("/users/<int:user_id>")
@_web.admin_required
def update_user(user_id: int) -> Any:
    form = request.form
    admin = _web.user()
    store = _web.store()
    try:
        if user_id == admin.id and (form.get("role") != "admin" or form.get("active") != "1"):
            raise BadRequest("ลดสิทธิ์หรือปิดบัญชีของตัวเองไม่ได้ / you cannot demote or disable yourself")
        target = store.user(user_id)
        if target is None:
            raise NotFound(f"ไม่พบผู้ใช้รายการ {user_id} / no user {user_id}")
        _web.check_clearance_grant(form.get("clearance") or None, current=target.clearance)
        password = form.get("password") or ""
        if password:  # checked before anything changes: all of the form or none of it
            _web.check_acts_within_clearance(target)
            check_password(password, name=target.name, display_name=target.display_name)
        changed = store.update_user(
            user_id,
            role=form.get("role") or None,
            clearance=form.get("clearance") or None,
            active=form.get("active") == "1",
        )
        if password:
            store.set_password(user_id, password)
    except SarabanError as exc:
        return _failed(exc, "users")
    _web.archive().audit(
        "user.update",
        {
            "user": changed.name,
            "role": changed.role,
            "clearance": changed.clearance,
            "active": changed.active,
            "password_reset": bool(password),
        },
        actor=admin.name,
    )
    return _done(f"บันทึกผู้ใช้ {changed.name} แล้ว", "users")


@bp.post("/tokens/<int:token_id>/revoke")
@_web.admin_required
def revoke_token(token_id: int) -> Any:
    try:
        _web.store().revoke_token(token_id)
    except SarabanError as exc:
        return _failed(exc, "users")
    _web.archive().audit("token.revoke", {"token_id": token_id}, actor=_web.user().name)
    return _done("เพิกถอนโทเค็นแล้ว", "users")


@bp.post("/addresses")
@_web.admin_required
def add_address() -> Any:
    try:
        entry = _web.store().add_address(
            request.form.get("addressee") or "", request.form.get("salutation") or "เรียน"
        )
    except SarabanError as exc:
        return _failed(exc, "addresses")
    return _done(f"เพิ่ม {entry.addressee} ในสมุดรายชื่อแล้ว", "addresses")


@bp.post("/addresses/<int:entry_id>/delete")
@_web.admin_required
def delete_address(entry_id: int) -> Any:
    try:
        _web.store().delete_address(entry_id)
    except SarabanError as exc:
        return _failed(exc, "addresses")
    return _done("ลบรายชื่อแล้ว", "addresses")


@bp.post("/signers")
@_web.admin_required
def add_signer() -> Any:
    form = request.form
    try:
        signer = _web.store().add_signer(
            form.get("name") or "", _lines(form.get("position")), form.get("unit") or None
        )
    except SarabanError as exc:
        return _failed(exc, "addresses")
    return _done(f"เพิ่มผู้ลงนาม {signer.name} แล้ว", "addresses")


@bp.post("/signers/<int:signer_id>/delete")
@_web.admin_required
def delete_signer(signer_id: int) -> Any:
    try:
        _web.store().delete_signer(signer_id)
    except SarabanError as exc:
        return _failed(exc, "addresses")
    return _done("ลบผู้ลงนามแล้ว", "addresses")


def start_reindex(owner_id: int, clearance: str | None) -> Any:
    """Rebuild the search index from the archive in the background (one at a time). The
    letters counted (every letter, secret ones too) are shown only to an administrator
    cleared for every level: to another, the count less the letters they see was the
    number of secret ones; they read that the index is being rebuilt, then that it is."""
    jobs = _web.jobs()
    counted = clearance == SECRECIES[-1]
    running = jobs.running("reindex")
    if running is not None:
        starter = _web.store().user(running.owner_id)
        if counted or starter is None or starter.clearance != SECRECIES[-1]:
            return running  # it tells its count to none, or they may read it
        # a rebuild counting every letter, started by an administrator cleared for them
        raise Conflict(
            "กำลังสร้างดัชนีค้นหาใหม่อยู่ ลองอีกครั้งเมื่อเสร็จ / the search index is being rebuilt: "
            "try again when it is done"
        )
    service = _web.search_service()
    service.require()

    def work(job: Any) -> Any:
        def progress(done: int, total: int | None = None, *_: Any) -> None:
            if counted:
                job.advance(done, total if total is not None else job.total, "")
            else:
                job.advance(0, 0, "กำลังสร้างดัชนีค้นหาใหม่")

        done = service.reindex(progress=progress)
        return str(done) if counted else "สร้างดัชนีค้นหาใหม่เสร็จแล้ว"

    return jobs.start("reindex", owner_id, "สร้างดัชนีค้นหาใหม่", work)


@bp.post("/reindex")
@_web.admin_required
def reindex() -> Any:
    try:
        job = start_reindex(_web.user().id, _web.clearance())
    except Conflict as exc:
        return _failed(exc, "search")
    _web.archive().audit("search.reindex", actor=_web.user().name)
    return redirect(url_for("admin.index", job=job.id) + "#search")


@bp.post("/verify")
@_web.admin_required
def verify() -> Any:
    # Its findings name letters, numbers and series gaps of every level: told only to an
    # administrator cleared for all of them (the operator runs `saraban verify` as well).
    if _web.clearance() != SECRECIES[-1]:
        raise _web.Forbidden(
            "การตรวจความครบถ้วนของคลังรายงานหนังสือทุกชั้นความลับ ต้องเป็นผู้ดูแลระบบที่มีชั้นความลับสูงสุด "
            f"({SECRECIES[-1]}) / checking the archive reports letters of every level: it "
            "takes an administrator cleared for all of them"
        )
    archive = _web.archive()

    def work(job: Any) -> Any:
        job.advance(0, 1, "กำลังตรวจไฟล์ เลขทะเบียน และบันทึกการตรวจสอบ")
        problems = archive.verify()
        job.advance(1, 1, "ไม่พบปัญหา" if not problems else f"พบปัญหา {len(problems)} รายการ")
        return problems

    job = _web.jobs().start("verify", _web.user().id, "ตรวจสอบความครบถ้วนของคลังหนังสือ", work)
    return redirect(url_for("admin.index", job=job.id) + "#search")
