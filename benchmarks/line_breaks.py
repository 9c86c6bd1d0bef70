"""Line-break benchmark: Thai line ends a typesetter would reject, before and after.

Renders the seed letters (tests/data/seeds/*.letter.json) and a generated corpus of letters
(``generate_letters``: deterministic, from the seeds' vocabulary, geothai's place names and
PyThaiNLP's person names) with ``saraban.templates.render_pdf``, twice: with the current
checkout, and with a baseline git ref (``main`` by default, exported to a temporary folder
and imported from there in a child process). Every PDF is read back with ``pdftotext -raw``;
its lines are aligned with the letter's layout blocks, and each line end inside a block is
judged with ``saraban.templates._thai_breaks.break_classes`` of the current checkout (the
dictionary and rules a typesetter's corpus checks: tests/test_thai_breaks.py):

- bad: inside a word, a name, an abbreviation or a date, or between a label and its number;
- loose: between the parts of a compound (right only when the line would otherwise be loose);
- ok: between words, or after a space.

Reading the PDFs back (rather than running the breaker alone) counts what is printed: where
WeasyPrint and Pango actually ended each line. Justified lines are also recorded as they are
laid out: how much width each had to spread (loose lines: more than 3 em) and the largest
gap put between two graphemes, Latin ones included.

Run by hand: .venv/bin/python benchmarks/line_breaks.py [--letters 1000] [--baseline main]
Prints figures only; asserts nothing. The machine is shared: timings are indicative.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "tests" / "data" / "seeds").glob("*.letter.json"))
PACKAGES = {"saraban": "saraban", "templates": "saraban/templates", "archive": "saraban/archive"}
PACKAGES |= {"indexer": "saraban/indexer", "service": "saraban/service"}
LOOSE_EM = 3.0


# ---- the generated corpus --------------------------------------------------------------------


def _seed_letters() -> list[dict]:
    return [json.loads(path.read_text("utf-8")) for path in SEEDS]


def _paragraphs(letters: list[dict]) -> list[str]:
    found = []
    for letter in letters:
        for block in letter["body"]:
            found += [block] if isinstance(block, str) else block["items"]
    return found


class _Vocabulary:
    """What generated letters are made of."""

    def __init__(self) -> None:
        import csv

        import geothai
        from pythainlp.corpus.common import (
            thai_family_names,
            thai_female_names,
            thai_male_names,
        )

        seeds = _seed_letters()
        unseen = [
            json.loads(path.read_text("utf-8"))
            for path in sorted((ROOT / "tests" / "data" / "unseen").glob("*.letter.json"))
        ]
        # Clauses: the space-separated pieces of the real letters' paragraphs.
        self.clauses = sorted(
            {c for p in _paragraphs(seeds + unseen) for c in p.split(" ") if len(c) > 3}
        )
        self.subjects = sorted({doc["subject"] for doc in seeds + unseen if doc.get("subject")})
        self.enclosures = sorted({e["title"] for doc in seeds for e in doc["enclosures"]})
        with (ROOT / "saraban" / "data" / "province-codes.csv").open(encoding="utf-8") as f:
            codes = {row["province_th"]: row["code_th"] for row in csv.DictReader(f)}
        self.places = []  # (province, code, district, subdistrict, postcode)
        for province in geothai.provinces():
            for district in geothai.districts(province.code):
                for sub in geothai.subdistricts(district.code):
                    self.places.append(
                        (
                            province.name_th,
                            codes.get(province.name_th, "กท"),
                            district.name_th,
                            sub.name_th,
                            sub.postal_codes[0],
                        )
                    )
        self.male = sorted(thai_male_names())
        self.female = sorted(thai_female_names())
        self.family = sorted(thai_family_names())


_TITLES_MALE = ["นาย"] * 8 + ["ว่าที่ร้อยตรี", "ดร.", "พันตำรวจเอก", "จ่าสิบเอก"]
_TITLES_FEMALE = ["นาง"] * 4 + ["นางสาว"] * 4 + ["ว่าที่ร้อยตรีหญิง", "ดร."]
_POSITIONS = [
    "นักวิชาการพัฒนาชุมชนชำนาญการ",
    "นักวิชาการพัฒนาชุมชนปฏิบัติการ",
    "เจ้าพนักงานธุรการชำนาญงาน",
    "นักพัฒนาชุมชน",
    "ปลัดอำเภอ",
    "เจ้าหน้าที่พัฒนาชุมชน",
    "หัวหน้ากลุ่มงานส่งเสริมการพัฒนาชุมชน",
]
_UNITS = ["ชุด", "ฉบับ", "เล่ม", "แผ่น"]
_AGENCIES = [
    "กรมการพัฒนาชุมชน",
    "กรมส่งเสริมการปกครองท้องถิ่น",
    "กรมการปกครอง",
    "กระทรวงมหาดไทย",
    "สำนักงานปลัดกระทรวงมหาดไทย",
]
_TEMPLATES = [
    "ตามที่ {agency}ได้แจ้งให้จังหวัด{province}ดำเนินการ{clause}",
    "ณ ศูนย์ผู้นำจิตอาสาพัฒนาชุมชนตำบล{sub} อำเภอ{district} จังหวัด{province}",
    "โดยมอบหมายให้ {person} {position} เป็นผู้ประสานงาน หมายเลขโทรศัพท์ {mobile}",
    "ตามหนังสือ{agency} ที่ {ref} ลงวันที่ {date}",
    "ให้อำเภอ{district}รายงานผลให้จังหวัดทราบ ภายใน{weekday_date}",
    "ได้รับจัดสรรงบประมาณ จำนวน {amount}",
    "ตามระเบียบกระทรวงมหาดไทยว่าด้วยการพัฒนาชุมชน พ.ศ. {year} ข้อ {number}",
    "เพื่อเฉลิมพระเกียรติพระบาทสมเด็จพระปรเมนทรรามาธิบดีศรีสินทรมหาวชิราลงกรณ "
    "พระวชิรเกล้าเจ้าอยู่หัว เนื่องในโอกาสวันเฉลิมพระชนมพรรษา ๒๘ กรกฎาคม {year}",
    "จำนวน {number} {unit}",
    "ผ่านระบบ Google Drive และ Social Network เช่น Facebook, Line",
    "ประชุมเชิงปฏิบัติการ ณ ห้องประชุมที่ว่าการอำเภอ{district} ชั้น {number}",
    "ให้ {person} ตำแหน่ง{position} ปฏิบัติหน้าที่แทน",
    "ในวันที่ {date} เวลา ๐๙.๐๐ น. ณ ศาลากลางจังหวัด{province}",
    "ทั้ง {number} หมู่บ้านในเขตตำบล{sub}",
]


def _thai(value: object) -> str:
    from saraban.thai import to_thai_digits

    return to_thai_digits(str(value))


class _Generator:
    def __init__(self, vocabulary: _Vocabulary, rng: random.Random) -> None:
        self.v = vocabulary
        self.rng = rng

    def person(self) -> str:
        rng, v = self.rng, self.v
        if rng.random() < 0.5:
            return f"{rng.choice(_TITLES_MALE)}{rng.choice(v.male)} {rng.choice(v.family)}"
        return f"{rng.choice(_TITLES_FEMALE)}{rng.choice(v.female)} {rng.choice(v.family)}"

    def date(self) -> dt.date:
        return dt.date(2023, 10, 1) + dt.timedelta(days=self.rng.randrange(900))

    def ref(self, code: str) -> str:
        rng = self.rng
        circular = "ว " if rng.random() < 0.4 else ""
        return f"{code} {_thai(f'00{rng.randrange(10, 40)}.{rng.randrange(1, 5)}')}/{circular}" + (
            _thai(rng.randrange(1, 30000))
        )

    def fill(self, template: str, place: tuple) -> str:
        from saraban.thai import format_baht, thai_date

        rng = self.rng
        province, code, district, sub, _ = place
        values = {
            "agency": rng.choice(_AGENCIES),
            "province": province,
            "district": district.removeprefix("เขต"),
            "sub": sub,
            "person": self.person(),
            "position": rng.choice(_POSITIONS),
            "mobile": _thai(
                f"0{rng.choice('689')} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
            ),
            "ref": self.ref(code),
            "date": thai_date(self.date()),
            "weekday_date": thai_date(self.date(), "weekday"),
            "amount": format_baht(rng.randrange(1, 500) * 1000),
            "year": _thai(rng.choice([2566, 2567, 2568])),
            "number": _thai(rng.randrange(1, 20)),
            "unit": rng.choice(["ราย", "คน", "แห่ง", "ครั้ง", "เรื่อง"]),
            "clause": rng.choice(self.v.clauses),
        }
        return template.format(**values)

    def paragraph(self, place: tuple) -> str:
        rng = self.rng
        parts = [rng.choice(self.v.clauses) for _ in range(rng.randrange(3, 9))]
        for _ in range(rng.randrange(1, 4)):
            parts.insert(rng.randrange(len(parts) + 1), self.fill(rng.choice(_TEMPLATES), place))
        return " ".join(parts)

    def letter(self, number: int) -> dict:
        rng, v = self.rng, self.v
        place = rng.choice(v.places)
        province, code, district, sub, postcode = place
        kind = rng.choices(
            ["external", "memo", "order", "announcement", "stamped"], [70, 12, 8, 6, 4]
        )[0]
        body: list = [self.paragraph(place) for _ in range(rng.randrange(1, 4))]
        if rng.random() < 0.6:
            body.append(
                {
                    "items": [
                        self.paragraph(place)[: rng.randrange(60, 400)].strip()
                        for _ in range(rng.randrange(2, 5))
                    ]
                }
            )
        if rng.random() < 0.5:
            body.append(self.paragraph(place))
        year = self.date()
        unit = f"สำนักงานพัฒนาชุมชนจังหวัด{province}"
        return {
            "format": 1,
            "kind": kind,
            "circular": None,  # set below, from ref_no
            "urgency": rng.choice([None] * 6 + ["ด่วน", "ด่วนมาก", "ด่วนที่สุด"]),
            "secrecy": None,
            "ref_no": f"{_thai(number + 1)}/{_thai(year.year + 543)}"
            if kind in ("order", "announcement")
            else self.ref(code),
            "sender": {
                "name": rng.choice([f"ศาลากลางจังหวัด{province}", unit, f"ที่ว่าการอำเภอ{district}"]),
                "address": [f"ถนน{rng.choice(v.family)} อำเภอ{district} {code} {_thai(postcode)}"],
            },
            "date": year.isoformat(),
            "subject": rng.choice(v.subjects)
            if rng.random() < 0.3
            else self.fill(rng.choice(_TEMPLATES), place)[:120],
            "salutation": "เรียน",
            "addressee": rng.choice(
                ["นายอำเภอ ทุกอำเภอ", f"นายอำเภอ{district}", f"ผู้ว่าราชการจังหวัด{province}"]
            ),
            "references": [self.fill(_TEMPLATES[3], place) for _ in range(rng.randrange(0, 3))],
            "enclosures": [
                {
                    "title": rng.choice(v.enclosures),
                    "quantity": f"{_thai(rng.randrange(1, 5))} {rng.choice(_UNITS)}",
                }
                for _ in range(rng.randrange(0, 4))
            ],
            "body": body,
            "closing": rng.choice(["จึงเรียนมาเพื่อโปรดพิจารณา", "จึงเรียนมาเพื่อทราบและพิจารณาดำเนินการ"]),
            "complimentary_close": "ขอแสดงความนับถือ",
            "signer": {
                "name": self.person(),
                "position": [f"พัฒนาการจังหวัด{province} ปฏิบัติราชการแทน", f"ผู้ว่าราชการจังหวัด{province}"],
            },
            "owner_unit": [unit, "กลุ่มงานส่งเสริมการพัฒนาชุมชน"],
            "contact": {
                "phone": _thai(f"0 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"),
                "fax": None,
                "email": None,
            },
            "footer": None,
            "copies_to": [],
            "attachments_text": None,
        }


def generate_letters(count: int, seed: int = 13) -> list[dict]:
    """``count`` realistic letters, the same for the same ``seed``."""
    generator = _Generator(_Vocabulary(), random.Random(seed))
    letters = [generator.letter(number) for number in range(count)]
    for letter in letters:
        letter["circular"] = "/ว " in letter["ref_no"]
    return letters


# ---- rendering (in a child process: the current checkout or the baseline) ------------------


def _record_justified_lines(records: list) -> None:
    """Record each justified line, in ems: the width it had to spread, the largest gap put
    between two graphemes and the width added to a space (from ``_thai_gap``, main's even
    spread, or ``_thai_spacing``, the current one), and whether a Latin word was spread."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline

    justify = inline.justify_line

    def recording(context, line, extra_width):
        justify(context, line, extra_width)
        texts = [b for b in line.descendants() if isinstance(b, boxes.TextBox)]
        if not texts:
            return
        gap = space = 0.0
        latin = False
        for box in texts:
            spacing = getattr(box, "_thai_spacing", None)
            box_gap = spacing.cluster if spacing else getattr(box, "_thai_gap", 0.0)
            gap = max(gap, box_gap)
            space = max(space, spacing.space if spacing else box_gap)
            # main spreads every grapheme gap; the current code never those inside Latin words
            if box_gap and re.search("[A-Za-z]{2}", box.text) and not spacing:
                latin = True
        size = line.style["font_size"]
        records.append([extra_width / size, gap / size, space / size, latin])

    inline.justify_line = recording


