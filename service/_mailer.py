"""The background sender of ``saraban serve``: drains the archive's mail queue after each
sending (poked) and once a minute (retries, and mail queued by a command), in one daemon
thread per process. Without SARABAN_SMTP_HOST it does not start: the mail waits."""

from __future__ import annotations

import logging
import threading

from saraban.archive import Archive
from saraban.settings import Settings
from saraban.usecases import sending

logger = logging.getLogger("saraban.service")
INTERVAL = 60.0


class MailSender:
    def __init__(self, archive: Archive, settings: Settings) -> None:
        self.archive, self.settings = archive, settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if settings.smtp_host:
            self._thread = threading.Thread(target=self._run, name="saraban-mail", daemon=True)
            self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=35)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent, failed = sending.send_mail(self.archive, self.settings)
                if sent or failed:
                    logger.info("mail: sent %d, failed %d", sent, failed)
            except Exception:  # noqa: BLE001 - the sender must outlive a bad round
                logger.exception("mail: sending the queue failed")
            self._wake.wait(INTERVAL)
            self._wake.clear()
