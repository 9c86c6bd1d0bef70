"""The OpenAPI 3.1 document of ``/api/v1``, written from one compact table of routes so it
stays beside the code it describes (a test checks that every API route is in it)."""

from __future__ import annotations

from typing import Any

from saraban import __version__
from saraban.archive._models import PUBLIC_ID_PATTERN
from saraban.vocabulary import KINDS, SECRECIES, URGENCIES

_ERROR = {"$ref": "#/components/responses/Error"}
_PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
]


def _id(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


# A letter is named by its public id, never the archive's row number (which counts letters).
_LETTER_ID = {
    "name": "letter_id",
    "in": "path",
    "required": True,
    "description": "the letter's public id (the `id` of a letter in every answer)",
    "schema": {"type": "string", "pattern": f"^{PUBLIC_ID_PATTERN}$"},
}


_RECEIVED_ID = {
    "name": "received_id",
    "in": "path",
    "required": True,
    "description": "the received letter's public id (its `id` in every answer)",
    "schema": {"type": "string", "pattern": f"^{PUBLIC_ID_PATTERN}$"},
}

_DRAFT_ID = {
    "name": "draft_id",
    "in": "path",
    "required": True,
    "description": "the draft's public id (its `id` in every answer; the row number counts drafts)",
    "schema": {"type": "string", "pattern": f"^{PUBLIC_ID_PATTERN}$"},
}


def _query(name: str, description: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": kind, **extra},
    }


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_FILE = {
    "200": {
        "description": "the file",
        "content": {
            "application/pdf": {},
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {},
            "text/csv": {},
            "text/plain": {},  # an imported original, as it came
            "application/json": {},
            "application/octet-stream": {},
        },
    }
}

# path -> method -> (summary, parameters, request body or None, success status, admin only)
_ROUTES: dict[
    str, dict[str, tuple[str, list[dict[str, Any]], dict[str, Any] | None, str, bool]]
] = {
    "/me": {"get": ("The user the token belongs to", [], None, "200", False)},
    "/letters": {
        "get": (
            "Letters the user may see, newest first",
            [
                *_PAGING,
                _query("ref_no", "a reference number typed any way (Thai or Arabic digits)"),
                _query("year", "BE year of the letter's date", "integer"),
                _query("status", "issued, cancelled or stored"),
                _query("unit", "a unit prefix, e.g. นค ๐๐๑๙.๓"),
            ],
            None,
            "200",
            False,
        )
    },
    "/letters/{letter_id}": {
        "get": (
            "A letter: its register record and letter document",
            [_LETTER_ID],
            None,
            "200",
            False,
        )
    },
    "/letters/{letter_id}/{kind}": {
        "get": (
            "The letter as issued (docx, pdf) or the imported original",
            [
                _LETTER_ID,
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["docx", "pdf", "original"]},
                },
            ],
            None,
            "file",
            False,
        )
    },
    "/letters/{letter_id}/files/{number}": {
        "get": (
            "A file that came with a kept letter (another attachment of its e-mail), as it"
            " came; the letter's `enclosed` lists them, numbered from 1",
            [
                _LETTER_ID,
                {
                    "name": "number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            None,
            "file",
            False,
        )
    },
    "/letters/{letter_id}/history": {
        "get": (
            "What was done with the letter, from the audit chain",
            [_LETTER_ID],
            None,
            "200",
            False,
        )
    },
    "/letters/{letter_id}/cancel": {
        "post": (
            "Cancel an issued letter (the number stays, with the reason)",
            [_LETTER_ID],
            {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"type": "string"}},
            },
            "200",
            False,
        )
    },
    "/letters/{letter_id}/review": {
        "post": (
            "Correct what was read from an imported letter's file (keys of its document, each "
            "change checked and audited) and, with confirm, clear its review marks; an issued "
            "letter never changes (409)",
            [_LETTER_ID],
            {
                "type": "object",
                "properties": {
                    "changes": {
                        "type": "object",
                        "description": "document keys: ref_no, date (ISO, CE), subject, "
                        "sender, addressee, salutation, urgency, references, closing, "
                        "complimentary_close, signer, owner_unit, contact, footer, copies_to",
                    },
                    "confirm": {"type": "boolean"},
                },
            },
            "200",
            False,
        )
    },
    "/drafts": {
        "get": ("The user's drafts", list(_PAGING), None, "200", False),
        "post": (
            "Create a draft from a kind and unit, or from a whole letter document",
            [],
            {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(KINDS)},
                    "circular": {"type": "boolean"},
                    "unit": {"type": "string", "description": "unit prefix, e.g. นค ๐๐๑๙.๓"},
                    "letter": {"$ref": "#/components/schemas/Letter"},
                },
            },
            "201",
            False,
        ),
    },
    "/drafts/{draft_id}": {
        "get": ("A draft with its errors and warnings", [_DRAFT_ID], None, "200", False),
        "put": (
            "Replace the draft's letter document (and unit)",
            [_DRAFT_ID],
            {
                "type": "object",
                "required": ["letter"],
                "properties": {
                    "letter": {"$ref": "#/components/schemas/Letter"},
                    "unit": {"type": "string"},
                },
            },
            "200",
            False,
        ),
        "delete": ("Delete a draft", [_DRAFT_ID], None, "200", False),
    },
    "/drafts/{draft_id}/preview": {
        "get": (
            "The draft as it will print (PDF, without its number)",
            [_DRAFT_ID],
            None,
            "file",
            False,
        )
    },
    "/drafts/{draft_id}/issue": {
        "post": (
            "Issue the draft: number, date, DOCX and PDF/A, audit",
            [_DRAFT_ID],
            None,
            "201",
            False,
        )
    },
    "/search": {
        "get": (
            "Search letters (Thai words, quoted phrases, reference numbers)",
            [
                _query(
                    "q",
                    "the query: at most 200 characters, 16 words and 4 reference numbers; "
                    "numbers no letter carries or cites are listed in numbers_not_found; "
                    "estimated is true when total and facets are estimates (PostgreSQL, "
                    "more than 5,000 matches)",
                ),
                _query("date_from", "from this date (BE, e.g. 1/10/2567 or ๑ ต.ค. ๒๕๖๗)"),
                _query("date_to", "to this date (BE)"),
                _query("fiscal_year", "BE fiscal year", "integer"),
                _query("kind", "letter kind"),
                _query("unit", "unit prefix"),
                _query("urgency", ", ".join(URGENCIES)),
                _query("direction", "sent, received or imported"),
                _query("sort", "relevance or date"),
                *_PAGING,
            ],
            None,
            "200",
            False,
        )
    },
    "/imports": {
        "post": (
            "Import letters (.txt, .docx, .pdf; at most 20 files a request)",
            [],
            {"multipart": True},
            "201",
            False,
        )
    },
    "/received": {
        "post": (
            "Take a received letter in from a file (PDF, scan, photo, DOCX, TXT): read (OCR"
            " for a scan) in the background, numbered and stamped; answers a job to poll",
            [],
            {
                "multipart": {
                    "file": {"type": "string", "format": "binary"},
                    "register": {"type": "string", "description": "a unit prefix or register"},
                    "secrecy": {"enum": ["", *SECRECIES]},
                    "answers": {"type": "string", "description": "public id of our letter"},
                    "enclosures": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "files that came with the letter, kept with it",
                    },
                },
                "required": ["file", "register"],
            },
            "202",
            False,
        )
    },
    "/received/{received_id}": {
        "get": (
            "A received letter: its number, the fields read from its file, its files",
            [_RECEIVED_ID],
            None,
            "200",
            False,
        )
    },
    "/received/{received_id}/{kind}": {
        "get": (
            "A received letter's original file, searchable PDF/A or stamped copy",
            [
                _RECEIVED_ID,
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["original", "pdfa", "stamped"]},
                },
            ],
            None,
            "file",
            False,
        )
    },
    "/received/{received_id}/route": {
        "post": (
            "Send a received letter to users with a note and a due date (เกษียน)",
            [_RECEIVED_ID],
            {
                "type": "object",
                "properties": {
                    "to": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                    "units": {
                        "type": "array",
                        "items": {"type": "string"},
                        "maxItems": 100,
                        "description": "unit prefixes: every member sees it, one marks it done",
                    },
                    "note": {"type": "string"},
                    "due": {"type": "string", "format": "date"},
                },
            },
            "201",
            False,
        )
    },
    "/received/{received_id}/stamp": {
        "post": (
            "Move the receipt stamp (mm from page one's top left); a new stamped copy",
            [_RECEIVED_ID],
            {
                "type": "object",
                "required": ["left_mm", "top_mm"],
                "properties": {
                    "left_mm": {"type": "number", "minimum": 0, "maximum": 1000},
                    "top_mm": {"type": "number", "minimum": 0, "maximum": 1000},
                },
            },
            "200",
            False,
        )
    },
    "/received/{received_id}/order": {
        "post": (
            "Write an order (สั่งการ), printed on a new stamped copy",
            [_RECEIVED_ID],
            {
                "type": "object",
                "required": ["order"],
                "properties": {"order": {"type": "string"}},
            },
            "201",
            False,
        )
    },
    "/received/{received_id}/done": {
        "post": (
            "Mark the letter done for the user (or for whom they act today)",
            [_RECEIVED_ID],
            {"type": "object", "properties": {"note": {"type": "string"}}},
            "200",
            False,
        )
    },
    "/inbox": {
        "get": (
            "Received letters waiting for the user and whom they act for, due first",
            [*_PAGING, _query("done", "1: the finished ones too")],
            None,
            "200",
            False,
        )
    },
    "/delegations": {
        "get": (
            "Acting-for delegations the user gave or holds (all=1: everyone's, administrators)",
            [*_PAGING, _query("all", "1: every delegation (administrators)")],
            None,
            "200",
            False,
        ),
        "post": (
            "Someone acts for the user (รักษาการแทน) between two dates",
            [],
            {
                "type": "object",
                "required": ["delegate", "from", "to"],
                "properties": {
                    "delegate": {"type": "string"},
                    "delegator": {"type": "string", "description": "administrators only"},
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                },
            },
            "201",
            False,
        ),
    },
    "/delegations/{delegation_id}/revoke": {
        "post": (
            "End a delegation now (whom it names, who made it, or an administrator)",
            [_id("delegation_id")],
            None,
            "200",
            False,
        )
    },
    "/registers": {
        "get": ("Registers and units", [], None, "200", False),
        "post": (
            "Add a register (administrators)",
            [],
            {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "number_format": {"enum": ["plain", "year"]},
                    "circular_series": {"enum": ["separate", "shared"]},
                },
            },
            "201",
            True,
        ),
    },
    "/registers/{kind}": {
        "get": (
            "The sent or received register: JSON rows, or the official table as a file",
            [
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["sent", "received"]},
                },
                _query("from", "ISO date (default: 1 January this year)", format="date"),
                _query("to", "ISO date (default: today)", format="date"),
                _query("register", "register name or unit prefix"),
                _query(
                    "format",
                    "json (default), csv, docx or pdf; a register of more rows than a file "
                    "holds (5,000 in DOCX or PDF, 100,000 in CSV) is refused with 413",
                ),
                *_PAGING,
            ],
            None,
            "200",
            False,
        )
    },
    "/registers/received": {
        "post": (
            "Enter a received letter in the incoming register",
            [],
            {
                "type": "object",
                "required": ["register", "sender", "recipient", "subject"],
                "properties": {
                    "register": {"type": "string"},
                    "sender": {"type": "string"},
                    "recipient": {"type": "string"},
                    "subject": {"type": "string"},
                    "ref_no": {"type": "string"},
                    "letter_date": {"type": "string", "format": "date"},
                    "action": {"type": "string"},
                    "note": {"type": "string"},
                    "secrecy": {"enum": [*SECRECIES, None]},
                },
            },
            "201",
            False,
        )
    },
    "/forms": {"get": ("The report forms", [], None, "200", False)},
    "/forms/{name}": {"get": ("A form's schema", [_id("name", "string")], None, "200", False)},
    "/forms/{name}/{fmt}": {
        "post": (
            "The form filled with data, as DOCX or PDF",
            [
                _id("name", "string"),
                {
                    "name": "fmt",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": ["docx", "pdf"]},
                },
            ],
            {"type": "object", "required": ["data"], "properties": {"data": {"type": "object"}}},
            "file",
            False,
        )
    },
    "/users": {
        "get": ("Users (administrators)", [], None, "200", True),
        "post": (
            "Add a user (administrators)",
            [],
            {
                "type": "object",
                "required": ["name", "password"],
                "properties": {
                    "name": {"type": "string"},
                    "password": {"type": "string", "minLength": 12, "maxLength": 128},
                    "role": {"enum": ["clerk", "admin"]},
                    "clearance": {"enum": [*SECRECIES, None]},
                    "display_name": {"type": "string"},
                },
            },
            "201",
            True,
        ),
    },
    "/units": {
        "post": (
            "Add a unit issuing under a reference prefix (administrators)",
            [],
            {
                "type": "object",
                "required": ["prefix", "name"],
                "properties": {
                    "prefix": {"type": "string"},
                    "name": {"type": "string"},
                    "register": {"type": "string"},
                    "address": {"type": "array", "items": {"type": "string"}},
                    "phone": {"type": "string"},
                    "fax": {"type": "string"},
                    "email": {"type": "string"},
                    "footer": {"type": "string"},
                    "signer": {"type": "object"},
                },
            },
            "201",
            True,
        )
    },
    "/reindex": {"post": ("Rebuild the search index (administrators)", [], None, "202", True)},
    "/jobs/{job_id}": {
        "get": ("Progress of a background job", [_id("job_id", "string")], None, "200", False)
    },
}