def render_corpus(letters_file: Path, out_file: Path) -> None:
    from saraban.letter import check
    from saraban.templates import _weasyprint_thai, render_pdf
    from saraban.templates._layout import layout_letter

    _weasyprint_thai.install()
    justified: list = []
    _record_justified_lines(justified)
    letters = json.loads(letters_file.read_text("utf-8"))
    render_pdf(letters[0])  # warm: fonts, dictionaries
    results = []
    for letter in letters:
        layout = layout_letter(check(letter))
        segments = []
        for block in layout.blocks:
            main = "".join(run.text for run in [*block.label, *block.runs])
            tab = "".join(run.text for run in block.tab_runs)
            segments.append([main, tab, block.role])
        justified.clear()
        start = time.perf_counter()
        pdf = render_pdf(letter)
        ms = (time.perf_counter() - start) * 1000
        text = subprocess.run(
            ["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        pages = text.count("\f") or 1
        results.append(
            {
                "segments": segments,
                "lines": text.splitlines(),
                "ms": ms,
                "pages": pages,
                "justified": list(justified),
            }
        )
    out_file.write_text(json.dumps(results, ensure_ascii=False), "utf-8")


def _baseline_tree(ref: str, folder: Path) -> Path:
    """Export ``ref``'s packages laid out as installed (saraban/templates, ...)."""
    source = folder / "source"
    source.mkdir()
    exported = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, *PACKAGES], capture_output=True, check=False
    )
    if exported.returncode:
        raise SystemExit(
            f"cannot export the baseline {ref!r} ({exported.stderr.decode().strip()}):"
            " pass --baseline with a git ref of this checkout"
        )
    archive = exported.stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    tree = folder / "tree"
    for name, target in sorted(PACKAGES.items(), key=lambda item: item[1].count("/")):
        shutil.copytree(source / name, tree / target, dirs_exist_ok=True)
    return tree


