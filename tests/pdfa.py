"""The PDF/A-3b rules (ISO 19005-3, clauses as numbered there) that signing a file can
break, checked by reading the file back with pypdf.

Not a PDF/A validator: veraPDF is not installable on this machine (Maven Central is out of
reach and no Debian or PyPI package carries it), so these checks cover what an incremental
update with a visible signature adds or changes: metadata (6.6.2, 6.6.3, 6.6.4), annotations and
their appearances (6.3.2, 6.3.3), forms (6.4.1), actions (6.5.1), the signature's byte
range (6.4.3), fonts (6.2.11.4, 6.2.11.3.2, 6.2.11.8), transparency, and the trailer
(6.1.3). ``pdfa_problems`` returns one sentence per broken rule.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

_PRINT, _HIDDEN, _INVISIBLE, _NOVIEW, _TOGGLE_NOVIEW = 4, 2, 1, 32, 256
_FORBIDDEN_ACTIONS = {
    "/Launch", "/Sound", "/Movie", "/ResetForm", "/ImportData", "/Hide", "/SetOCGState",
    "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript",
}  # fmt: skip
_INFO_TO_XMP = {
    "/Title": "dc:title",
    "/Author": "dc:creator",
    "/Subject": "dc:description",
    "/Keywords": "pdf:Keywords",
    "/Creator": "xmp:CreatorTool",
    "/Producer": "pdf:Producer",
    "/CreationDate": "xmp:CreateDate",
    "/ModDate": "xmp:ModifyDate",
}


def _walk(obj, seen: set[int]):
    """Every dictionary reachable from ``obj`` (parents are not followed)."""
    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        yield obj
        for key, value in obj.items():
            if key not in ("/Parent", "/P"):
                yield from _walk(value, seen)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            yield from _walk(value, seen)


def pdfa_problems(data: bytes) -> list[str]:
    problems: list[str] = []
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]

    # 6.6.2 / 6.6.3: XMP metadata with the PDF/A identification, and every Info entry that
    # XMP also has present there with the same value. (An unfiltered XMP stream was a
    # PDF/A-1 rule, 19005-1 6.7.2; PDF/A-2 and 3 allow compressing it.)
    metadata = root.get("/Metadata")
    if metadata is None:
        return ["6.6.2: no XMP metadata stream"]
    metadata = metadata.get_object()
    xmp = metadata.get_data().decode("utf-8")
    if not re.search(r'pdfaid:part(="|>)3', xmp) or not re.search(
        r'pdfaid:conformance(="|>)B', xmp
    ):
        problems.append("6.6.4: XMP does not identify PDF/A-3b")
    info = reader.trailer.get("/Info")
    if info is not None:
        for key, value in info.get_object().items():
            prop = _INFO_TO_XMP.get(key)
            if prop is None:
                continue
            if prop not in xmp:
                problems.append(f"6.6.3: Info {key} has no XMP {prop}")
            elif key in ("/Producer", "/Title", "/Keywords", "/Creator") and str(value) not in xmp:
                problems.append(f"6.6.3: Info {key} {str(value)!r} differs from XMP {prop}")
    if "/OutputIntents" not in root:
        problems.append("6.2.3: no output intent")
    if "/ID" not in reader.trailer:
        problems.append("6.1.3: no file identifier (trailer /ID)")
    if "/Encrypt" in reader.trailer:
        problems.append("6.1.3: encrypted")

    # 6.4.1: interactive forms.
    form = root.get("/AcroForm")
    if form is not None:
        form = form.get_object()
        if form.get("/NeedAppearances"):
            problems.append("6.4.1: AcroForm NeedAppearances is true")
        if "/XFA" in form:
            problems.append("6.4.1: AcroForm has XFA")

    # 6.3.2 / 6.3.3: every annotation printed and visible; appearances with /N only.
    for number, page in enumerate(reader.pages, 1):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            subtype = annot.get("/Subtype")
            flags = int(annot.get("/F", 0))
            where = f"page {number} {subtype} annotation"
            if subtype != "/Popup" and not flags & _PRINT:
                problems.append(f"6.3.2: {where} lacks the Print flag")
            if flags & (_HIDDEN | _INVISIBLE | _NOVIEW | _TOGGLE_NOVIEW):
                problems.append(f"6.3.2: {where} is hidden or not viewable (F={flags})")
            appearance = annot.get("/AP")
            if appearance is not None and set(appearance.get_object()) != {"/N"}:
                problems.append(f"6.3.3: {where} appearance has more than /N")
            if appearance is None and subtype not in ("/Popup", "/Link"):
                problems.append(f"6.3.3: {where} has no appearance")

    seen: set[int] = set()
    for obj in _walk(root, seen):
        # 6.5.1: no JavaScript or other forbidden actions.
        if obj.get("/S") in _FORBIDDEN_ACTIONS:
            problems.append(f"6.5.1: a forbidden {obj['/S']} action")
        if "/JS" in obj or "/AA" in obj:
            problems.append("6.5.1/6.5.2: JavaScript or additional actions")
        # 6.2.11: fonts embedded; a TrueType CID font maps CIDs to glyphs.
        if obj.get("/Type") == "/FontDescriptor" and not any(
            k in obj for k in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            problems.append(f"6.2.11.4: font {obj.get('/FontName')} is not embedded")
        if obj.get("/Subtype") == "/CIDFontType2" and "/CIDToGIDMap" not in obj:
            problems.append(f"6.2.11.3.2: {obj.get('/BaseFont')} has no CIDToGIDMap")
        # Transparency needs a blending colour space; the files here use none.
        if obj.get("/Type") == "/ExtGState" and (
            float(obj.get("/CA", 1)) < 1 or float(obj.get("/ca", 1)) < 1 or "/SMask" in obj
        ):
            if obj.get("/SMask") != "/None":
                problems.append("6.2.10: transparency in an ExtGState")
        # 6.4.3: a signature covers the entire file but its own value.
        if obj.get("/Type") == "/Sig" and "/ByteRange" in obj:
            start, first, second, rest = (int(v) for v in obj["/ByteRange"])
            if start != 0 or second + rest != len(data) or first >= second:
                problems.append("6.4.3: the signature does not cover the entire file")
    return problems


def embedded_files(data: bytes) -> dict[str, bytes]:
    """The embedded files (PDF/A-3 attachments) by name."""
    reader = PdfReader(io.BytesIO(data))
    return {name: contents[0] for name, contents in reader.attachments.items()}