# Circulars (service/circulars_api.py): the address book, sending, tracking, reminders.
_ROUTES.update(
    {
        "/recipients": {
            "get": (
                "The address book of recipients, in name order",
                [*_PAGING, _query("group", "only this group's members, e.g. ทุกอำเภอ")],
                None,
                "200",
                False,
            ),
            "post": (
                "Add a recipient (administrators)",
                [],
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "addressee": {"type": "string"},
                        "email": {"type": "string"},
                        "groups": {"type": "array", "items": {"type": "string"}},
                        "unit": {"type": "string", "description": "a unit of this instance"},
                    },
                },
                "201",
                True,
            ),
        },
        "/letters/{letter_id}/send": {
            "post": (
                "Send an issued letter: one delivery and private link per recipient, e-mail "
                "queued (a secret letter only to units of this instance, never by link)",
                [_id("letter_id")],
                {
                    "type": "object",
                    "required": ["to"],
                    "properties": {
                        "to": {"type": "array", "items": {"type": "string"}},
                        "due": {"type": "string", "description": "BE date, e.g. 31/1/2570"},
                        "working_days": {"type": "integer", "minimum": 1, "maximum": 365},
                        "form": {"type": "string", "description": "catalogue form to fill"},
                    },
                },
                "201",
                False,
            )
        },
        "/letters/{letter_id}/tracking": {
            "get": (
                "Each recipient of a sent letter: status, times, receive number, late",
                [_id("letter_id")],
                None,
                "200",
                False,
            )
        },
        "/letters/{letter_id}/remind": {
            "post": (
                "A new link e-mailed to every recipient who has not replied",
                [_id("letter_id")],
                None,
                "200",
                False,
            )
        },
    }
)


