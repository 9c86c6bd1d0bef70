"""Clerks' own .docx templates: check, inspect and fill them, treating each as untrusted.

Order of defence, each step before the next touches the file:

1. **Size and zip-bomb limits** (:func:`check_archive`) on the bytes, before python-docx
   opens them: the upload size, the number of members, the total uncompressed size the
   archive declares, and the compression ratio of any large member. Python's ``zipfile``
   never inflates a member past its declared size (it stops and fails the CRC), so the
   declared sizes bound the memory used.
2. **Tags**: the template's Jinja is parsed alone (:func:`_parse_parts`), so a broken tag is
   reported with the paragraph it is in and that paragraph's text.
3. **Variables**: docxtpl's ``get_undeclared_template_variables()`` names what the template
   needs; a derived schema (:func:`_derive_schema`) adds the columns of loops. Missing
   values are reported all at once (400) before any rendering.
4. **Rendering** in the sandbox of :mod:`templates.forms._sandbox`, with autoescape and
   limits on loops, calls, sizes and time.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from lxml.etree import XMLSyntaxError

from saraban.errors import Problem
from saraban.templates.forms import _sandbox
from saraban.templates.forms._errors import InvalidFormData, InvalidTemplate, TemplateTooLarge
from saraban.templates.forms._schema import UNPRINTABLE
from saraban.thai import baht_text, thai_date, to_thai_digits

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the .docx as uploaded
MAX_MEMBERS = 1000  # files inside the zip
MAX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024  # all members, as declared
MAX_RATIO = 100  # uncompressed / compressed, for members over RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_VALUE_CHARS = 100_000  # one text value
MAX_VALUES_DEPTH = 6  # nesting of lists and objects in the values

_PARAGRAPH = re.compile(r"<w:p([ >])")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class TemplateInfo:
    """What an uploaded template asks for.

    ``variables``: the top-level names the template needs (docxtpl's undeclared variables,
    less the sandbox's globals). ``schema``: a form schema derived from them, in the shape of
    :func:`templates.forms.form_schema` (loops become tables with the columns the loop
    body uses).
    """

    variables: list[str]
    schema: dict

    def as_dict(self) -> dict:
        return {"variables": list(self.variables), "schema": self.schema}


def check_archive(data: bytes) -> None:
    """Refuse, before opening it, a file that is too large or a zip bomb (413) or not a
    Word document at all (400)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("the template must be bytes")
    if len(data) > MAX_UPLOAD_BYTES:
        raise TemplateTooLarge(
            f"แม่แบบใหญ่เกิน {MAX_UPLOAD_BYTES // 2**20} MB / the template is "
            f"{len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise _not_docx("the file is not a zip archive") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise TemplateTooLarge(
                f"แม่แบบมีไฟล์ภายในมากเกินไป / the template holds {len(members):,} files; "
                f"at most {MAX_MEMBERS:,}"
            )
        total = sum(m.file_size for m in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise TemplateTooLarge(
                f"แม่แบบเมื่อแตกไฟล์ใหญ่เกินไป / the template unpacks to {total:,} bytes; "
                f"at most {MAX_UNCOMPRESSED_BYTES:,}"
            )
        for member in members:
            if member.flag_bits & 0x1:
                raise _not_docx(f"{member.filename} is encrypted")
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
                raise TemplateTooLarge(
                    f"แม่แบบบีบอัดผิดปกติ (zip bomb) / {member.filename} inflates "
                    f"{ratio:,.0f} times; at most {MAX_RATIO}"
                )
        names = {m.filename for m in members}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise _not_docx("word/document.xml is missing")


def _not_docx(reason: str) -> InvalidTemplate:
    return InvalidTemplate(
        [
            Problem(
                "template",
                "not_docx",
                f"not a Word .docx file: {reason}",
                "ไฟล์นี้ไม่ใช่เอกสาร Word (.docx)",
            )
        ]
    )


def _open(data: bytes) -> DocxTemplate:
    check_archive(data)
    template = DocxTemplate(io.BytesIO(data))
    try:
        template.init_docx()
    except (PackageNotFoundError, KeyError, ValueError, XMLSyntaxError) as exc:
        raise _not_docx(str(exc) or type(exc).__name__) from None
    _refuse_external(template)
    _refuse_many_headers(template)
    return template


# Links to outside the file that are only named, never fetched: a hyperlink, and the Word
# template a document was made from (Word writes it as a path on the author's machine).
_NAMED_ONLY = ("/hyperlink", "/attachedTemplate")


MAX_HEADER_REFERENCES = 60  # headers and footers: three of each a section, many sections


def _refuse_many_headers(template: DocxTemplate) -> None:
    """docxtpl reads and fills a header once for each reference to it: one 38 KB file that
    named its header 200 times took 61 s to inspect and 79 s more to fill."""
    uris = (template.HEADER_URI, template.FOOTER_URI)
    named = sum(1 for rel in template.docx.part.rels.values() if rel.reltype in uris)
    if named > MAX_HEADER_REFERENCES:
        raise TemplateTooLarge(
            f"แม่แบบอ้างถึงหัวกระดาษและท้ายกระดาษ {named:,} ครั้ง เกิน {MAX_HEADER_REFERENCES} / "
            f"the template names its headers and footers {named:,} times; at most "
            f"{MAX_HEADER_REFERENCES}"
        )


def _refuse_external(template: DocxTemplate) -> None:
    """A picture, a frame or a sub-document linked from outside the file: LibreOffice
    fetched a linked picture from any address while making the PDF, and put what came
    back in it."""
    linked = sorted(
        {
            rel.target_ref
            for part in template.docx.part.package.iter_parts()
            for rel in part.rels.values()
            if rel.is_external and not rel.reltype.endswith(_NAMED_ONLY)
        }
    )
    if linked:
        shown = ", ".join(ref[:80] for ref in linked[:3])
        raise InvalidTemplate(
            [
                Problem(
                    "template",
                    "linked_content",
                    f"the template links content from outside the file ({shown}): embed "
                    "pictures instead of linking them",
                    f"แม่แบบเชื่อมโยงเนื้อหาจากนอกไฟล์ ({shown}) ให้แทรกรูปลงในไฟล์แทนการลิงก์",
                )
            ]
        )


def _parts(template: DocxTemplate) -> list[tuple[str, str]]:
    """(place, Jinja source) of the body, headers and footers, one paragraph a line, as
    docxtpl prepares them (its own ``patch_xml``)."""
    from docx.oxml import parse_xml

    docx = template.docx
    parts = [("body", template.xml_to_string(docx._element.body))]
    seen = set()
    for uri, place in ((template.HEADER_URI, "header"), (template.FOOTER_URI, "footer")):
        for _, rel in docx._part.rels.items():
            if rel.reltype == uri and rel.target_part.blob and rel.target_part not in seen:
                seen.add(rel.target_part)  # a part named by many references is one part
                parts.append((place, template.xml_to_string(parse_xml(rel.target_part.blob))))
    return [(place, _PARAGRAPH.sub(r"\n<w:p\1", template.patch_xml(xml))) for place, xml in parts]


def _where(place: str, source: str, lineno: int | None) -> tuple[str, str, str]:
    """(field path, English place, Thai place) of a line of a part's source."""
    if not lineno:
        return place, f"in the {place}", f"ใน{_PLACE_TH[place]}"
    lines = source.splitlines()
    text = _TAGS.sub("", lines[lineno - 1]) if 0 < lineno <= len(lines) else ""
    text = text.strip()
    if len(text) > 80:
        text = text[:77] + "..."
    paragraph = lineno - 1  # line 1 holds what comes before the first paragraph
    near = f": “{text}”" if text else ""
    return (
        f"{place}.paragraph.{paragraph}",
        f"{place}, paragraph {paragraph}{near}",
        f"{_PLACE_TH[place]} ย่อหน้าที่ {to_thai_digits(str(paragraph))}{near}",
    )


_PLACE_TH = {"body": "เนื้อหา", "header": "หัวกระดาษ", "footer": "ท้ายกระดาษ"}


def _parse_parts(template: DocxTemplate, env) -> list[tuple[str, nodes.Template]]:
    trees = []
    problems = []
    for place, source in _parts(template):
        try:
            trees.append((place, env.parse(source)))
            env.compile(source)  # unknown filters and refused tags show at compile time
        except TemplateSyntaxError as exc:
            path, en, th = _where(place, source, exc.lineno)
            problems.append(
                Problem(
                    path,
                    "syntax",
                    f"broken tag ({en}): {exc.message}",
                    f"แท็กในแม่แบบไม่ถูกต้อง ({th}): {exc.message}",
                )
            )
    if problems:
        raise InvalidTemplate(problems)
    return trees


def _thai_date(value: object) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return thai_date(day, "letter")


#: Filters a clerk's template may use besides Jinja's allowed ones (see docs/forms.md).
THAI_FILTERS = {
    "thai_digits": lambda value: to_thai_digits(str(value)),
    "thai_date": _thai_date,
    "baht_text": baht_text,
}


def _environment(limits: _sandbox.Limits | None = None):
    return _sandbox.new_environment(limits or _sandbox.DEFAULT_LIMITS, filters=THAI_FILTERS)


def inspect_template(data: bytes) -> TemplateInfo:
    """The variables an uploaded .docx template needs and a form schema for them."""
    template = _open(data)
    env = _environment()
    trees = _parse_parts(template, env)
    try:
        names = template.get_undeclared_template_variables(jinja_env=env)
    except TemplateSyntaxError as exc:  # _parse_parts saw the same source; belt and braces
        raise InvalidTemplate(
            [
                Problem(
                    "template",
                    "syntax",
                    f"broken tag: {exc.message}",
                    f"แท็กในแม่แบบไม่ถูกต้อง: {exc.message}",
                )
            ]
        ) from None
    variables = sorted(set(names) - set(env.globals))
    return TemplateInfo(variables, _derive_schema(variables, [tree for _, tree in trees]))


def fill_uploaded(data: bytes, values: dict, *, limits: _sandbox.Limits | None = None) -> bytes:
    """The uploaded template filled with ``values``, as .docx bytes.

    Raises :class:`InvalidFormData` (400) listing every missing or unusable value,
    :class:`InvalidTemplate` (400) for a broken, unsafe or too costly template, and
    :class:`TemplateTooLarge` (413) for an upload over the size limits.
    """
    info = inspect_template(data)
    check_values(info, values)
    env = _environment(limits)
    template = _open(data)
    return render_untrusted(template, values, env)


def check_values(info: TemplateInfo, values: object) -> None:
    """Every gap and fault of ``values`` for this template, raised at once (400)."""
    if not isinstance(values, dict):
        raise InvalidFormData(
            [Problem("", "type", "the values must be a JSON object", "ค่าที่กรอกต้องเป็นออบเจกต์ JSON")]
        )
    problems: list[Problem] = []
    for item in info.schema["items"]:
        name = item["name"]
        if name not in values:
            problems.append(_missing(name))
            continue
        value = values[name]
        if item["kind"] == "table" and isinstance(value, list):
            for index, row in enumerate(value):
                if isinstance(row, dict):
                    for column in item["columns"]:
                        if column["name"] not in row:
                            problems.append(_missing(f"{name}.{index}.{column['name']}"))
        elif item["kind"] == "object" and isinstance(value, dict):
            for sub in item["fields"]:
                if sub["name"] not in value:
                    problems.append(_missing(f"{name}.{sub['name']}"))
    for key, value in values.items():
        _check_value(value, str(key), 1, problems)
    if problems:
        raise InvalidFormData(problems)


def _missing(path: str) -> Problem:
    return Problem(
        path,
        "missing",
        f"no value for {{{{ {path} }}}} used by the template",
        f"ไม่มีค่าสำหรับ {{{{ {path} }}}} ที่แม่แบบใช้",
    )


def _check_value(value: object, path: str, depth: int, problems: list[Problem]) -> None:
    if depth > MAX_VALUES_DEPTH:
        problems.append(Problem(path, "too_deep", "values are nested too deeply", "ค่าซ้อนกันลึกเกินไป"))
        return
    if value is None or isinstance(value, (bool, int, float)):
        return
    if isinstance(value, str):
        if UNPRINTABLE.search(value):
            problems.append(
                Problem(
                    path,
                    "control_character",
                    "the value holds a control character that cannot be printed",
                    "ค่ามีอักขระควบคุมที่พิมพ์ไม่ได้",
                )
            )
        if len(value) > MAX_VALUE_CHARS:
            problems.append(
                Problem(
                    path,
                    "too_long",
                    f"the value is {len(value):,} characters; at most {MAX_VALUE_CHARS:,}",
                    f"ค่ายาวเกิน {MAX_VALUE_CHARS:,} ตัวอักษร",
                )
            )
        return
    if isinstance(value, list):
        limit = _sandbox.DEFAULT_LIMITS.max_items
        if len(value) > limit:
            problems.append(
                Problem(
                    path,
                    "too_many_rows",
                    f"{len(value):,} rows; a table may have at most {limit:,}",
                    f"มี {len(value):,} แถว ตารางหนึ่งมีได้ไม่เกิน {limit:,} แถว",
                )
            )
            return
        for index, item in enumerate(value):
            _check_value(item, f"{path}.{index}", depth + 1, problems)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(item, f"{path}.{key}", depth + 1, problems)
        return
    problems.append(
        Problem(
            path,
            "type",
            f"a value of type {type(value).__name__} cannot be printed",
            "ค่าชนิดนี้พิมพ์ไม่ได้",
        )
    )


def render_untrusted(template: DocxTemplate, context: dict, env) -> bytes:
    """Render in the sandbox and save; template faults become :class:`InvalidTemplate`."""
    sources = dict(_parts(template))
    try:
        template.render(context, jinja_env=env, autoescape=True)
        out = io.BytesIO()
        template.save(out)
    except _sandbox.LimitExceeded as exc:
        raise InvalidTemplate([_render_problem(exc, sources, "limit", exc.en, exc.th)]) from None
    except SecurityError as exc:
        raise InvalidTemplate(
            [
                _render_problem(
                    exc, sources, "unsafe", f"refused: {exc}", f"แม่แบบพยายามเข้าถึงสิ่งที่ไม่อนุญาต: {exc}"
                )
            ]
        ) from None
    except UndefinedError as exc:
        raise InvalidTemplate(
            [_render_problem(exc, sources, "undefined", f"no such value: {exc}", f"ไม่มีค่านี้: {exc}")]
        ) from None
    except TemplateSyntaxError as exc:
        path, en, th = _where("body", sources.get("body", ""), exc.lineno)
        raise InvalidTemplate(
            [
                Problem(
                    path,
                    "syntax",
                    f"broken tag ({en}): {exc.message}",
                    f"แท็กในแม่แบบไม่ถูกต้อง ({th}): {exc.message}",
                )
            ]
        ) from None
    except RecursionError:
        raise InvalidTemplate(
            [
                Problem(
                    "template",
                    "limit",
                    "the template recurses too deeply",
                    "แม่แบบเรียกตัวเองซ้ำลึกเกินไป",
                )
            ]
        ) from None
    # NameError: Jinja folds constants into the code it makes ('nan'|float becomes a name)
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, NameError) as exc:
        raise InvalidTemplate(
            [
                _render_problem(
                    exc,
                    sources,
                    "template_error",
                    f"the template failed: {exc}",
                    f"แม่แบบทำงานผิดพลาด: {exc}",
                )
            ]
        ) from None
    return out.getvalue()


def _render_problem(exc: BaseException, sources: dict, code: str, en: str, th: str) -> Problem:
    lineno = None
    tb = exc.__traceback__
    while tb is not None:  # Jinja rewrites frames to the template's own line numbers
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if lineno is None:
        return Problem("template", code, en, th)
    path, where_en, where_th = _where("body", sources.get("body", ""), lineno)
    return Problem(path, code, f"{en} ({where_en})", f"{th} ({where_th})")


# ---- the schema a template implies ------------------------------------------------------


def _derive_schema(variables: list[str], trees: list[nodes.Template]) -> dict:
    """Each variable as a text field, a table (iterated; columns from the loop body), a list
    of texts (iterated, used bare) or an object (used with attributes)."""
    loops: dict[str, set[str]] = {}
    bare_loops: set[str] = set()
    attributes: dict[str, set[str]] = {}
    for tree in trees:
        for loop in tree.find_all(nodes.For):
            source = loop.iter
            if not (isinstance(source, nodes.Name) and isinstance(loop.target, nodes.Name)):
                continue
            var = loop.target.name
            columns = loops.setdefault(source.name, set())
            used_bare = False
            for child in loop.body:
                for use in child.find_all(nodes.Name):
                    if use.name == var:
                        used_bare = True
                columns |= _attributes_of(child, var)
            if used_bare and not columns:
                bare_loops.add(source.name)
        for node in _accesses(tree):
            if isinstance(node.node, nodes.Name):
                attr = _attribute_name(node)
                if attr:
                    attributes.setdefault(node.node.name, set()).add(attr)
    items = []
    for name in variables:
        label = {"th": name, "en": name}
        if name in loops and name not in bare_loops:
            items.append(
                {
                    "name": name,
                    "kind": "table",
                    "label": label,
                    "required": True,
                    "min_rows": 0,
                    "max_rows": _sandbox.DEFAULT_LIMITS.max_items,
                    "columns": [_text_field(c) for c in sorted(loops[name])],
                }
            )
        elif name in bare_loops:
            items.append(
                {
                    "name": name,
                    "kind": "list",
                    "label": label,
                    "required": True,
                    "max_rows": _sandbox.DEFAULT_LIMITS.max_items,
                    "item": {"type": "text"},
                }
            )
        elif name in attributes:
            items.append(
                {
                    "name": name,
                    "kind": "object",
                    "label": label,
                    "required": True,
                    "fields": [_text_field(a) for a in sorted(attributes[name])],
                }
            )
        else:
            items.append(_text_field(name))
    return {"items": items}


def _attributes_of(node: nodes.Node, var: str) -> set[str]:
    found = set()
    for access in _accesses(node):
        if isinstance(access.node, nodes.Name) and access.node.name == var:
            attr = _attribute_name(access)
            if attr:
                found.add(attr)
    return found


def _accesses(node: nodes.Node) -> Iterator[nodes.Getattr | nodes.Getitem]:
    """Every ``x.a`` and ``x[...]`` under ``node``. (``find_all`` of two node types is typed
    as yielding their common base, ``Expr``; the check narrows it back.)"""
    for access in node.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(access, nodes.Getattr | nodes.Getitem):
            yield access


def _attribute_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _text_field(name: str) -> dict:
    return {
        "name": name,
        "kind": "field",
        "type": "text",
        "label": {"th": name, "en": name},
        "required": True,
        "max_length": MAX_VALUE_CHARS,
    }
