"""Thai typesetting for WeasyPrint 70.0: an exact text layer, word-aware line breaks and
distributed justification.

WeasyPrint lays Thai out with Pango and HarfBuzz and draws it well, but three things in
70.0 are wrong for Thai official letters, and this module fixes them by replacing a few of
its functions (``install()``):

1. **The text layer.** WeasyPrint builds the PDF glyph-to-Unicode map (``ToUnicode``) one
   glyph at a time, first occurrence wins. Thai shaping breaks that: ``ำ`` becomes two
   glyphs (nikhahit + sara aa), so sara aa gets mapped to ``ำ`` and every later ``า``
   extracts as ``ำ``; tone marks get positioned or alternate glyphs, so ``น้ำ`` extracts as
   ``นำ`` and ``ปั้น`` as ``ปั้ น``. The replacement ``draw_first_line`` maps a glyph for
   good only from a cluster where one glyph is exactly its text, and wraps every grapheme
   (base letter plus its marks) whose glyphs do not give back its text, or whose glyphs are
   shifted, in a marked-content span ``/Span <</ActualText (…)>> BDC … EMC``, which
   ``pdftotext``, Acrobat and copy-and-paste honour. The invisible line-break hints of (2)
   never reach the text layer, nor do the gaps of (3) read as spaces.

2. **Line breaks where a Thai typesetter allows them.** Pango breaks Thai with libthai's
   dictionary, which splits words and names it does not know (``ประจำปี|งบประมาณ``,
   ``สิน|ท|รม``). Call ``thai_line_break_hints(text)`` on every text before it goes into
   HTML: it marks where a line may break (U+200B, zero width space), where only a loose
   line may break (between the parts of a compound: U+200C before the break) and which
   spaces must not break (U+2060, word joiner, after them), as
   :mod:`saraban.templates._thai_breaks` decides. Then give the text the CSS
   ``word-break: keep-all``, which this module teaches WeasyPrint: a line may then break
   only at a space or a U+200B (libthai's guesses are ignored), and between compound parts
   only if it is justified and would otherwise leave more than 3 em unfilled. A word wider
   than the whole line still breaks where Pango can (anywhere with
   ``overflow-wrap: anywhere``), so nothing overflows.

3. **Distributed justification** (Word's ``thaiDistribute``). WeasyPrint justifies by
   widening spaces only, and Thai lines have few spaces. With ``text-align: justify``, this
   module spreads the extra width over the spaces first (each up to 0.5 em wider), then
   over the gaps between Thai graphemes (each up to 0.08 em), then over the spaces again;
   only a line without spaces spreads its graphemes further. Latin words, Arabic numbers
   and URLs are never letter-spaced. This applies when ``text-justify`` is
   ``inter-character`` (or its old name ``distribute``), or is ``auto`` (the initial
   value) and the paragraph's ``lang`` is Thai (``th``, ``th-TH``).
   ``text-justify: inter-word`` keeps WeasyPrint's space-only justification and
   ``text-justify: none`` turns justification off. The last line of a paragraph stays
   left-aligned, as CSS says.

The replaced functions are copies of the 70.0 ones with the changes marked ``# THAI:``;
``install()`` refuses any other WeasyPrint version, so an upgrade cannot silently drop or
misapply them: re-check the copies against the new release, then change
``WEASYPRINT_VERSION``.

The text-layer fix (1) works around WeasyPrint's own ToUnicode map for shaped scripts, where
a glyph keeps the text of the first cluster it was drawn in: upstream
https://github.com/Kozea/WeasyPrint/issues/2841 (a shared glyph extracts as another letter,
multi-glyph clusters map to nothing; reported for Arabic, the same cause as Thai ``ำ`` and
tone marks), with a proposed fix in https://github.com/Kozea/WeasyPrint/pull/2869. Drop the
replacement of ``draw_first_line`` when a release fixes it.

**This is the only module that touches WeasyPrint's internals** (anything beyond the
documented ``HTML``, ``CSS``, ``Document``, ``Attachment``, ``URLFetcher``,
``FontConfiguration`` and ``FatalURLFetchingError``): besides the patches above, the page
furniture helpers (``page_texts``, ``replace_margin_boxes``) that let the letter renderer
lay out each page's number and continuation marker once the text is paginated. Importing it
checks the WeasyPrint version first (``check_version``), so nothing here runs against a
release it was not checked against; ``tests/test_weasyprint_thai.py`` fails on any other
version, and ``tests/test_packaging.py`` fails if another module reaches inside WeasyPrint.
"""

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from io import BytesIO
from math import inf
from typing import Any, TypeVar
from xml.etree import ElementTree

import cffi

__all__ = [
    "WEASYPRINT_VERSION",
    "check_version",
    "font_configuration",
    "font_face_css",
    "install",
    "page_texts",
    "replace_margin_boxes",
    "strip_line_break_hints",
    "thai_line_break_hints",
]

#: The only WeasyPrint release the replaced functions were copied from and checked against.
WEASYPRINT_VERSION = "70.0"

_ZERO_WIDTH_SPACE = "\u200b"
_WORD_JOINER = "\u2060"
# Marks a break a line takes only when it would otherwise be loose (after the space before
# it, or where it stands): zero width non-joiner, which Thai shaping never needs. Pango cannot
# be told to ignore a U+200B, so the mark is turned into one only when such a line is laid
# out (``_loose_breaks``).
_LOOSE_BREAK = "\u200c"

# Characters drawn as nothing (Pango gives them PANGO_GLYPH_EMPTY): they are not letters of
# the text layer, take no justification gap, and are stripped from ActualText and ToUnicode.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_DELETE_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE))
_INVISIBLE_HINTS_RE = re.compile("[\u200b\u200c\u2060]")

# Pango's PANGO_GLYPH_EMPTY and PANGO_GLYPH_UNKNOWN_FLAG (read once, as plain ints).
_PANGO_GLYPH_EMPTY = 0x0FFFFFFF
_PANGO_GLYPH_UNKNOWN_FLAG = 0x10000000

_T = TypeVar("_T")

_installed = False
_install_lock = threading.Lock()
_keep_all_suspended: ContextVar[bool] = ContextVar("_keep_all_suspended", default=False)
# Whether the line being split may take the breaks of a loose line (between compound parts).
_loose_breaks: ContextVar[bool] = ContextVar("_loose_breaks", default=False)