def _operation(
    summary: str,
    parameters: list[dict[str, Any]],
    body: dict[str, Any] | None,
    success: str,
    admin: bool,
    *,
    method: str = "get",
) -> dict[str, Any]:
    responses: dict[str, Any] = (
        dict(_FILE) if success == "file" else {success: {"$ref": "#/components/responses/Ok"}}
    )
    responses.update({"400": _ERROR, "401": _ERROR, "404": _ERROR})
    if method != "get":  # a name taken, a letter not in a state to change; a body too large
        responses.update({"409": _ERROR, "413": _ERROR})
    if admin:
        responses["403"] = _ERROR
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters,
        "responses": responses,
    }
    if body is not None:
        if body.get("multipart"):
            fields = body["multipart"]
            schema: dict[str, Any] = {"type": "object"}
            if isinstance(fields, dict):
                schema["properties"] = fields
                schema["required"] = body.get("required", [])
            else:
                schema["properties"] = {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                }
            operation["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": schema}},
            }
        else:
            operation["requestBody"] = _json_body(body)
    return operation


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        }
    }
    for path, methods in _ROUTES.items():
        paths[path] = {method: _operation(*spec, method=method) for method, spec in methods.items()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "saraban API",
            "version": __version__,
            "description": (
                "Thai official letters (งานสารบรรณ): drafts, issuing under register numbers, "
                "search, import, registers and report forms. Every route but this document "
                "needs `Authorization: Bearer <token>` (`saraban token create NAME`). Errors: "
                '`{"ok": false, "error": "...", "status": N}`. A letter the token\'s user is not '
                "cleared for answers 404, like one that does not exist. A letter's `id` is a "
                "public id of 12 letters and digits that counts nothing (a row number would "
                "tell where hidden letters are); paths name letters by it."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["ok", "error", "status"],
                    "properties": {
                        "ok": {"const": False},
                        "error": {"type": "string", "description": "Thai / English"},
                        "status": {"type": "integer"},
                        "problems": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string"},
                                    "code": {"type": "string"},
                                    "en": {"type": "string"},
                                    "th": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Letter": {
                    "type": "object",
                    "description": "A letter document, format 1 (docs/letter-format.md)",
                    "properties": {"format": {"const": 1}, "kind": {"type": "string"}},
                    "additionalProperties": True,
                },
            },
            "responses": {
                "Ok": {
                    "description": "success",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"ok": {"const": True}}}
                        }
                    },
                },
                "Error": {
                    "description": "the error shape",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        },
    }