def _render_in_child(letters_file: Path, out_file: Path, tree: Path | None) -> list[dict]:
    env = dict(os.environ)
    if tree is not None:  # found before the editable install of the current checkout
        env["PYTHONPATH"] = str(tree)
    subprocess.run(
        [sys.executable, __file__, "--render", str(letters_file), str(out_file)],
        env=env,
        check=True,
    )
    return json.loads(out_file.read_text("utf-8"))


# ---- judging -----------------------------------------------------------------------------------


class _Segment:
    """A block's text as a line-break judge sees it: each character's break class, and the
    text without white space (pdftotext adds spaces at tabs and hanging labels)."""

    def __init__(self, text: str, role: str) -> None:
        from saraban.templates._thai_breaks import NEVER, break_classes

        self.text = text
        self.role = role
        self.classes = break_classes(text) if text.strip() else (NEVER,) * (len(text) + 1)
        self.at = [index for index, char in enumerate(text) if not char.isspace()]
        self.bare = "".join(text[index] for index in self.at)

    def verdict(self, end: int) -> str:
        """The verdict on a line that ends before ``bare[end]``."""
        from saraban.templates._thai_breaks import FREE, LOOSE

        kind = self.classes[self.at[end]]
        return "ok" if kind == FREE else "loose" if kind == LOOSE else "bad"

    def around(self, end: int) -> str:
        position = self.at[end]
        return f"{self.text[max(0, position - 18) : position]}|{self.text[position:][:12]}"


