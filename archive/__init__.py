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
"""

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