def check_version() -> None:
    """Raise ``RuntimeError`` unless the installed WeasyPrint is ``WEASYPRINT_VERSION``.

    Every function of this module that reaches inside WeasyPrint was written against that
    release (the replaced ones are copies of its own) and must be re-checked first.
    """
    import weasyprint

    if weasyprint.__version__ != WEASYPRINT_VERSION:
        raise RuntimeError(
            f"saraban.templates._weasyprint_thai patches WeasyPrint {WEASYPRINT_VERSION}, but "
            f"WeasyPrint {weasyprint.__version__} is installed: re-check the copied "
            "functions against this release before changing WEASYPRINT_VERSION"
        )


def install() -> None:
    """Patch WeasyPrint for Thai; call once before rendering (later calls do nothing).

    Raises ``RuntimeError`` if the installed WeasyPrint is not ``WEASYPRINT_VERSION``.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        check_version()
        _weasy.load()
        _register_css()
        _patch_functions()
        _close_color_profile_files()
        reuse_image_streams()
        _installed = True


# --------------------------------------------------------------------------------------
# Public helpers for the HTML builders
# --------------------------------------------------------------------------------------


def thai_line_break_hints(text: str) -> str:
    """Return ``text`` with the invisible line-break hints ``word-break: keep-all`` needs.

    With ``word-break: keep-all`` (as this module implements it) a line breaks only at a
    space or a U+200B (zero width space). The places come from
    :func:`saraban.templates._thai_breaks.break_classes` (a dictionary of Thai words, place
    names, titles and compounds, and the rules that keep a label with its number, a name,
    an abbreviation or a date whole):

    - a word boundary without a space where a line may break gets a U+200B, if Pango's own
      rules allow a break there too when a side is not Thai (``AIC/|ทำ``, not ``พ.ศ.|๒๕๖๕``);
    - a compound's inner boundary (``กรม|การพัฒนา|ชุมชน``), which a line takes only when it
      would otherwise be loose, gets a U+200C (zero width non-joiner), after the space if
      there is one;
    - a space where no line may break (``พ.ศ. ๒๕๖๘``, ``นายพิชิต แสงมหาชัย``, ``ต่าง ๆ``)
      is followed by a U+2060 (word joiner).

    The hints are drawn as nothing and never reach the PDF text layer.
    Apply this to every text before HTML escaping; it is idempotent. The first call loads
    the dictionary (a second or two); a new text then costs about half a millisecond, a text
    seen before (salutations, closings, unit names) nothing.
    """
    return _line_break_hints(strip_line_break_hints(text))


@lru_cache(maxsize=8192)
def _line_break_hints(text: str) -> str:
    from weasyprint.text.line_break import get_log_attrs

    from saraban.templates._thai_breaks import FREE, LOOSE, NEVER, break_classes

    if not text.strip():
        return text
    classes = break_classes(text)
    log_attrs = None
    pieces: list[str] = []
    for position, char in enumerate(text):
        if position and not char.isspace():
            before = text[position - 1]
            kind = classes[position]
            if _breaking_space(before):
                if kind == NEVER:
                    pieces.append(_WORD_JOINER)
                elif kind == LOOSE:
                    pieces.append(_LOOSE_BREAK)
            elif kind in (FREE, LOOSE) and not before.isspace():
                if not (_is_thai(before) and _is_thai(char)):
                    if log_attrs is None:
                        log_attrs = get_log_attrs(text, "th")
                    if not log_attrs[position].is_line_break:
                        kind = NEVER  # Pango's rules: no break after "(" or before ")"
                if kind == FREE:
                    pieces.append(_ZERO_WIDTH_SPACE)
                elif kind == LOOSE:
                    pieces.append(_LOOSE_BREAK)
        pieces.append(char)
    return "".join(pieces)


def strip_line_break_hints(text: str) -> str:
    """Return ``text`` without the U+200B, U+200C and U+2060 of ``thai_line_break_hints``."""
    return _INVISIBLE_HINTS_RE.sub("", text)


def font_face_css() -> str:
    """Return ``@font-face`` rules for Sarabun (regular, bold, italic, bold italic).

    The fonts come from the ``fontpkg-sarabun`` package, loaded by ``file://`` URL, so the
    URL fetcher must allow that directory.
    """
    from saraban.fonts import SARABUN_DIR

    rules = []
    for weight, style, name in (
        ("normal", "normal", "Regular"),
        ("bold", "normal", "Bold"),
        ("normal", "italic", "Italic"),
        ("bold", "italic", "BoldItalic"),
    ):
        url = (SARABUN_DIR / f"Sarabun-{name}.ttf").as_uri()
        rules.append(
            f"@font-face {{ font-family: Sarabun; font-weight: {weight}; "
            f"font-style: {style}; src: url({url}); }}"
        )
    return "\n".join(rules)


# --------------------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------------------


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


@cache
def _is_grapheme_start(char: str) -> bool:
    """Whether ``char`` starts a grapheme (a place for a justification gap).

    Marks (Mn, Me, Mc) and the Thai and Lao sara am (grapheme "SpacingMark" although they are
    letters) continue the grapheme before them; invisible characters are no grapheme at all.
    """
    if char in _INVISIBLE or char in "\u0e33\u0eb3":
        return False
    return unicodedata.category(char) not in ("Mn", "Me", "Mc")


def _count_grapheme_starts(text: str) -> int:
    return sum(map(_is_grapheme_start, text))


def _visible_text(text: str) -> str:
    return text.translate(_DELETE_INVISIBLE)


# --------------------------------------------------------------------------------------
# CSS: word-break: keep-all, text-justify
# --------------------------------------------------------------------------------------


def _register_css() -> None:
    """Teach WeasyPrint ``word-break: keep-all`` and the ``text-justify`` property."""
    from weasyprint.css import properties
    from weasyprint.css.tokens import get_single_keyword
    from weasyprint.css.validation import properties as validation

    def word_break(tokens):
        """``word-break`` validation, with ``keep-all`` added (THAI)."""
        keyword = get_single_keyword(tokens)
        if keyword in ("normal", "break-all", "keep-all"):
            return keyword

    def text_justify(tokens):
        """``text-justify`` validation (CSS Text 3; ``distribute`` is ``inter-character``)."""
        keyword = get_single_keyword(tokens)
        if keyword == "distribute":
            return "inter-character"
        if keyword in ("auto", "none", "inter-word", "inter-character"):
            return keyword

    properties.INITIAL_VALUES["text_justify"] = "auto"
    properties.KNOWN_PROPERTIES.add("text-justify")
    properties.INHERITED.add("text_justify")
    # WeasyPrint passes a base URL only to validators that ask (its own @property decorator
    # records this, but it refuses a name it already knows, such as word-break).
    for validator in (word_break, text_justify):
        vars(validator)["wants_base_url"] = False
    validation.PROPERTIES["word-break"] = word_break
    validation.PROPERTIES["text-justify"] = text_justify


def _distributes(style) -> bool:
    """Whether justified lines of this style spread their extra width over graphemes."""
    mode = style["text_justify"]
    if mode == "auto":
        lang = (style["lang"] or "").lower()
        return lang == "th" or lang.startswith("th-")
    return mode == "inter-character"


# --------------------------------------------------------------------------------------
# Pango attributes: keep-all
# --------------------------------------------------------------------------------------


@cache
def _allow_breaks_new():
    """Return Pango's ``pango_attr_allow_breaks_new``, which WeasyPrint's bindings lack."""
    from weasyprint.text import ffi as weasy_ffi

    extra_ffi = cffi.FFI()
    extra_ffi.include(weasy_ffi.ffi)
    extra_ffi.cdef("PangoAttribute * pango_attr_allow_breaks_new (gboolean allow_breaks);")
    pango = weasy_ffi._dlopen(
        extra_ffi,
        "libpango-1.0-0",
        "pango-1.0-0",
        "pango-1.0",
        "libpango-1.0.so.0",
        "libpango-1.0.dylib",
        "libpango-1.0-0.dll",
    )
    return pango.pango_attr_allow_breaks_new


def _breaking_space(char: str) -> bool:
    """Whether ``char`` is white space a line may break after (no-break spaces are not)."""
    return char.isspace() and char not in "\u00a0\u2007\u202f"


# The characters of ``_breaking_space`` in UTF-8 (white space but the no-break spaces).
_BREAKING_SPACE = (
    rb"[\t-\r\x1c-\x20]|\xc2\x85|\xe1\x9a\x80|\xe2\x80[\x80-\x86\x88-\x8a\xa8\xa9]"
    rb"|\xe2\x81\x9f|\xe3\x80\x80"
)
# A character a keep-all line may break after (``_is_break_after``), in UTF-8: a U+200B; a
# breaking space not followed by U+2060; with loose breaks, a U+200C, and without, a space
# must not be followed by one either.
_BREAK_AFTER_RE = {
    False: re.compile(rb"\xe2\x80\x8b|(?:" + _BREAKING_SPACE + rb")(?!\xe2\x81\xa0|\xe2\x80\x8c)"),
    True: re.compile(rb"\xe2\x80[\x8b\x8c]|(?:" + _BREAKING_SPACE + rb")(?!\xe2\x81\xa0)"),
}


def _no_break_ranges(text: str, loose: bool) -> list[tuple[int, int]]:
    """UTF-8 byte ranges inside which ``word-break: keep-all`` forbids line breaks.

    A line may break only after a U+200B, or after a breaking space not followed by a word
    joiner (U+2060); with ``loose``, also after a U+200C, where a space followed by one may
    break too. Each range is the text between two such places without the U+200B, U+200C
    or the spaces that end it: Pango merges adjoining ranges, which would lose the break.
    """
    data = text.encode()
    ranges = []
    start = 0
    for match in _BREAK_AFTER_RE[loose].finditer(data):
        if match.start() - start > 1:
            ranges.append((start, match.start()))
        start = match.end()
    if len(data) - start > 1:
        ranges.append((start, len(data)))
    return ranges


def _is_break_after(text: str, index: int, length: int, loose: bool) -> bool:
    """Whether ``word-break: keep-all`` lets a line break after ``text[index]``."""
    char = text[index]
    if char == _ZERO_WIDTH_SPACE:
        return True
    if char == _LOOSE_BREAK:
        return loose
    if _breaking_space(char):
        following = text[index + 1] if index + 1 < length else ""
        return following != _WORD_JOINER and (loose or following != _LOOSE_BREAK)
    return False


def _keep_all_can_break(text: str) -> bool:
    """Whether ``word-break: keep-all`` leaves a line break opportunity inside ``text``."""
    length = len(text)
    return any(
        _is_break_after(text, index, length, True) and not _breaking_space(text[index + 1])
        for index in range(length - 1)
    )


def _has_loose_breaks(text: str) -> bool:
    return _LOOSE_BREAK in text


@lru_cache(maxsize=4096)
def _cached_no_break_ranges(text: str, loose: bool) -> tuple[tuple[int, int], ...]:
    return tuple(_no_break_ranges(text, loose))


def _forbid_breaks_inside_words(layout) -> None:
    """Add Pango ``allow-breaks: false`` attributes over the keep-all ranges of ``layout``."""
    from weasyprint.text.ffi import ffi, pango

    ranges = _cached_no_break_ranges(layout.text, _loose_breaks.get())
    attr_list = pango.pango_layout_get_attributes(layout.layout)
    if attr_list == ffi.NULL:
        if not ranges:
            return
        attr_list = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    allow_breaks_new = _allow_breaks_new()
    # The layout may be reused for another text: first clear the ranges of the last one.
    pango.pango_attr_list_change(attr_list, allow_breaks_new(True))
    for start, end in ranges:
        attr = allow_breaks_new(False)
        attr.start_index, attr.end_index = start, end
        pango.pango_attr_list_change(attr_list, attr)
    pango.pango_layout_set_attributes(layout.layout, attr_list)


# --------------------------------------------------------------------------------------
# Line breaking: keep-all and its priorities
# --------------------------------------------------------------------------------------

# A line that would leave more than this many ems unfilled is loose: it may then end between
# the parts of a compound (กรม|การพัฒนาชุมชน) rather than before the whole compound.
_LOOSE_LINE_EM = 3.0


def _with(variable: ContextVar[bool], value: bool, function: Callable[[], _T]) -> _T:
    token = variable.set(value)
    try:
        return function()
    finally:
        variable.reset(token)


def _split_line(split_first_line, arguments: tuple):
    """WeasyPrint's ``split_first_line`` for ``word-break: keep-all`` text, in up to three
    tries (``arguments``: its arguments, in order):

    1. breaking between words only, not between the parts of a compound;
    2. if that leaves a justified line loose (more than ``_LOOSE_LINE_EM`` unfilled: the
       text is split, or its first word does not fit where the line has more room than
       that), or a line starting with the text overflows, breaking between compound parts
       too, kept if it fills the line better;
    3. if a line starting with the text still overflows, without keep-all, so Pango (or
       ``overflow-wrap``) breaks the word that is wider than the line.

    Minimum content widths (``minimum``) count compound parts as breaks.
    """
    text, style, _, max_width, _, is_line_start, minimum = arguments

    def split():
        return split_first_line(*arguments)

    if style["word_break"] != "keep-all" or _keep_all_suspended.get():
        return split()
    if minimum:
        return _with(_loose_breaks, True, split)
    result = split()
    if max_width is None or max_width == inf:
        return result
    if not _loose_breaks.get() and _has_loose_breaks(text):
        width, fits = result[3], result[3] <= max_width
        loose_limit = _LOOSE_LINE_EM * style["font_size"]
        # A ragged (not justified) line is never loose: it just ends early.
        justified = style["text_align_all"] == "justify" and style["text_justify"] != "none"
        if (justified and fits and result[2] is not None and max_width - width > loose_limit) or (
            not fits and (is_line_start or (justified and max_width > loose_limit))
        ):
            loose = _with(_loose_breaks, True, split)
            if loose[3] <= max_width and (not fits or loose[3] > width):
                result = loose
    if is_line_start and result[3] > max_width:
        result = _with(_keep_all_suspended, True, split)
    return result


# --------------------------------------------------------------------------------------
# The patches
# --------------------------------------------------------------------------------------


def _close_color_profile_files() -> None:
    """PDF/A output opens WeasyPrint's ``sRGB2014.icc`` and never closes it (70.0): read
    the profile into memory and close the file, so archives leak no file handles."""
    from weasyprint.css import ColorProfile

    original_init = ColorProfile.__init__

    def __init__(self, file_object, *args, **kwargs):
        if hasattr(file_object, "read") and hasattr(file_object, "close"):
            with file_object:
                file_object = BytesIO(file_object.read())
        original_init(self, file_object, *args, **kwargs)

    ColorProfile.__init__ = __init__


FONT_FOLDER_PREFIX = "saraban-fonts-"


def font_configuration() -> Any:
    """A WeasyPrint ``FontConfiguration`` whose ``@font-face`` files are removed with the
    process, however it ends.

    WeasyPrint 70.0 copies every font face into a ``weasyprint-*`` temporary folder that
    only its ``__del__`` removes, which never runs for a configuration kept for the
    process's life, in a process pool's worker (it leaves by ``os._exit``) or in one that is
    killed (a preview past its time limit): each process left ~360 KB behind, hundreds a
    day on a busy server. Here the folder is :func:`saraban.folders.process_folder`'s.
    """
    from weasyprint.text.fonts import FontConfiguration

    from saraban.folders import process_folder

    config = FontConfiguration()
    config._folder = process_folder(FONT_FOLDER_PREFIX)  # where add_font_face writes (70.0)
    return config


def _fresh_stream(stream: Any) -> Any:
    """A new PDF stream object with the same data (and a new soft mask): each document
    numbers its own objects, so one object never goes into two PDFs."""
    import pydyf

    extra = pydyf.Dictionary(
        {k: _fresh_stream(v) if isinstance(v, pydyf.Stream) else v for k, v in stream.extra.items()}
    )
    return pydyf.Stream(list(stream.stream), extra, stream.compress)


def reuse_image_streams() -> None:
    """WeasyPrint splits a PNG with transparency (the emblem) into colour and alpha and
    encodes both again each time a PDF is written (two PNG encodes a letter); an image kept
    in a render's image cache (``_pdf._image_cache``) keeps its encoded streams instead,
    copied for each PDF."""
    from weasyprint.images import RasterImage

    original = RasterImage.get_x_object
    if getattr(original, "saraban_reused", False):
        return

    def get_x_object(self: Any, interpolate: bool, dpi_ratio: float) -> Any:
        made = self.__dict__.setdefault("_saraban_x_objects", {})
        key = (interpolate, dpi_ratio)
        if key not in made:
            made[key] = original(self, interpolate, dpi_ratio)
        return _fresh_stream(made[key])

    get_x_object.saraban_reused = True  # type: ignore[attr-defined]
    RasterImage.get_x_object = get_x_object


def _patch_functions() -> None:
    from weasyprint.draw import text as draw_text
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline, preferred
    from weasyprint.text import line_break

    original_set_text = line_break.Layout.set_text
    original_split_first_line = line_break.split_first_line
    original_justify_line = inline.justify_line
    original_can_break_inside = inline.can_break_inside

    def set_text(self, text, justify=False):
        """``Layout.set_text``, then the ``word-break: keep-all`` attributes (THAI).

        When loose-line breaks are allowed, Pango gets a U+200B (same length) for each
        U+200C, so that it may break there; ``self.text`` keeps the text as given.
        """
        keep_all = self.style["word_break"] == "keep-all" and not _keep_all_suspended.get()
        if keep_all and _loose_breaks.get() and _LOOSE_BREAK in text:
            original_set_text(self, text.replace(_LOOSE_BREAK, _ZERO_WIDTH_SPACE), justify)
            self.text = text[: len(self.text)]
        else:
            original_set_text(self, text, justify)
        if keep_all:
            _forbid_breaks_inside_words(self)

    def split_first_line(
        text,
        style,
        context,
        max_width,
        justification_spacing,
        is_line_start=True,
        minimum=False,
    ):
        """``split_first_line`` with keep-all's break priorities (THAI): ``_split_line``."""
        return _split_line(
            original_split_first_line,
            (text, style, context, max_width, justification_spacing, is_line_start, minimum),
        )

    def can_break_inside(box):
        """``can_break_inside``, knowing where keep-all text can break (THAI).

        Without this, WeasyPrint would try to break an unbreakable keep-all text box one
        pixel at a time.
        """
        if (
            isinstance(box, boxes.TextBox)
            and box.style["word_break"] == "keep-all"
            and box.style["white_space"] in ("normal", "pre-wrap", "pre-line")
            and not _keep_all_suspended.get()
        ):
            return _keep_all_can_break(box.text) and original_can_break_inside(box)
        return original_can_break_inside(box)

    def justify_line(context, line, extra_width):
        """``justify_line``, distributing over grapheme gaps where asked (THAI)."""
        if line.style["text_justify"] == "none":
            return
        if _distributes(line.style) and line.style["direction"] == "ltr":
            spacing = _distribute(line, extra_width)
            if spacing is not None:
                _add_gap_spacing(line, spacing, 0, _LineState())
                return
        original_justify_line(context, line, extra_width)

    line_break.Layout.set_text = set_text
    line_break.split_first_line = split_first_line
    inline.split_first_line = split_first_line
    preferred.split_first_line = split_first_line
    inline.justify_line = justify_line
    inline.can_break_inside = can_break_inside
    draw_text.draw_first_line = _draw_first_line