def _bare(text: str) -> str:
    return "".join(text.split())


def judge(result: dict, examples: dict) -> collections.Counter:
    """Count the line ends of one rendered letter by verdict (and the lines that are not the
    letter's blocks: page numbers, continuation markers, the slogan)."""
    counts: collections.Counter = collections.Counter()
    segments = [
        _Segment(text, role)
        for main, tab, role in result["segments"]
        for text, role in ((main, role), (tab, f"{role} (tab)"))
        if text
    ]
    index, position = 0, 0
    for raw in result["lines"]:
        line = _bare(raw)
        if not line:
            continue
        consumed = _consume(segments, index, position, line)
        if consumed is None:
            counts["unmatched"] += 1
            continue
        index, end = consumed
        segment = segments[index]
        if end >= len(segment.bare):
            index, position = index + 1, 0  # the block (or its tab part) ends here
            continue
        verdict = segment.verdict(end)
        counts[verdict] += 1
        if verdict == "bad":
            counts[f"bad in {segment.role}"] += 1
        if verdict != "ok" and len(examples[verdict]) < 40:
            examples[verdict].append(segment.around(end))
        position = end
    return counts


def _consume(segments: list, index: int, position: int, line: str) -> tuple[int, int] | None:
    """Where ``line`` ends if it continues segment ``index`` from ``position`` (a line may
    run on into the next segment: a tab part on the same line); None if it does not."""
    while index < len(segments):
        rest = segments[index].bare[position:]
        if rest.startswith(line):
            return index, position + len(line)
        if not (rest and line.startswith(rest)):
            return None
        line = line[len(rest) :]
        index, position = index + 1, 0
    return None


