"""The watched folder while the service runs: ``saraban serve`` looks at
``SARABAN_HOME/inbox/`` every ``SARABAN_INBOX_WATCH`` seconds (0: never) in a background
thread and takes in what was dropped there (``saraban.usecases.intake.consume_inbox``: read
in worker processes, never in a request's thread; each file moved to ``inbox/done/`` or
``inbox/failed/`` with the reason). When ``SARABAN_IMAP_HOST`` is set, each look first
copies the mailbox's unread e-mails into the folder (``saraban.usecases.mailbox``).

Each look that finds files is a job of kind ``inbox`` (``service/_jobs.py``): its progress
is written under the instance, so the received register's page shows "n of m files" from
whichever serving process answers (only the leader watches). The progress says how many
files, never their names: a file's name may tell of a secret letter."""

from __future__ import annotations

import logging
import threading
from typing import Any

from saraban.errors import SarabanError
from saraban.usecases import mailbox

logger = logging.getLogger("saraban.inbox")
INBOX_JOB = "inbox"
SYSTEM_OWNER = 0  # no user's: shown to every clerk as counts, polled by administrators


def inbox_register(archive: Any, configured: str | None) -> str | None:
    """The register that numbers the folder's letters: the configured one, or the only one
    there is; None (said in the log) when that is not clear."""
    if configured:
        return str(archive.register_name(configured))
    names = [r.name for r in archive.registers()]
    return names[0] if len(names) == 1 else None


def look_once(app: Any) -> Any:
    """Take in what is in the folder now; the result of :func:`consume_inbox`, or None when
    there is no register to number in."""
    from saraban.usecases import intake

    settings = app.extensions["saraban_settings"]
    archive = app.extensions["archive"]
    inbox = settings.home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    read_mailbox(app, inbox)
    if not any(p.is_file() and not p.name.startswith(".") for p in inbox.iterdir()):
        return None
    register = inbox_register(archive, settings.inbox_register)
    if register is None:
        logger.warning(
            "inbox: set SARABAN_INBOX_REGISTER: which register numbers the letters in %s?", inbox
        )
        return None
    jobs = app.extensions["saraban_jobs"]
    finished = threading.Event()

    def work(job: Any) -> dict[str, int]:
        try:
            job.advance(0, 0, "กำลังรับหนังสือจากโฟลเดอร์")
            result = intake.consume_inbox(
                archive,
                inbox,
                register=register,
                actor="inbox",
                progress=lambda done, total, _name: job.advance(
                    done, total, f"รับจากโฟลเดอร์แล้ว {done} จาก {total} ไฟล์"
                ),
            )
            outcome["result"] = result
            return {
                "taken": len(result.taken),
                "duplicates": len(result.duplicates),
                "failed": len(result.failed),
            }
        finally:
            finished.set()

    outcome: dict[str, Any] = {}
    job = jobs.start(INBOX_JOB, SYSTEM_OWNER, "รับหนังสือจากโฟลเดอร์ inbox", work)
    finished.wait()
    result = outcome.get("result")
    if result is None:
        raise SarabanError(job.error or "the look at the folder failed")
    for taken in result.taken:
        logger.info("inbox: %s taken in as %s", taken.reading.name, taken.received.public_id)
    for name, _earlier in result.duplicates:
        logger.info("inbox: %s was received before: moved to done/ unkept", name)
    for name, why in result.failed:
        logger.warning("inbox: %s not taken in: %s", name, why)
    if result.taken:
        app.extensions["saraban_search"].poke()
    return result


def read_mailbox(app: Any, inbox: Any) -> None:
    """Copy the mailbox's unread e-mails into the folder when SARABAN_IMAP_HOST is set;
    what fails is logged, and the folder is looked at all the same. A mailbox that failed
    waits before it is tried again (:class:`saraban.usecases.mailbox.Patience`)."""
    from saraban.usecases import intake

    settings = app.extensions["saraban_settings"]
    imap = mailbox.ImapSettings.of(settings)
    if imap is None:
        return
    patience = app.extensions.setdefault("saraban_mailbox_patience", mailbox.Patience())
    fetched, problems = mailbox.read_into(
        imap, inbox, patience, max_bytes=intake.MAIL_MAX_BYTES, interval=settings.inbox_watch
    )
    if fetched is not None and fetched.copied:
        logger.info("inbox: %d e-mails copied from the mailbox", len(fetched.copied))
    for what, why in problems:
        logger.warning("inbox: %s: %s", what, why)


def start_watching(app: Any) -> threading.Event | None:
    """Look at the folder in a background thread until the returned event is set; None
    when ``SARABAN_INBOX_WATCH`` is 0."""
    seconds = app.extensions["saraban_settings"].inbox_watch
    if not seconds:
        return None
    stop = threading.Event()

    def watch() -> None:
        while True:
            try:
                look_once(app)
            except SarabanError as exc:
                logger.warning("inbox: %s", exc.message)
            except Exception:  # noqa: BLE001 - reported; the next look tries again
                if not stop.is_set():  # not its readings stopped as the process ends
                    logger.exception("inbox: the look at the folder failed")
            if stop.wait(seconds):
                return

    threading.Thread(target=watch, daemon=True, name="saraban-inbox").start()
    return stop
