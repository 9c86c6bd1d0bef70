"""The layout of an official letter, described once for both renderers.

:func:`layout_letter` turns a letter document into a :class:`Layout`: page furniture
(emblem, page numbers, secrecy marks, the first-page footer) and a list of :class:`Block`
paragraphs with their indents, spacing and runs. The DOCX and the PDF renderers only
translate this description, so the two outputs cannot drift apart.

Measures follow ``reference/thai-official-letters.md`` section 6: A4, margins 3 cm left and
2 cm right (16 cm of text), body 16 pt, paragraph indent 2.5 cm, one blank line + 6 pt
before เรื่อง, the salutation, อ้างถึง, สิ่งที่ส่งมาด้วย and each body paragraph.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field, replace

from saraban.digits import DIGIT_STYLES, printed_digits
from saraban.thai import thai_date, to_thai_digits
from saraban.vocabulary import LETTER_KINDS

# Page, in centimetres.
PAGE_WIDTH_CM = 21.0
PAGE_HEIGHT_CM = 29.7
MARGIN_LEFT_CM = 3.0
MARGIN_RIGHT_CM = 2.0
MARGIN_TOP_FIRST_CM = 1.5  # the emblem stands 1.5 cm from the top edge
MARGIN_TOP_CM = 2.5  # later pages, below the page number
MARGIN_BOTTOM_CM = 2.0
TEXT_WIDTH_CM = PAGE_WIDTH_CM - MARGIN_LEFT_CM - MARGIN_RIGHT_CM

# Page furniture, in its own bands inside the printable area (see templates/_pdf.py).
EDGE_CM = 1.0  # nothing is printed nearer the sheet's edge than this
FURNITURE_LINE = 1.3  # line height (em) of furniture lines: Sarabun's ascent + descent
BAND_GAP_CM = 0.2  # between two bands, and between the text and the bands
SLOGAN_PT = 14.0  # the first page's slogan; smaller (down to SLOGAN_MIN_PT) when it is long
SLOGAN_MIN_PT = 10.0
MARKER_CHARS = 24  # a continuation marker shows at most this much of the next page's text

# Type, in points. The official face is TH SarabunPSK (DOCX names it; the PDF embeds
# Sarabun, whose Thai advance widths match it within 1%).
BODY_PT = 16.0
LINE_PT = BODY_PT * 1.2
PARA_GAP_PT = LINE_PT + 6  # "one blank line + 6 pt"
MEMO_TITLE_PT = 29.0
MEMO_LABEL_PT = 20.0
STAMP_PT = 32.0  # urgency marks: red, bold, not smaller than 32 pt
SECRECY_PT = 24.0
RED = "C00000"

# Horizontal positions, in centimetres from the left margin.
PARA_INDENT_CM = 2.5
SENDER_CM = 9.5  # the sender block on the right half, on the ที่ band
DATE_CM = 8.0  # the date and the complimentary close start about the page centre
SIGN_FROM_CM = 4.5  # name and position centred on [4.5 cm, 16 cm]: under the closing
SUBJECT_HANG_CM = 1.25
REFERENCE_HANG_CM = 1.75
ENCLOSURE_HANG_CM = 3.5
QUANTITY_CM = 12.0
COPIES_HANG_CM = 2.5
EMBLEM_CM = {"external": 3.0, "order": 3.0, "announcement": 3.0, "stamped": 3.0, "memo": 1.5}
SIGNATURE_GAP_PT = LINE_PT * 3  # room for the handwritten signature


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    size: float | None = None  # points; None: the block's size
    color: str | None = None  # hex RGB


@dataclass
class Block:
    """One paragraph.

    ``label`` and ``hang``: a label such as ``เรื่อง`` printed in the hanging indent, so
    wrapped lines of the text align after it. ``tab`` and ``tab_runs``: text set at a
    tab stop (the sender beside ``ที่``, an enclosure's quantity).
    """

    role: str
    runs: list[Run] = field(default_factory=list)
    align: str = "left"  # left | center | right | justify (Thai distributed)
    indent_cm: float = 0.0  # left indent of every line
    first_line_cm: float = 0.0  # extra indent of the first line
    label: list[Run] = field(default_factory=list)
    hang_cm: float = 0.0
    tab_cm: float | None = None
    tab_runs: list[Run] = field(default_factory=list)
    space_before_pt: float = 0.0
    size: float = BODY_PT
    bold: bool = False
    color: str | None = None
    keep_with_next: bool = False
    emblem: bool = False  # the memo's small emblem at the left of the title line
    beside_emblem: list[Run] = field(default_factory=list)  # the memo's urgency stamp

    @property
    def text(self) -> str:
        parts = [r.text for r in self.beside_emblem + self.label + self.runs]
        if self.tab_runs:
            parts += ["\t"] + [r.text for r in self.tab_runs]
        return "".join(parts)


@dataclass
class Layout:
    kind: str
    blocks: list[Block]
    emblem_cm: float | None  # height of the Garuda; None: no emblem block on page one
    emblem_align: str = "center"
    secrecy: str | None = None  # printed red at the centre top and bottom of every page
    first_page_footer: str | None = None
    title: str = ""  # document title metadata
    digits: str = "thai"  # every printed digit: thai or arabic (SARABAN_LETTER_DIGITS)

    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)


def _runs(text: str | None, **style) -> list[Run]:
    return [Run(text, **style)] if text else []


def letter_date(letter: dict, style: str = "letter") -> str | None:
    if not letter.get("date"):
        return None
    return thai_date(dt.date.fromisoformat(letter["date"]), style)


def layout_letter(letter: dict, *, digits: str = "thai") -> Layout:
    """The layout of a validated letter document (see :func:`saraban.letter.check`).

    ``digits``: the one kind of digits the letter is printed in, ``thai`` or ``arabic``;
    every part is converted, typed or generated, but e-mail addresses, URLs and Latin words
    (:func:`saraban.digits.printed_digits`)."""
    if digits not in DIGIT_STYLES:
        raise ValueError(f"digits must be one of {DIGIT_STYLES}, not {digits!r}")
    kind = letter["kind"]
    try:
        build = _BUILDERS[kind]
    except KeyError:
        raise ValueError(f"unknown letter kind: {kind!r}") from None
    blocks: list[Block] = []
    if letter.get("urgency") and kind != "memo":
        blocks.append(_urgency(letter["urgency"]))
    build(letter, blocks)
    blocks = [b for b in blocks if b.text.strip() or b.emblem or b.role == "signature_space"]
    _keep_text_with_signature(blocks)
    for block in blocks:
        for name in ("runs", "label", "tab_runs", "beside_emblem"):
            runs = getattr(block, name)
            if runs:
                setattr(block, name, [_with_digits(run, digits) for run in runs])
    footer = letter.get("footer") or None
    return Layout(
        kind=kind,
        blocks=blocks,
        emblem_cm=None if kind == "memo" else EMBLEM_CM[kind],
        emblem_align="left" if kind == "memo" else "center",
        secrecy=letter.get("secrecy") or None,
        first_page_footer=footer and printed_text(footer, digits),
        title=letter.get("subject") or "",
        digits=digits,
    )


# Bidirectional formatting characters (LRM, RLM, ALM, embeddings, overrides, isolates): an
# override typed into one field would print that field, or the next one on its line, in
# reverse (๑,๐๐๐ for ๐๐๐,๑) while the document, the index and the DOCX text say otherwise.
# A Thai letter has no use for them: they are not printed (the lint names where they are).
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def printed_text(text: str, digits: str) -> str:
    """Typed text as both renderers print it: in the office's digits, without bidirectional
    formatting characters."""
    return printed_digits(text.translate(_BIDI_CONTROLS), digits)


def _with_digits(run: Run, digits: str) -> Run:
    text = printed_text(run.text, digits)
    return run if text == run.text else replace(run, text=text)


# The blocks that end a letter and must not stand alone at the top of a page.
_SIGNATURE_ROLES = frozenset(
    {"closing", "complimentary_close", "decree_date", "sender_name", "signature_space"}
)
_BODY_ROLES = frozenset({"body", "item"})
_SURELY_ONE_LINE = 40  # graphemes: far less than a 16 cm line holds at 16 pt


def _keep_text_with_signature(blocks: list[Block]) -> None:
    """Carry at least two lines of the body onto the page of the closing and signature.

    The body block before them keeps with them (with ``widows: 2`` a split paragraph
    carries two lines); when that block is surely a single line, so does the one before.
    """
    end = next((i for i, b in enumerate(blocks) if b.role in _SIGNATURE_ROLES), None)
    lines = 0
    for block in reversed(blocks[:end] if end is not None else []):
        if block.role not in _BODY_ROLES or lines >= 2:
            break
        block.keep_with_next = True
        starts = sum(1 for c in block.text if unicodedata.category(c) not in ("Mn", "Mc"))
        lines += 1 if starts < _SURELY_ONE_LINE else 2


def _urgency(urgency: str) -> Block:
    return Block("urgency", _runs(urgency), bold=True, size=STAMP_PT, color=RED)


def _labelled(role: str, label: str, text: str | None, hang: float, gap: float) -> Block:
    return Block(
        role,
        _runs(text),
        label=[Run(label)],
        hang_cm=hang,
        indent_cm=hang,
        first_line_cm=-hang,
        space_before_pt=gap,
    )


def _references(letter: dict) -> list[Block]:
    refs = letter.get("references") or []
    if len(refs) == 1:
        return [_labelled("reference", "อ้างถึง", refs[0], REFERENCE_HANG_CM, PARA_GAP_PT)]
    blocks = []
    for i, ref in enumerate(refs):
        block = _labelled(
            "reference",
            "อ้างถึง" if i == 0 else "",
            f"{to_thai_digits(str(i + 1))}. {ref}",
            REFERENCE_HANG_CM,
            PARA_GAP_PT if i == 0 else 0,
        )
        blocks.append(block)
    return blocks


def _enclosures(letter: dict) -> list[Block]:
    items = letter.get("enclosures") or []
    blocks = []
    for i, enclosure in enumerate(items):
        number = f"{to_thai_digits(str(i + 1))}. " if len(items) > 1 else ""
        quantity = enclosure.get("quantity")
        block = _labelled(
            "enclosure",
            "สิ่งที่ส่งมาด้วย" if i == 0 else "",
            number + enclosure["title"],
            ENCLOSURE_HANG_CM,
            PARA_GAP_PT if i == 0 else 0,
        )
        if quantity:
            block.tab_cm = QUANTITY_CM
            block.tab_runs = [Run(f"จำนวน {quantity}")]
        blocks.append(block)
    return blocks


def _body(letter: dict) -> list[Block]:
    blocks = []
    for block in letter.get("body") or []:
        if isinstance(block, str):
            blocks.append(
                Block(
                    "body",
                    _runs(block),
                    align="justify",
                    first_line_cm=PARA_INDENT_CM,
                    space_before_pt=PARA_GAP_PT,
                )
            )
            continue
        for i, item in enumerate(block["items"]):
            blocks.append(
                Block(
                    "item",
                    _runs(f"{to_thai_digits(str(i + 1))}. {item}"),
                    align="justify",
                    first_line_cm=PARA_INDENT_CM,
                    space_before_pt=PARA_GAP_PT if i == 0 else 0,
                )
            )
    return blocks


def _closing(letter: dict) -> list[Block]:
    if not letter.get("closing"):
        return []
    return [
        Block(
            "closing",
            _runs(letter["closing"]),
            align="justify",
            first_line_cm=PARA_INDENT_CM,
            space_before_pt=PARA_GAP_PT,
            keep_with_next=True,
        )
    ]


def _signature(letter: dict, *, complimentary_close: bool) -> list[Block]:
    signer = letter.get("signer") or {}
    blocks = []
    if complimentary_close and letter.get("complimentary_close"):
        blocks.append(
            Block(
                "complimentary_close",
                _runs(letter["complimentary_close"]),
                indent_cm=DATE_CM,
                space_before_pt=PARA_GAP_PT,
                keep_with_next=True,
            )
        )
    blocks.append(Block("signature_space", space_before_pt=SIGNATURE_GAP_PT, keep_with_next=True))
    name = signer.get("name")
    positions = signer.get("position") or []
    if name:
        blocks.append(
            Block(
                "signer_name",
                _runs(f"({name})"),
                align="center",
                indent_cm=SIGN_FROM_CM,
                keep_with_next=bool(positions),
            )
        )
    for i, line in enumerate(positions):
        blocks.append(
            Block(
                "signer_position",
                _runs(line),
                align="center",
                indent_cm=SIGN_FROM_CM,
                keep_with_next=i < len(positions) - 1,
            )
        )
    return blocks


def _owner_and_contact(letter: dict) -> list[Block]:
    blocks = []
    for i, line in enumerate(letter.get("owner_unit") or []):
        blocks.append(
            Block("owner_unit", _runs(line), space_before_pt=PARA_GAP_PT * 2 if i == 0 else 0)
        )
    contact = letter.get("contact") or {}
    phone, fax, email = contact.get("phone"), contact.get("fax"), contact.get("email")
    if phone and fax and phone == fax:
        blocks.append(Block("contact", _runs(f"โทร./โทรสาร {phone}")))
    else:
        blocks.append(Block("contact", _runs(phone and f"โทร. {phone}")))
        blocks.append(Block("contact", _runs(fax and f"โทรสาร {fax}")))
    blocks.append(Block("contact", _runs(email and f"ไปรษณีย์อิเล็กทรอนิกส์ {email}")))
    copies = letter.get("copies_to") or []
    for i, line in enumerate(copies):
        blocks.append(
            _labelled(
                "copies_to",
                "สำเนาส่ง" if i == 0 else "",
                line,
                COPIES_HANG_CM,
                PARA_GAP_PT if i == 0 else 0,
            )
        )
    return blocks


def _ref_line(letter: dict, *, label: str = "ที่") -> list[Run]:
    return [Run(f"{label} {letter.get('ref_no') or ''}".rstrip())]


def _build_external(letter: dict, blocks: list[Block]) -> None:
    sender = letter.get("sender") or {}
    blocks.append(
        Block(
            "ref_no",
            _ref_line(letter),
            tab_cm=SENDER_CM,
            tab_runs=_runs(sender.get("name")),
        )
    )
    for line in sender.get("address") or []:
        blocks.append(Block("sender_address", _runs(line), indent_cm=SENDER_CM))
    blocks.append(Block("date", _runs(letter_date(letter)), indent_cm=DATE_CM, space_before_pt=6))
    blocks.append(_labelled("subject", "เรื่อง", letter.get("subject"), SUBJECT_HANG_CM, PARA_GAP_PT))
    blocks.append(
        Block(
            "salutation",
            _runs(letter.get("addressee")),
            label=_runs(f"{letter.get('salutation') or ''} "),
            space_before_pt=PARA_GAP_PT,
        )
    )
    blocks.extend(_references(letter))
    blocks.extend(_enclosures(letter))
    blocks.extend(_body(letter))
    blocks.extend(_closing(letter))
    blocks.extend(_signature(letter, complimentary_close=True))
    blocks.extend(_owner_and_contact(letter))


def _build_memo(letter: dict, blocks: list[Block]) -> None:
    def label(text: str) -> Run:
        return Run(text, bold=True, size=MEMO_LABEL_PT)

    # The title is centred on the text block; the urgency stamp goes between the Garuda
    # and the title, as the แบบ shows (red, bold, 32 pt).
    urgency = letter.get("urgency")
    blocks.append(
        Block(
            "memo_title",
            _runs(LETTER_KINDS["memo"].thai),
            align="center",
            bold=True,
            size=MEMO_TITLE_PT,
            emblem=True,
            beside_emblem=_runs(urgency, bold=True, size=STAMP_PT, color=RED),
        )
    )
    unit = ", ".join(letter.get("owner_unit") or []) or (letter.get("sender") or {}).get("name")
    phone = (letter.get("contact") or {}).get("phone")
    unit_text = f"{unit} โทร. {phone}" if unit and phone else unit
    blocks.append(Block("memo_unit", [label("ส่วนราชการ "), *_runs(unit_text)]))
    date = letter_date(letter)
    blocks.append(
        Block(
            "memo_ref",
            [label("ที่ "), *_runs(letter.get("ref_no"))],
            tab_cm=DATE_CM,
            tab_runs=[label("วันที่ "), *_runs(date)],
        )
    )
    blocks.append(Block("memo_subject", [label("เรื่อง "), *_runs(letter.get("subject"))]))
    salutation = letter.get("salutation") or "เรียน"
    blocks.append(
        Block(
            "salutation",
            [Run(f"{salutation} "), *_runs(letter.get("addressee"))],
            space_before_pt=PARA_GAP_PT,
        )
    )
    blocks.extend(_body(letter))
    blocks.extend(_closing(letter))
    blocks.extend(_signature(letter, complimentary_close=False))


def _issuer(letter: dict) -> str:
    return letter.get("issuer") or (letter.get("sender") or {}).get("name") or ""


def _build_directive(word: str, decree_word: str):
    def build(letter: dict, blocks: list[Block]) -> None:
        blocks.append(Block("title", _runs(f"{word}{_issuer(letter)}"), align="center", bold=True))
        if letter.get("ref_no"):
            blocks.append(Block("ref_no", _ref_line(letter), align="center"))
        blocks.append(
            Block("subject", _runs(f"เรื่อง {letter.get('subject') or ''}"), align="center")
        )
        blocks.append(Block("rule", _runs("―" * 10), align="center"))
        blocks.extend(_body(letter))
        date = letter_date(letter, "decree")
        blocks.append(
            Block(
                "decree_date",
                _runs(date and f"{decree_word} ณ วันที่ {date}"),
                indent_cm=SIGN_FROM_CM + 1.0,
                space_before_pt=PARA_GAP_PT,
                keep_with_next=True,
            )
        )
        blocks.extend(_signature(letter, complimentary_close=False))

    return build


def _build_stamped(letter: dict, blocks: list[Block]) -> None:
    sender = letter.get("sender") or {}
    blocks.append(Block("ref_no", _ref_line(letter)))
    blocks.append(
        Block(
            "addressee", [Run("ถึง "), *_runs(letter.get("addressee"))], space_before_pt=PARA_GAP_PT
        )
    )
    blocks.extend(_body(letter))
    blocks.extend(_closing(letter))
    blocks.append(
        Block(
            "sender_name",
            _runs(sender.get("name")),
            align="center",
            indent_cm=SIGN_FROM_CM,
            space_before_pt=PARA_GAP_PT,
            keep_with_next=True,
        )
    )
    # The red stamp of the unit goes here, with a division head's initials.
    blocks.append(Block("signature_space", space_before_pt=SIGNATURE_GAP_PT, keep_with_next=True))
    blocks.append(Block("date", _runs(letter_date(letter)), align="center", indent_cm=SIGN_FROM_CM))
    blocks.extend(_owner_and_contact(letter))


_BUILDERS = {
    "external": _build_external,
    "memo": _build_memo,
    "order": _build_directive("คำสั่ง", "สั่ง"),
    "announcement": _build_directive("ประกาศ", "ประกาศ"),
    "stamped": _build_stamped,
}