# ---- the comparison ------------------------------------------------------------------------


def _segmentation_engines(texts: list[str]) -> None:
    """nlpo3 alone, the breaker's segmentation (nlpo3, newmm where nlpo3 meets an unknown
    word) and PyThaiNLP's newmm, all over the same dictionary: same cuts? how fast?"""
    from pythainlp.tokenize import word_tokenize
    from pythainlp.util import Trie

    from saraban.templates._thai_breaks import _newmm, _segmenter, dictionary_words, segment

    trie = Trie(dictionary_words())
    engines = {
        "PyThaiNLP newmm (Trie)": lambda text: word_tokenize(
            text, custom_dict=trie, engine="newmm"
        ),
        "nlpo3 alone": _segmenter(),
        "the breaker's (nlpo3; newmm at unknown words)": segment,
    }
    print(f"segmentation of {len(texts)} paragraphs ({sum(map(len, texts))} characters):")
    reference = None
    for name, engine in engines.items():
        engine(texts[0])  # load
        _newmm()  # the breaker's newmm, for unknown words
        start = time.perf_counter()
        cuts = [_thai_cuts(text, engine(text)) for text in texts]
        seconds = time.perf_counter() - start
        reference = reference or cuts
        same = sum(a == b for a, b in zip(cuts, reference, strict=True))
        print(
            f"  {name:46} {seconds * 1000:7.0f} ms; newmm's cuts between Thai characters in"
            f" {same} paragraphs"
        )


def _thai_cuts(text: str, tokens: list[str]) -> set[int]:
    cuts, position = set(), 0
    for token in tokens[:-1]:
        position += len(token)
        if all("\u0e00" <= char <= "\u0e7f" for char in text[position - 1 : position + 1]):
            cuts.add(position)
    return cuts