# --------------------------------------------------------------------------------------
# Distributed justification
# --------------------------------------------------------------------------------------


# Distributed justification spreads a line's extra width over its spaces first, each up to
# this many ems wider, then over the gaps between Thai graphemes, each up to this many ems;
# what is left goes to the spaces again (to the graphemes only on a line without spaces).
# Gaps between two non-Thai graphemes (inside Latin words, Arabic numbers, URLs) take none.
_SPACE_STRETCH_EM = 0.5
_CLUSTER_STRETCH_EM = 0.08

# What the gap before a grapheme takes (``_gap_kind``).
_NO_GAP, _SPACE_GAP, _CLUSTER_GAP = 0, 1, 2


def _gap_kind(previous: str, char: str, following: str) -> int:
    """What the gap before grapheme ``char`` takes: ``previous`` is the grapheme before it
    ("" at the line start), ``following`` the character after it."""
    if not previous:
        return _NO_GAP
    if char.isspace():
        return _NO_GAP if following == _WORD_JOINER else _SPACE_GAP  # พ.ศ. ๒๕๖๘ stays tight
    if previous.isspace() or not (_is_thai(previous) or _is_thai(char)):
        return _NO_GAP  # after a space (the space took it), or inside "Social", "2019"
    return _CLUSTER_GAP


