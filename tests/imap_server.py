"""A throw-away IMAP server for the tests: Debian's Dovecot (``dovecot-imapd``) with its own
configuration in a temporary folder, one mail user from a password file, maildirs in that
folder, listening on 127.0.0.1 only: one port for plain IMAP with STARTTLS and one for IMAP
over SSL, with a self-signed certificate made for the run (``cert`` is the file a client
trusts).

Dovecot started as root would drop to its system users; the tests run it as one
unprivileged user all through instead: ``dovecot`` (the package creates it) when the tests
run as root, else the user running them.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from saraban.folders import LockedFolder

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "saraban", "รหัส-ทดสอบ-imap"  # not ASCII: logs in by AUTHENTICATE PLAIN
ASCII_USER, ASCII_PASSWORD = "clerk", "ascii-only-secret"  # logs in by LOGIN
PASSWORDS = {USER: PASSWORD, ASCII_USER: ASCII_PASSWORD}


def find_dovecot() -> str | None:
    return shutil.which("dovecot") or (DOVECOT if os.access(DOVECOT, os.X_OK) else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class ImapServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        # held while this test process lives: one killed leaves its folder to the next
        self._folder = LockedFolder("saraban-imap-")
        self.base = self._folder.path
        self.base.chmod(0o755)
        self.runner = pwd.getpwnam("dovecot") if os.geteuid() == 0 else None
        account = self.runner or pwd.getpwuid(os.geteuid())
        self.cert, key = _self_signed(self.base)
        self.port, self.ssl_port = _free_port(), _free_port()
        (self.base / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}\n{ASCII_USER}:{{PLAIN}}{ASCII_PASSWORD}\n",
            encoding="utf-8",
        )
        self.config = self.base / "dovecot.conf"
        self.config.write_text(
            f"""
base_dir = {self.base}/run
state_dir = {self.base}/state
log_path = {self.base}/dovecot.log
instance_name = saraban-test-{self.port}
protocols = imap
listen = 127.0.0.1
default_internal_user = {account.pw_name}
default_internal_group = {account.pw_name if self.runner else ""}
default_login_user = {account.pw_name}
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
auth_mechanisms = plain
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.base}/passwd
}}
userdb {{
  driver = static
  args = home={self.base}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""",
            encoding="utf-8",
        )
        if self.runner is None:
            self.config.write_text(
                self.config.read_text(encoding="utf-8").replace("default_internal_group = \n", ""),
                encoding="utf-8",
            )
        else:
            for path in [self.base, *self.base.rglob("*")]:
                os.chown(path, self.runner.pw_uid, self.runner.pw_gid)

    def start(self) -> None:
        kwargs: dict = {}
        if self.runner is not None:
            kwargs = {"user": self.runner.pw_uid, "group": self.runner.pw_gid, "extra_groups": []}
        # Dovecot goes to the background keeping the descriptors it was given: a pipe here
        # would never close, so what it says at start goes to a file.
        with open(self.base / "start.log", "wb") as said:
            started = subprocess.run(
                [self.binary, "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=said,
                stderr=subprocess.STDOUT,
                check=False,
                **kwargs,
            )
        if started.returncode != 0:
            raise RuntimeError(
                "Dovecot did not start: " + (self.base / "start.log").read_text(encoding="utf-8")
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().logout()
                return
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    log = self.base / "dovecot.log"
                    said = log.read_text(encoding="utf-8") if log.exists() else "(no log)"
                    raise RuntimeError(f"Dovecot did not start:\n{said[-3000:]}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        pid_file = self.base / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        self._folder.remove()

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self, user: str = USER, password: str = PASSWORD) -> imaplib.IMAP4:
        """A logged-in client on the plain port, upgraded with STARTTLS."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.starttls(self.context())
        client.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        return client

    def deliver(
        self, message: bytes, folder: str = "INBOX", *, seen: bool = False, user: str = USER
    ) -> None:
        """Put a message in a user's folder (made if missing), as a mail server would."""
        from saraban.usecases.mailbox import imap_utf7

        client = self.client(user, PASSWORDS[user])
        try:
            name = '"' + imap_utf7(folder) + '"'
            client.create(name)  # NO when it exists already: fine
            status, said = client.append(name, "(\\Seen)" if seen else None, None, message)
            assert status == "OK", said
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX", user: str = USER) -> list[set[str]]:
        """The flags of each message in the user's folder, in order."""
        from saraban.usecases.mailbox import imap_utf7

        client = self.client(user, PASSWORDS[user])
        try:
            client.select('"' + imap_utf7(folder) + '"', readonly=True)
            status, data = client.fetch("1:*", "(FLAGS)")
            found = []
            for item in data:
                if isinstance(item, bytes) and b"FLAGS" in item:
                    inner = item.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode()
                    found.append(set(inner.split()) - {"\\Recent"})  # per session
            return found
        finally:
            client.logout()