def _summary(name: str, results: list[dict]) -> dict:
    examples: dict = collections.defaultdict(list)
    counts: collections.Counter = collections.Counter()
    for result in results:
        counts += judge(result, examples)
    justified = [line for result in results for line in result["justified"]]
    one_page = [r["ms"] for r in results if r["pages"] == 1]
    return {
        "name": name,
        "counts": counts,
        "examples": examples,
        "lines": len(justified),
        "loose": sum(1 for spread, *_ in justified if spread > LOOSE_EM),
        "spread": statistics.mean(spread for spread, *_ in justified) if justified else 0,
        "gap_max": max((gap for _, gap, *_ in justified), default=0),
        "gap_over": sum(1 for _, gap, *_ in justified if gap > 0.08 + 1e-9),
        "space_over": sum(1 for _, _, space, _ in justified if space > 1),
        "latin": sum(1 for *_, latin in justified if latin),
        "total_s": sum(r["ms"] for r in results) / 1000,
        "median_ms": statistics.median(r["ms"] for r in results),
        "one_page_ms": f"{statistics.median(one_page):.1f}" if one_page else "-",
    }


def _print(title: str, before: dict, after: dict) -> None:
    print(f"\n{title}")
    print(f"  {'':44} {'before':>10} {'after':>10}")
    rows = [
        ("line ends inside a block", lambda s: sum(s["counts"][k] for k in ("ok", "loose", "bad"))),
        ("  bad (word, name, label+number, ...)", lambda s: s["counts"]["bad"]),
        ("  between compound parts (loose lines)", lambda s: s["counts"]["loose"]),
        ("  between words", lambda s: s["counts"]["ok"]),
        ("pdftotext lines not aligned (furniture)", lambda s: s["counts"]["unmatched"]),
        ("justified lines", lambda s: s["lines"]),
        (f"  loose (over {LOOSE_EM:g} em to spread)", lambda s: s["loose"]),
        ("  mean width spread (em)", lambda s: f"{s['spread']:.2f}"),
        ("  grapheme gap over 0.08 em", lambda s: s["gap_over"]),
        ("  largest grapheme gap (em)", lambda s: f"{s['gap_max']:.3f}"),
        ("  a space widened by over 1 em", lambda s: s["space_over"]),
        ("  with Latin words letter-spaced", lambda s: s["latin"]),
        ("render time, all letters (s)", lambda s: f"{s['total_s']:.1f}"),
        ("render time, median letter (ms)", lambda s: f"{s['median_ms']:.1f}"),
        ("render time, median one-page letter (ms)", lambda s: s["one_page_ms"]),
    ]
    for label, value in rows:
        print(f"  {label:44} {value(before)!s:>10} {value(after)!s:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=1000, help="generated letters")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--examples", type=int, default=8, help="bad breaks to show")
    parser.add_argument("--render", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        render_corpus(*args.render)
        return
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        tree = _baseline_tree(args.baseline, work)
        corpora = {
            "seeds": _seed_letters(),
            f"{args.letters} generated letters": generate_letters(args.letters, args.seed),
        }
        texts = sorted({p for letters in corpora.values() for p in _paragraphs(letters)}, key=len)
        _segmentation_engines(texts)
        for title, letters in corpora.items():
            letters_file = work / "letters.json"
            letters_file.write_text(json.dumps(letters, ensure_ascii=False), "utf-8")
            before = _summary("before", _render_in_child(letters_file, work / "b.json", tree))
            after = _summary("after", _render_in_child(letters_file, work / "a.json", None))
            _print(f"{title} (before: {args.baseline}; after: this checkout)", before, after)
            for summary in (before, after):
                roles = sorted(
                    (count, key.removeprefix("bad in "))
                    for key, count in summary["counts"].items()
                    if key.startswith("bad in ")
                )
                shown = ", ".join(f"{role} {count}" for count, role in roles[::-1][:6])
                print(f"  bad breaks {summary['name']}, by block: {shown}")
            for verdict in ("bad", "loose"):
                for summary in (before, after):
                    shown = summary["examples"][verdict][: args.examples]
                    if shown:
                        print(f"  {verdict} breaks {summary['name']}: " + "  ".join(shown))


if __name__ == "__main__":
    main()