@dataclass(slots=True)
class _Spacing:
    """The extra width, in points, of each space and of each gap between Thai graphemes."""

    space: float
    cluster: float


class _LineState:
    """The last grapheme placed on the line so far ("" at its start: no gap before it)."""

    def __init__(self) -> None:
        self.previous = ""


def _text_box_gaps(box, state: _LineState) -> tuple[int, int]:
    """Return the number of space and grapheme gaps of a text box, moving ``state`` on."""
    spaces = clusters = 0
    previous = state.previous
    text = box.text
    for index, char in enumerate(text):
        if _is_grapheme_start(char):
            kind = _gap_kind(previous, char, text[index + 1 : index + 2])
            spaces += kind == _SPACE_GAP
            clusters += kind == _CLUSTER_GAP
            previous = char
    state.previous = previous
    return spaces, clusters


def _count_line_gaps(line) -> tuple[int, int]:
    """The number of space and grapheme gaps of a line."""
    from weasyprint.formatting_structure import boxes

    state = _LineState()

    def count(box) -> tuple[int, int]:
        if isinstance(box, boxes.TextBox):
            return _text_box_gaps(box, state)
        if isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            spaces = clusters = 0
            for child in box.children:
                if child.is_in_normal_flow():
                    child_spaces, child_clusters = count(child)
                    spaces += child_spaces
                    clusters += child_clusters
            return spaces, clusters
        state.previous = "\ufffc"  # an atomic inline box (image, inline-block)
        return 0, 0

    return count(line)


