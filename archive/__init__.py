"""The archive: registers, issuing letters under gap-free numbers, stored files, the incoming
register, references between letters, retention, and verification.

>>> from saraban.archive import open_archive
>>> archive = open_archive("instance")          # SQLite; or a PostgreSQL URL as 2nd argument
>>> archive.add_unit("นค ๐๐๑๙.๓", "ศาลากลางจังหวัดหนองคาย", actor="clerk")
>>> issued = archive.issue(letter, "นค ๐๐๑๙.๓", actor="clerk")
>>> issued.ref_no, issued.pdf_path
>>> archive.verify()                             # [] when all is well
>>> create_self_signed_key(archive, "นค ๐๐๑๙.๓", actor="clerk")   # or import_key_pkcs12
>>> signed_pdf = sign_issued(archive, issued.id)  # PAdES, with the verification QR code

The package loads its parts (SQLAlchemy and the ORM models among them) when a name of it is
first used, not when it is imported: a command that reads the archive through ``_quick``
(``saraban tracking``) imports ``saraban.archive._quick`` without paying for the rest. The
first name used loads them all, as an eager import would.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saraban.archive import _circulars as circulars
    from saraban.archive import _mail as mail
    from saraban.archive._archive import (
        Archive,
        default_actor,
        init_app,
        open_archive,
        open_settings_archive,
    )
    from saraban.archive._core import Renderer, TemplatesRenderer, with_unit_defaults
    from saraban.archive._db import Database
    from saraban.archive._issuing import IssueFailed
    from saraban.archive._keys import (
        SigningKeyError,
        UnitKey,
        create_self_signed_key,
        import_key_pem,
        import_key_pkcs12,
        list_signing_keys,
    )
    from saraban.archive._models import SHOWN_STATUSES, UTCDateTime, utcnow
    from saraban.archive._private import close_up, exposed, keep_private, private_folder
    from saraban.archive._process import FOREIGN_LEASE, crashpoint, worker_alive, worker_token
    from saraban.archive._records import (
        AuditEntry,
        IndexableLetter,
        IssuedLetter,
        LetterRecord,
        ReceivedRecord,
        RegisterInfo,
        Reservation,
        StoredOriginal,
        Thread,
        UnitInfo,
    )
    from saraban.archive._registers import (
        Table,
        check_rows,
        incoming_register,
        outgoing_register,
        retention_due,
    )
    from saraban.archive._registers import write as write_table
    from saraban.archive._signing import (
        FileCheck,
        PublicLetter,
        SignatureCheck,
        SignedLetter,
        SigningRefused,
        check_file,
        letter_for_token,
        sign_issued,
        sign_letter,
        signed_copies,
    )

__all__ = [
    "FOREIGN_LEASE",
    "SHOWN_STATUSES",
    "Archive",
    "AuditEntry",
    "Database",
    "FileCheck",
    "IndexableLetter",
    "IssueFailed",
    "IssuedLetter",
    "LetterRecord",
    "Paging",
    "PublicLetter",
    "ReceivedRecord",
    "RegisterInfo",
    "Renderer",
    "Reservation",
    "SignatureCheck",
    "SignedLetter",
    "SigningKeyError",
    "SigningRefused",
    "StoredOriginal",
    "Table",
    "TemplatesRenderer",
    "Thread",
    "UTCDateTime",
    "UnitInfo",
    "UnitKey",
    "check_file",
    "check_rows",
    "circulars",
    "close_up",
    "crashpoint",
    "create_self_signed_key",
    "default_actor",
    "exposed",
    "import_key_pem",
    "import_key_pkcs12",
    "incoming_register",
    "init_app",
    "keep_private",
    "letter_for_token",
    "list_signing_keys",
    "mail",
    "open_archive",
    "open_settings_archive",
    "outgoing_register",
    "private_folder",
    "retention_due",
    "sign_issued",
    "sign_letter",
    "signed_copies",
    "utcnow",
    "with_unit_defaults",
    "worker_alive",
    "worker_token",
    "write_table",
]


# Where each public name comes from: the module, and the name there (None: the same); and
# the parts that are modules themselves. tests/test_tracking_quick.py checks it against
# __all__ and against the names as they were imported eagerly.
_MODULES = {"circulars": "saraban.archive._circulars", "mail": "saraban.archive._mail"}
_WHERE: dict[str, tuple[str, str | None]] = {
    "Archive": ("saraban.archive._archive", None),
    "default_actor": ("saraban.archive._archive", None),
    "init_app": ("saraban.archive._archive", None),
    "open_archive": ("saraban.archive._archive", None),
    "open_settings_archive": ("saraban.archive._archive", None),
    "Renderer": ("saraban.archive._core", None),
    "TemplatesRenderer": ("saraban.archive._core", None),
    "with_unit_defaults": ("saraban.archive._core", None),
    "Database": ("saraban.archive._db", None),
    "IssueFailed": ("saraban.archive._issuing", None),
    "SigningKeyError": ("saraban.archive._keys", None),
    "UnitKey": ("saraban.archive._keys", None),
    "create_self_signed_key": ("saraban.archive._keys", None),
    "import_key_pem": ("saraban.archive._keys", None),
    "import_key_pkcs12": ("saraban.archive._keys", None),
    "list_signing_keys": ("saraban.archive._keys", None),
    "SHOWN_STATUSES": ("saraban.archive._models", None),
    "UTCDateTime": ("saraban.archive._models", None),
    "utcnow": ("saraban.archive._models", None),
    "close_up": ("saraban.archive._private", None),
    "exposed": ("saraban.archive._private", None),
    "keep_private": ("saraban.archive._private", None),
    "private_folder": ("saraban.archive._private", None),
    "FOREIGN_LEASE": ("saraban.archive._process", None),
    "crashpoint": ("saraban.archive._process", None),
    "worker_alive": ("saraban.archive._process", None),
    "worker_token": ("saraban.archive._process", None),
    "AuditEntry": ("saraban.archive._records", None),
    "IndexableLetter": ("saraban.archive._records", None),
    "IssuedLetter": ("saraban.archive._records", None),
    "LetterRecord": ("saraban.archive._records", None),
    "Paging": ("saraban.archive._records", None),
    "ReceivedRecord": ("saraban.archive._records", None),
    "RegisterInfo": ("saraban.archive._records", None),
    "Reservation": ("saraban.archive._records", None),
    "StoredOriginal": ("saraban.archive._records", None),
    "Thread": ("saraban.archive._records", None),
    "UnitInfo": ("saraban.archive._records", None),
    "Table": ("saraban.archive._registers", None),
    "incoming_register": ("saraban.archive._registers", None),
    "outgoing_register": ("saraban.archive._registers", None),
    "retention_due": ("saraban.archive._registers", None),
    "write_table": ("saraban.archive._registers", "write"),
    "check_rows": ("saraban.archive._registers", None),
    "FileCheck": ("saraban.archive._signing", None),
    "PublicLetter": ("saraban.archive._signing", None),
    "SignatureCheck": ("saraban.archive._signing", None),
    "SignedLetter": ("saraban.archive._signing", None),
    "SigningRefused": ("saraban.archive._signing", None),
    "check_file": ("saraban.archive._signing", None),
    "letter_for_token": ("saraban.archive._signing", None),
    "sign_issued": ("saraban.archive._signing", None),
    "sign_letter": ("saraban.archive._signing", None),
    "signed_copies": ("saraban.archive._signing", None),
}


def _load_all() -> None:
    """Import every part, as the package's eager import did, and keep its public names."""
    found: dict[str, Any] = {name: importlib.import_module(m) for name, m in _MODULES.items()}
    for name, (module, attribute) in _WHERE.items():
        found[name] = getattr(importlib.import_module(module), attribute or name)
    globals().update(found)


def __getattr__(name: str) -> Any:
    if name not in __all__:
        # Not a public name (a submodule being imported, or a mistake): the import system
        # or the caller takes it from here.
        raise AttributeError(f"module 'saraban.archive' has no attribute {name!r}")
    _load_all()
    return globals()[name]