def _distribute(line, extra_width: float) -> _Spacing | None:
    """How a justified line spreads ``extra_width``: spaces first, then (bounded) Thai
    graphemes, then spaces again; ``None`` if the line has no gap at all."""
    spaces, clusters = _count_line_gaps(line)
    if not (spaces or clusters):
        return None
    font_size = line.style["font_size"]
    space = min(extra_width / spaces, _SPACE_STRETCH_EM * font_size) if spaces else 0
    left = extra_width - space * spaces
    cluster = min(left / clusters, _CLUSTER_STRETCH_EM * font_size) if clusters else 0
    left -= cluster * clusters
    if spaces:
        space += left / spaces
    else:
        cluster += left / clusters
    return _Spacing(space, cluster)


def _add_gap_spacing(box, spacing: _Spacing, x_advance: float, state: _LineState) -> float:
    """Like WeasyPrint's ``add_word_spacing``, with ``spacing`` in the gaps of the line.

    The text boxes keep their Pango layout: the gaps are added when drawing
    (``_draw_first_line`` reads ``_thai_spacing`` and ``_thai_previous``).
    """
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        box._thai_previous = state.previous
        box._thai_spacing = spacing
        spaces, clusters = _text_box_gaps(box, state)
        extra = spacing.space * spaces + spacing.cluster * clusters
        box.position_x += x_advance
        box.width += extra
        x_advance += extra
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        box.position_x += x_advance
        previous_x_advance = x_advance
        for child in box.children:
            if child.is_in_normal_flow():
                x_advance = _add_gap_spacing(child, spacing, x_advance, state)
        box.width += x_advance - previous_x_advance
    else:
        box.translate(x_advance, 0)
        state.previous = "\ufffc"
    return x_advance


def _justification_gaps(textbox, clusters: list["_Cluster"]) -> dict[int, float]:
    """The extra width, in points, drawn before the first glyph of each cluster."""
    spacing = getattr(textbox, "_thai_spacing", None)
    if spacing is None:
        return {}
    previous = textbox._thai_previous
    text = "".join(cluster.raw for cluster in clusters)
    owners = [cluster.first for cluster in clusters for _ in cluster.raw]
    gaps: dict[int, float] = {}
    for index, char in enumerate(text):
        if _is_grapheme_start(char):
            kind = _gap_kind(previous, char, text[index + 1 : index + 2])
            extra = (
                spacing.space
                if kind == _SPACE_GAP
                else spacing.cluster
                if kind == _CLUSTER_GAP
                else 0
            )
            if extra:
                gaps[owners[index]] = gaps.get(owners[index], 0) + extra
            previous = char
    return gaps


# --------------------------------------------------------------------------------------
# Drawing: the text layer
# --------------------------------------------------------------------------------------


class _Cluster:
    """Glyphs ``first:end`` (numbered along the line) drawn for the characters ``text``."""

    __slots__ = (
        "end",
        "first",
        "font",
        "last_visible",
        "raw",
        "rtl",
        "shifted",
        "starts",
        "text",
        "visible_glyphs",
    )

    def __init__(self, first: int, end: int, raw_text: str, font, rtl: bool):
        self.first = first
        self.end = end
        self.raw = raw_text
        # How many graphemes start in the text; one character: whether it starts one.
        self.starts: int
        if len(raw_text) == 1:  # the usual case, made fast
            self.starts = _is_grapheme_start(raw_text)
            self.text = "" if raw_text in _INVISIBLE else raw_text
        else:
            self.starts = _count_grapheme_starts(raw_text)
            self.text = _visible_text(raw_text)
        self.font = font
        self.rtl = rtl
        self.visible_glyphs: list[int] = []
        self.last_visible = first
        self.shifted = False


def _run_clusters(glyph_item, base: int, utf8_text: bytes, font) -> list[_Cluster]:
    """Split a Pango glyph run into clusters, in glyph (visual) order.

    ``base`` is the number of glyphs of the line before this run.
    """
    glyph_string = glyph_item.glyphs
    num_glyphs = glyph_string.num_glyphs
    glyphs_info = glyph_string.glyphs[0:num_glyphs]
    log_clusters = glyph_string.log_clusters[0:num_glyphs]
    offset = glyph_item.item.offset
    length = glyph_item.item.length
    rtl = bool(glyph_item.item.analysis.level % 2)
    bounds = []
    i = 0
    while i < num_glyphs:
        start = log_clusters[i]
        j = i + 1
        while j < num_glyphs and log_clusters[j] == start:
            j += 1
        bounds.append((i, j, start))
        i = j
    clusters = []
    count = len(bounds)
    for index, (first, end, start) in enumerate(bounds):
        if rtl:
            stop = bounds[index - 1][2] if index else length
        else:
            stop = bounds[index + 1][2] if index + 1 < count else length
        raw_text = utf8_text[offset + start : offset + stop].decode()
        cluster = _Cluster(base + first, base + end, raw_text, font, rtl)
        for k in range(first, end):
            glyph_info = glyphs_info[k]
            glyph_id = glyph_info.glyph
            if glyph_id == _PANGO_GLYPH_EMPTY:
                continue
            if glyph_id & _PANGO_GLYPH_UNKNOWN_FLAG:
                glyph_id = font.get_unused_glyph_id(glyph_id - _PANGO_GLYPH_UNKNOWN_FLAG)
            cluster.visible_glyphs.append(glyph_id)
            cluster.last_visible = base + k
            geometry = glyph_info.geometry
            if geometry.x_offset or geometry.y_offset:
                cluster.shifted = True
        clusters.append(cluster)
    return clusters


def _map_cluster_glyphs(cluster: _Cluster) -> bool:
    """Record the cluster's glyphs in ``font.to_unicode``; return whether the map is exact.

    A glyph drawn alone for its cluster maps to the cluster text, for good (the first such
    cluster wins; later ones with another text are not exact). Glyphs of clusters with
    several glyphs get a provisional entry (needed anyway: the font subset keeps the glyphs
    of ``to_unicode``) that a later one-glyph cluster may replace; such clusters are never
    exact and get an ActualText span.
    """
    font = cluster.font
    exact_glyphs = font.__dict__.setdefault("_thai_exact_glyphs", set())
    to_unicode = font.to_unicode
    glyphs = cluster.visible_glyphs
    if len(glyphs) == 1:
        glyph_id = glyphs[0]
        if glyph_id not in exact_glyphs:
            to_unicode[glyph_id] = cluster.text
            if cluster.text:
                exact_glyphs.add(glyph_id)
            return True
        return to_unicode[glyph_id] == cluster.text
    for index, glyph_id in enumerate(glyphs):
        if glyph_id not in to_unicode:
            to_unicode[glyph_id] = cluster.text if index == len(glyphs) - 1 else ""
    return not glyphs


def _actual_text(text: str) -> bytes:
    return b"<</ActualText <FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">>>"


@dataclass(slots=True)
class _Planned:
    """Glyphs ``first`` to ``last`` (numbered along the line) drawn for ``text``."""

    first: int
    last: int
    text: str
    needs_span: bool
    last_visible: int | None  # the last glyph with an advance; None: none is visible


def _plan_spans(clusters: list[_Cluster], gapped: bool, word_spans: bool):
    """Decide which glyphs of a line open and close ActualText spans.

    Spans cover one grapheme (a base and its marks, possibly from several Pango runs) whose
    glyphs do not give back its text or are shifted. On a ``gapped`` line (distributed
    justification) they also cover every grapheme of several glyphs: text extractors take
    a mark of zero width followed by a gap for a duplicate character and start a new word.
    With ``word_spans`` (loosely justified lines, whose gaps between graphemes extractors
    would read as spaces) they cover whole words, that is all graphemes between two spaces.

    Return ``(span_starts, span_ends)``: ``span_starts`` maps a glyph index to the span
    property list opened before it, ``span_ends`` maps the index of the last glyph of a
    span to the index of the last visible glyph in it (whose advance must end the span).
    """
    units: list[list[_Cluster]] = []
    for cluster in clusters:
        if (
            cluster.rtl
            or not units
            or cluster.starts
            or not cluster.visible_glyphs
            or not units[-1][-1].visible_glyphs
        ):
            units.append([cluster])
        else:
            units[-1].append(cluster)
    planned: list[_Planned] = []
    for unit in units:
        exact = True
        for cluster in unit:
            exact = _map_cluster_glyphs(cluster) and not cluster.shifted and exact
        if gapped and (len(unit) > 1 or len(unit[0].visible_glyphs) > 1):
            exact = False
        text = "".join(cluster.text for cluster in unit)
        visible = [cluster.last_visible for cluster in unit if cluster.visible_glyphs]
        last_visible = visible[-1] if visible else None
        planned.append(_Planned(unit[0].first, unit[-1].end - 1, text, not exact, last_visible))
    if word_spans:
        words: list[_Planned] = []
        in_word = False
        for plan, unit in zip(planned, units, strict=True):
            if plan.text.isspace() or unit[0].rtl:
                words.append(plan)
                in_word = False
            elif in_word:
                word = words[-1]
                word.last = plan.last
                word.text += plan.text
                word.needs_span = True
                if plan.last_visible is not None:
                    word.last_visible = plan.last_visible
            else:
                words.append(plan)
                in_word = True
        planned = words
    span_starts = {}
    span_ends = {}
    for plan in planned:
        if plan.needs_span and plan.text:
            span_starts[plan.first] = _actual_text(plan.text)
            span_ends[plan.last] = plan.last if plan.last_visible is None else plan.last_visible
    return span_starts, span_ends


# Gaps wider than this (in ems) between graphemes are read as spaces by text extractors
# (poppler's limit is 0.1 em): lines justified that loosely get one ActualText span a word.
_LOOSE_GAP = 0.05


def _number(value: float) -> str:
    """Format a PDF number with at most 3 decimals (no exponent)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _close(string: str) -> str:
    """Close the last glyph hex string of a TJ array being built (drop it if empty)."""
    return string[:-1] if string[-1] == "<" else string + ">"


def _draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix):
    """Draw the given ``textbox`` line to the document ``stream``.

    Copy of WeasyPrint 70.0's ``weasyprint.draw.text.draw_first_line``. THAI changes:

    - the whole line is planned first (``_run_clusters``, ``_plan_spans``): the
      glyph-to-Unicode map is set from one-glyph clusters only (``_map_cluster_glyphs``),
      and each grapheme whose glyphs do not give back its text, or are shifted, is wrapped
      in an ActualText span (on justified lines, more: see ``_plan_spans``);
    - the last visible glyph of a span is drawn with character spacing (``Tc``) making its
      advance end where the span ends: text extractors take the span's extent from its
      last glyph, and a mark shifted left would otherwise leave a gap read as a space;
    - the gaps of distributed justification (``_justification_gaps``) are added before the
      spaces and Thai graphemes that take them;
    - x offsets and rises are converted from Pango units with ``FROM_UNITS`` (70.0 divides
      by 1000 instead of 1024, misplacing marks by 2.4 %);
    - no ``0`` positioning numbers are written (smaller content streams).
    """
    w = _weasy
    pango, ffi, FROM_UNITS = w.pango, w.ffi, w.FROM_UNITS  # noqa: N806

    # Don’t draw lines with only invisible characters.
    if not textbox.text.strip():
        return []

    if textbox.style["font_size"] < 1e-6:  # default float precision used by pydyf
        return []

    pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)

    if text_overflow == "ellipsis" or block_ellipsis != "none":
        assert textbox.pango_layout.max_width is not None
        max_width = textbox.pango_layout.max_width
        pango.pango_layout_set_width(textbox.pango_layout.layout, int(max_width * w.TO_UNITS))
        if text_overflow == "ellipsis":
            pango.pango_layout_set_ellipsize(textbox.pango_layout.layout, pango.PANGO_ELLIPSIZE_END)
        else:
            if block_ellipsis == "auto":
                ellipsis = "…"
            else:
                assert block_ellipsis[0] == "string"
                ellipsis = block_ellipsis[1]

            # Remove last word if hyphenated.
            new_text = textbox.pango_layout.text
            if new_text.endswith(textbox.style["hyphenate_character"]):
                last_word_end = w.get_last_word_end(
                    new_text[: -len(textbox.style["hyphenate_character"])],
                    textbox.style["lang"],
                )
                if last_word_end:
                    new_text = new_text[:last_word_end]

            textbox.pango_layout.set_text(new_text + ellipsis)

    first_line, index = textbox.pango_layout.get_first_line()

    if block_ellipsis != "none":
        while index:
            last_word_end = w.get_last_word_end(
                textbox.pango_layout.text[: -len(ellipsis)], textbox.style["lang"]
            )
            if last_word_end is None:
                break
            new_text = textbox.pango_layout.text[:last_word_end]
            textbox.pango_layout.set_text(new_text + ellipsis)
            first_line, index = textbox.pango_layout.get_first_line()

    stream.set_text_matrix(*matrix.values)
    previous_pango_font = None
    string = ""
    x_advance = 0
    emojis = []

    # THAI: plan the whole line first: clusters, glyph-to-Unicode map, ActualText spans
    # (which may cross runs) and the justification gap before each grapheme.
    utf8_text = textbox.pango_layout.text.encode()
    spacing = getattr(textbox, "_thai_spacing", None)
    gap = spacing.cluster if spacing else 0
    clusters = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        glyph_item = run.data
        run = run.next
        font, _ = stream.add_font(glyph_item.item.analysis.font)
        base = clusters[-1].end if clusters else 0
        clusters += _run_clusters(glyph_item, base, utf8_text, font)
    word_spans = gap > _LOOSE_GAP * textbox.style["font_size"]
    span_starts, span_ends = _plan_spans(clusters, bool(gap), word_spans)
    span_last_visible = set(span_ends.values())
    gaps_before = _justification_gaps(textbox, clusters)
    base = 0

    run = first_line.runs[0]
    while run != ffi.NULL:
        # Get Pango objects.
        glyph_item = run.data
        run = run.next
        glyph_string = glyph_item.glyphs
        glyphs_info = glyph_string.glyphs
        num_glyphs = glyph_string.num_glyphs

        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            # Add font file content and get font size.
            previous_pango_font = pango_font
            font, font_size = stream.add_font(pango_font)

            # Workaround for https://gitlab.gnome.org/GNOME/pango/-/issues/530.
            # This is also needed by raster emoji fonts, see #2800.
            if pango.pango_version() < 14802 or font.png:
                font_size = textbox.style["font_size"]

            # Go through the run glyphs.
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        string += "<"

        for i, glyph_info in enumerate(glyphs_info[0:num_glyphs], base):
            # THAI: justification gap, then ActualText span start.
            if i in gaps_before:
                extra = gaps_before[i]
                string += f">{_number(-extra * 1000 / font_size)}<"
                x_advance += extra / font_size
            if i in span_starts:
                string = _close(string)
                if string:
                    stream.show_text(string)
                stream.begin_marked_content("Span", span_starts[i])
                string = "<"
            glyph_id = glyph_info.glyph
            width = glyph_info.geometry.width

            # Display zero-width empty glyph.
            if glyph_id == _PANGO_GLYPH_EMPTY:
                if width:  # THAI: no "0.0" for hints and other invisible characters
                    string += f">{-width / font_size}<"
                if i in span_ends:  # THAI: ActualText span end.
                    string = _end_span(stream, string)
                continue

            # Display .notdef and log warning for missing glyphs.
            if glyph_id & _PANGO_GLYPH_UNKNOWN_FLAG:
                codepoint = glyph_id - _PANGO_GLYPH_UNKNOWN_FLAG
                w.LOGGER.warning(
                    '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
                    chr(codepoint),
                    codepoint,
                )
                glyph_id = font.get_unused_glyph_id(codepoint)
                font.widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                if 0 not in font.widths:
                    # "width" is actually Pango’s get_approximate_char_width. Force
                    # .notdef’s to use this width, even if it’s not the right, as we
                    # want to keep Pango’s layout for next glyphs.
                    font.widths[0] = font.widths[glyph_id]

            # THAI: the glyph-to-Unicode map was set by _plan_spans.

            # Get glyph logical widths.
            if glyph_id in font.widths:
                logical_width = font.widths[glyph_id]
            else:
                pango.pango_font_get_glyph_extents(
                    pango_font, glyph_id, stream.ink_rect, stream.logical_rect
                )
                logical_width = font.widths[glyph_id] = round(
                    stream.logical_rect.width * 1000 * FROM_UNITS / font_size
                )

            # Set horizontal and vertical offsets (THAI: in Pango units, 1024 a point).
            offset = glyph_info.geometry.x_offset * FROM_UNITS * 1000 / font_size
            rise = glyph_info.geometry.y_offset * FROM_UNITS
            kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
            glyph_hex = f"{glyph_id:02x}" if font.bitmap else f"{glyph_id:04x}"
            if i in span_last_visible and abs(kerning) > 5 and not font.bitmap:
                # THAI: last glyph of an ActualText span, its advance ends the span.
                string = _close(string)
                if string:
                    stream.show_text(string)
                if rise:
                    stream.set_text_rise(-rise)
                character_spacing = -kerning * font_size / 1000
                stream.stream.append(f"{_number(character_spacing)} Tc".encode())
                stream.show_text((_number(-offset) if offset else "") + f"<{glyph_hex}>")
                stream.stream.append(b"0 Tc")
                if rise:
                    stream.set_text_rise(0)
                string = "<"
                kerning = 0
            elif rise:
                if string[-1] == "<":
                    string = string[:-1]
                else:
                    string += ">"
                if string:
                    stream.show_text(string)
                stream.set_text_rise(-rise)
                string = ""
                if offset:
                    string = _number(-offset)
                string += f"<{glyph_hex}>"
                stream.show_text(string)
                stream.set_text_rise(0)
                string = "<"
            else:
                if offset:
                    string += f">{_number(-offset)}<"
                string += glyph_hex

            # Set kerning, word spacing, letter spacing (THAI: no "0" adjustments).
            if int(kerning):
                string += f">{int(kerning)}<"

            # Create list of emojis.
            if font.svg:
                svg_data = w.get_hb_object_data(font.hb_face, "svg", glyph_id)
                if svg_data:
                    # Do as explained in specification
                    # https://learn.microsoft.com/typography/opentype/spec/svg
                    tree = ElementTree.fromstring(svg_data)
                    if tree.get("id") != f"glyph{glyph_id}":
                        defs = ElementTree.Element("defs")
                        for child in list(tree):
                            defs.append(child)
                            tree.remove(child)
                        tree.append(defs)
                        ElementTree.SubElement(tree, "use", attrib={"href": f"#glyph{glyph_id}"})
                    if "viewBox" not in tree.attrib:
                        tree.attrib["viewBox"] = f"0 0 {font.upem} {font.upem}"
                    image = w.SVGImage(tree, None, None, None)
                    a = d = 1
                    emojis.append([image, font, a, d, x_advance, 0])
            elif font.png:
                png_data = w.get_hb_object_data(font.hb_font, "png", glyph_id)
                if png_data:
                    pillow_image = w.Image.open(BytesIO(png_data))
                    image_id = f"{font.hash}{glyph_id}"
                    image = w.RasterImage(pillow_image, image_id, png_data)
                    d = logical_width / 1000
                    a = pillow_image.width / pillow_image.height * d
                    pango.pango_font_get_glyph_extents(
                        pango_font, glyph_id, stream.ink_rect, stream.logical_rect
                    )
                    f = -stream.logical_rect.y
                    f = f * FROM_UNITS / font_size - font_size
                    emojis.append([image, font, a, d, x_advance, f])
            elif font.colr:
                svg_data = w.get_hb_object_data(font.hb_font, "colr", glyph_id)
                if svg_data:
                    tree = ElementTree.fromstring(svg_data)
                    image = w.SVGImage(tree, None, None, None)
                    a = d = 1
                    e = x_advance - kerning
                    emojis.append([image, font, a, d, e, -textbox.baseline])

            x_advance += (logical_width + offset - kerning) / 1000
            if i in span_ends:  # THAI: ActualText span end.
                string = _end_span(stream, string)

        base += num_glyphs

        # Close the last glyphs list, remove if empty.
        if string[-1] == "<":
            string = string[:-1]
        else:
            string += ">"

    # Draw text.
    stream.show_text(string)

    return emojis


def _end_span(stream, string: str) -> str:
    """End the ActualText span, after drawing the glyphs of ``string``."""
    string = _close(string)
    if string:
        stream.show_text(string)
    stream.end_marked_content()
    return "<"


class _WeasyPrint:
    """WeasyPrint names used while drawing, imported once by ``install()``."""

    def load(self) -> None:
        from PIL import Image
        from weasyprint.images import RasterImage, SVGImage
        from weasyprint.logger import LOGGER
        from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, pango
        from weasyprint.text.fonts import get_hb_object_data
        from weasyprint.text.line_break import get_last_word_end

        self.Image = Image
        self.RasterImage = RasterImage
        self.SVGImage = SVGImage
        self.LOGGER = LOGGER
        self.FROM_UNITS = FROM_UNITS
        self.TO_UNITS = TO_UNITS
        self.ffi = ffi
        self.pango = pango
        self.get_hb_object_data = get_hb_object_data
        self.get_last_word_end = get_last_word_end
        assert pango.PANGO_GLYPH_EMPTY == _PANGO_GLYPH_EMPTY
        assert pango.PANGO_GLYPH_UNKNOWN_FLAG == _PANGO_GLYPH_UNKNOWN_FLAG


_weasy = _WeasyPrint()


# --------------------------------------------------------------------------------------
# Page furniture: the letter renderer's only other reach inside WeasyPrint
# --------------------------------------------------------------------------------------


def page_texts(page) -> Iterator[str]:
    """The texts of a laid-out page's content, in document order (margin boxes left out).

    ``page`` is a ``weasyprint.Page`` of a rendered document; its boxes are internal.
    """
    for box in page._page_box.children[0].descendants():
        text = getattr(box, "text", None)
        if text:
            yield text


def replace_margin_boxes(page, furniture_page) -> None:
    """Give ``page`` the margin boxes (headers, footers) of ``furniture_page``, dropping its own.

    Both are ``weasyprint.Page`` objects laid out with the same page size and margins: the
    letter renderer lays out its text once, then lays out a document of blank pages that
    carry only each page's number and continuation marker (known only once the text is
    paginated), and moves their margin boxes over, instead of laying the letter out again.
    """
    from weasyprint.formatting_structure import boxes

    own = [b for b in page._page_box.children if not isinstance(b, boxes.MarginBox)]
    grafted = [b for b in furniture_page._page_box.children if isinstance(b, boxes.MarginBox)]
    page._page_box.children = (*own, *grafted)


# Every function above reaches inside WeasyPrint: refuse to load against another release.
check_version()
