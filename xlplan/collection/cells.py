"""What a returned cell holds beyond its value: a formula that reaches outside, a format that changes it.

Checking reads a cell as the person saw it: the cached value of a formula (and whether the
formula is dangerous), the number as its format displays it, and a narrative as it was shown —
"4月1日" typed into a cell that was not text is stored as a date under ``m"月"d"日"``, and is
published as 4月1日, not as 2021-04-01.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from xlplan.collection.snapshot import CellValue
from xlplan.findings import Phrase
from xlplan.plan.values import excel_decimal

HAZARDOUS_FUNCTIONS = (
    "WEBSERVICE",
    "FILTERXML",
    "HYPERLINK",
    "CALL",
    "REGISTER.ID",
    "REGISTER",
    "EXEC",
    "RTD",
    "DDEAUTO",
    "DDE",
    "IMAGE",
    "INDIRECT",
    "IMPORTXML",
    "IMPORTDATA",
    "IMPORTRANGE",
    "IMPORTHTML",
    "IMPORTFEED",
)
"""Functions that reach outside the workbook (web, files, programs, links), or build references that can."""

_STRING = re.compile(r'"(?:[^"]|"")*"')
_FUNCTION = re.compile(
    r"(?:^|[^A-Za-z0-9_.])(?:_xlfn\.|_xlws\.)?("
    + "|".join(re.escape(name) for name in HAZARDOUS_FUNCTIONS)
    + r")\s*\(",
    re.IGNORECASE,
)
_EXTERNAL = re.compile(
    r"\[[^\]]*\][^!]*!"  # [1]Sheet1!A1, '[Book.xlsx]Sheet'!A1, 'C:\dir\[Book.xlsx]Sheet'!A1
    r"|\.(?:xlsx|xlsm|xlsb|xls|xltx|xltm|csv|ods)\b"  # a workbook named in a reference
    r"|\\\\|[A-Za-z]:\\"  # UNC or drive paths
    r"|https?:|file:",
    re.IGNORECASE,
)


def formula_hazard(formula: str) -> Phrase | None:
    """Why ``formula`` (without ``=``) reaches outside the workbook, as a catalogue phrase, or None.

    String literals are ignored (``"a|b"`` is text), except that a function such as
    ``HYPERLINK`` is a hazard whatever its arguments are.
    """
    bare = _STRING.sub('""', formula)
    match = _FUNCTION.search(bare)
    if match:
        return Phrase("hazard-function", {"name": match.group(1).upper()})
    if "|" in bare:  # DDE: application|topic!item
        return Phrase("hazard-dde")
    if _EXTERNAL.search(bare):
        return Phrase("hazard-external")
    return None


# ----------------------------------------------------------------------------------------
# number formats
# ----------------------------------------------------------------------------------------

_LITERAL = re.compile(r'"([^"]*)"|\\(.)|[_*].')
r"""A format's literal text: ``"件"`` quoted, ``\件`` escaped (as LibreOffice writes it), or the
``_x`` (space as wide as x) and ``*x`` (fill) directives, which show no text of their own."""
_CONDITION = re.compile(r"\[[^\]]*\]")  # [Red], [<100], [$-411]
_CURRENCY = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]*)?\]")
"""A currency or locale tag: ``[$¥-411]`` prints ¥ (LibreOffice's currency button), ``[$-411]`` nothing."""
_PLACEHOLDER = re.compile(r"[0#?]|general", re.IGNORECASE)


_TEST = re.compile(r"\[(<=|>=|<>|<|>|=)\s*(-?[0-9]+(?:\.[0-9]+)?)\]")
_TESTS = {"<": Decimal.__lt__, ">": Decimal.__gt__, "=": Decimal.__eq__, "<=": Decimal.__le__,
          ">=": Decimal.__ge__, "<>": Decimal.__ne__}  # fmt: skip


def _section(code: str, number: Decimal | None = None) -> tuple[str, bool]:
    """The format's section that shows ``number`` (positive; negative; zero; or by a condition such as
    ``[<100]``), its currency symbols as quoted text and its other bracketed tags dropped; and whether
    that section prints the sign itself (the number is then shown without its minus)."""
    sections = code.split(";")
    index, own_sign = 0, False
    if number is not None:
        tests = [_TEST.search(section) for section in sections[:2]]
        if any(tests):
            index = next((i for i, test in enumerate(tests) if test and _TESTS[test.group(1)](number,
                          Decimal(test.group(2)))), 1 if len(sections) > 1 and not tests[1] else 0)  # fmt: skip
            chosen = tests[index] if index < len(tests) else None
            below_zero = (
                chosen is not None and chosen.group(1) in ("<", "<=") and Decimal(chosen.group(2)) <= 0
            )
            own_sign = number < 0 and ((index == 1 and tests[1] is None) or below_zero)  # [<0]"△"0 shows △5
        elif number < 0 and len(sections) > 1:
            index, own_sign = 1, True
        elif number == 0 and len(sections) > 2:
            index = 2
    section = sections[index] if index < len(sections) else sections[0]
    section = _CURRENCY.sub(lambda match: '"' + match.group(1).replace('"', "") + '"', section)
    return _CONDITION.sub("", section), own_sign


def _scale(run: str) -> tuple[str, int]:
    """A digits run without its scaling commas, and the thousands they divide by (``#,##0,`` → 1,000)."""
    bare = run.rstrip(",")
    return bare, 1000 ** (len(run) - len(bare))


def _literal_text(part: str) -> str:
    """The text a piece of a format prints of itself: its quoted and escaped characters."""
    return "".join(match.group(1) or match.group(2) or "" for match in _LITERAL.finditer(part))


def _parts(code: str, number: Decimal | None = None) -> tuple[str, str, str, bool]:
    """(the format's section for ``number`` — the first without one — without its literals, the literal
    text it prints before the number, the literal text after it, and whether it prints the sign itself)."""
    section, own_sign = _section(code, number)
    bare: list[str] = []
    before: list[str] = []
    after: list[str] = []
    position = 0
    for match in _LITERAL.finditer(section):
        bare.append(section[position : match.start()])
        position = match.end()
        (after if _PLACEHOLDER.search("".join(bare)) else before).append(_literal_text(match.group(0)))
    bare.append(section[position:])
    return "".join(bare), "".join(before).strip(), "".join(after).strip(), own_sign


def displayed(value: CellValue, code: str | None, *, printed: bool = False) -> str | None:
    r"""A number as its cell displays it, where the number format changes what it is: None otherwise.

    A percent format (``%`` outside quotes) shows the number times 100 with ``%``; a quoted
    or escaped text in the format (``0"件"``, ``0\件``, ``"¥"#,##0``, ``[$¥-411]#,##0``) shows
    as the number's unit, before or after it where the format puts it. The decimals stay those
    of the stored number (what was typed), not those the format rounds to — unless ``printed``:
    a published table is what it prints, so 65 under ``0.0"%"`` is 65.0%, and a number under
    ``0.0`` is shown with its one decimal too.
    """
    if code is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    # As Excel keeps a float (15 digits): a formula's 0.1+0.2 under 0% shows 30%, not 30.000000000000004%.
    number = excel_decimal(value) if isinstance(value, float) else Decimal(value)
    bare, before, after, own_sign = _parts(code, number)  # the section this number is shown through
    if "/" in bare or re.search(r"[Ee][+-]", bare):
        return None  # a fraction or an exponent shows the same number another way
    if own_sign:
        number = -number  # "△"#,##0 for negatives: the sign is the section's text
    percent = "%" in bare
    if percent:
        number *= 100
    digits = re.findall(r"[0#?][0#?,.]*", bare)
    if digits:  # 1234567 under #,##0,"千円" shows 1,235千円: the number is in thousands
        number /= _scale(digits[-1])[1]
    decimals = _decimals(bare) if printed else None
    if decimals is not None:
        text = format(
            number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f"
        )  # as Excel rounds
    elif percent or before or after:
        text = format(number.normalize(), "f") if number != number.to_integral_value() else str(int(number))
    else:
        return None
    return f"{before}{text}{'%' if percent else ''}{after}"


def _decimals(bare: str) -> int | None:
    """The decimals a format's number part fixes (``0.0`` → 1, ``#,##0`` → 0), or None for General."""
    digits = re.search(r"[0#?][0#?,]*(?:\.([0#?]*))?", bare)
    if digits is None:
        return None
    return (digits.group(1) or "").count("0")


def prints_text(code: str | None) -> bool:
    """True when the format prints text beside the number (``0"件"``, ``[$¥-411]#,##0``): a unit or
    a currency the person saw with the number, though they typed the number alone."""
    return code is not None and any(_parts(code)[1:3])


def shows_literal(code: str | None) -> bool:
    """True when the format prints ``%`` as text (the earlier ``General"%"``), not as a percentage."""
    return code is not None and "%" not in _parts(code)[0]


def narrative_text(value: CellValue, code: str | None) -> str | None:
    """A narrative cell as the department saw it; empty is None.

    A spreadsheet turns some text typed into a cell that is not formatted as text into a number or
    a date (50% → 0.5, 1,234.5 → 1234.5, 4月1日 → a date): each is shown again through its format.
    A date whose format cannot be read is its ISO form; a number whose format is beyond what is
    understood here is shown as stored, never half through its format.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.time)):
        return (displayed_date(value, code) if code else None) or value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        if not Decimal(value).is_finite():  # nan, inf: as stored
            return repr(value)
        number = excel_decimal(value) if isinstance(value, float) else Decimal(value)  # 0.1+0.2 is 0.3
        with contextlib.suppress(ArithmeticError, ValueError):  # a format or number too odd: as stored
            shown = _narrative_number(number, code)
            if shown is not None:
                return shown
        return _general(number)
    return str(value)


_NUMBER_PART = re.compile(
    r'"([^"]*)"|\\(.)|[_*].'
    r"|(?:([#0?]+) +)?([#0?]+)/([#0?]+|[1-9][0-9]*)"  # a fraction: 3 1/2, 7/2, # ??/100
    r"|([0#?][0#?,]*(?:\.[0#?]*)?,*)(?:([Ee][+-])([0#?]+))?"  # digits (scaling commas after), an exponent
    r"|(.)"
)
_PLAIN = frozenset(" $-+/():!^&'~{}<>=%,.")
"""Characters a format prints as they are without quotes; any other letter is a code not read here."""


def _general(number: Decimal) -> str:
    """A number as General shows what was typed: no exponent, no ``.0``."""
    text = format(abs(number) if number == 0 else number, "f")
    return text[:-2] if text.endswith(".0") else text


def _narrative_number(number: Decimal, code: str | None) -> str | None:
    """A number as its format shows it: the format's sign, grouping, decimals, percent, exponent,
    fraction and text (¥1,234, 1,234円, 41%, (1,234), 1.50E+03, 3 1/2); General shows the number as
    stored. None for a format this does not understand (the caller shows the number as stored)."""
    section, own_sign = _section(code or "General", number)
    if section == "" and code and ";" in code:
        return ""  # a section left empty hides the number (0;;)
    if section.strip().lower() in ("general", "", "@"):
        return _general(number)
    general = re.search("general", section, re.IGNORECASE)
    if general:  # General"人": the number as General shows it, with the section's text around it
        return (
            _literal_text(section[: general.start()])
            + _general(number)
            + _literal_text(section[general.end() :])
        )
    before: list[str] = []
    after: list[str] = []
    number_part: re.Match[str] | None = None
    percent = False
    for match in _NUMBER_PART.finditer(section):
        quoted, escaped, _, _, _, digits, _, _, other = match.groups()
        if digits is not None or match.group(5) is not None:
            if number_part is not None:
                return None  # a second number in one section: not a format read here
            number_part = match
            continue
        if other is not None and other not in _PLAIN and (other.isascii() and other.isalpha()):
            return None  # an unquoted letter is a code (E, e, G…) not read here
        percent = percent or other == "%"  # a quoted "%" is text, an unquoted one scales by 100
        literal = next((text for text in (quoted, escaped, other) if text is not None), "")
        (after if number_part is not None else before).append(literal)
    if number_part is None:
        return "".join(before) or _general(number)
    # The minus a section does not print itself goes before its text ("△"#,##0 shows -△1,234).
    minus = number < 0 and not own_sign
    shown = abs(number)
    if percent:
        shown *= 100
    if number_part.group(5) is not None:
        text = _fraction(shown, *number_part.group(3, 4, 5))
    elif number_part.group(7) is not None:
        text = _scientific(shown, number_part.group(6), number_part.group(7), number_part.group(8))
    else:
        run, thousands = _scale(number_part.group(6))
        text = _fixed(shown / thousands, run)
    if text is None:
        return None
    sign = "-" if minus and any(char in "123456789" for char in text) else ""  # never -0.00
    return sign + "".join(before) + text + "".join(after)


def _fixed(number: Decimal, digits: str) -> str:
    """``number`` through a digits run such as ``#,##0.0#``: rounded as Excel does to the most
    decimals it allows, trailing zeros shown down to the decimals it fixes."""
    whole, _, fraction = digits.partition(".")
    most = sum(fraction.count(mark) for mark in "0#?")
    least = fraction.count("0")
    rounded = number.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # -0.001 under 0.00 shows 0.00, not -0.00
    text = format(rounded, ",f" if "," in whole else "f")
    least_whole = whole.count("0")
    sign = "-" if text.startswith("-") else ""
    integer, dot, rest = text.lstrip("-").partition(".")
    if least_whole == 0 and integer == "0":  # # and #.## show no zero before the point: .5, and 0 as nothing
        text = sign + dot + rest if rest.strip("0") or least else ""
    elif "," not in whole and least_whole > 1:  # 00 shows 5 as 05
        text = sign + integer.zfill(least_whole) + dot + rest
    if most > least and "." in text:
        kept = len(text) - (most - least)
        while len(text) > kept and text.endswith("0"):
            text = text[:-1]
        text = text.rstrip(".")
    return text


def _scientific(number: Decimal, mantissa: str, sign: str, exponent: str) -> str | None:
    """``number`` in a scientific format such as ``0.00E+00`` (one digit before the point)."""
    whole, _, fraction = mantissa.partition(".")
    if len(whole.replace(",", "")) != 1:
        return None  # engineering forms (##0.0E+0) are not read here
    decimals = len(fraction)
    if number == 0:
        power, significand = 0, Decimal(0).quantize(Decimal(1).scaleb(-decimals))
    else:
        power = number.adjusted()
        significand = number.scaleb(-power).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if abs(significand) >= 10:  # 9.995 rounded up to 10.00
            power += 1
            significand = number.scaleb(-power).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    marker = sign[0]
    shown_sign = "-" if power < 0 else ("+" if sign[1] == "+" else "")
    return f"{format(significand, 'f')}{marker}{shown_sign}{abs(power):0{len(exponent)}d}"


def _fraction(number: Decimal, whole: str | None, numerator: str, denominator: str) -> str | None:
    """``number`` as a fraction (``# ?/?`` → 3 1/2, ``?/?`` → 7/2, ``# ?/100`` → 3 50/100)."""
    value = Fraction(number)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if denominator.isdigit():
        fixed = int(denominator)
        part = Fraction(round(value * fixed), fixed)
        top, bottom = part.numerator * (fixed // part.denominator), fixed
    else:
        part = value.limit_denominator(10 ** len(denominator) - 1)
        top, bottom = part.numerator, part.denominator
    if whole is None:
        return f"{sign}{top}/{bottom}"
    units, rest = divmod(top, bottom)
    if rest == 0:
        return f"{sign}{units}"
    return f"{sign}{units} {rest}/{bottom}" if units else f"{sign}{rest}/{bottom}"


_ERAS = (
    (dt.date(2019, 5, 1), "令和", "R"),
    (dt.date(1989, 1, 8), "平成", "H"),
    (dt.date(1926, 12, 25), "昭和", "S"),
    (dt.date(1912, 7, 30), "大正", "T"),
    (dt.date(1868, 10, 23), "明治", "M"),
)
_DATE_PART = re.compile(
    r'"([^"]*)"|\\(.)|\[[^\]]*\]|[_*].'
    r"|(yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|aaaa|aaa|hh|h|ss|s|ggg|gg|g|ee|e|AM/PM|A/P)|(.)",
    re.IGNORECASE,
)
_WEEKDAYS = "月火水木金土日"


def displayed_date(value: dt.date | dt.time, code: str) -> str | None:
    """A date or time as the cell's format shows it (``m"月"d"日"`` → 4月1日, ``ggge年`` → 令和3年);
    None when the format shows no part of a date or time."""
    section = code.split(";")[0]
    lowered = section.lower()
    if "[$-f800]" in lowered or "x-sysdate" in lowered:
        section = 'yyyy"年"m"月"d"日"'  # Excel's 長い日付形式: the system's long date, in Japan this
    elif "[$-f400]" in lowered or "x-systime" in lowered:
        section = "h:mm:ss"  # …and its time
    if section.strip().lower() in ("", "general", "@"):
        return None
    parts = [(next((g for g in m.group(1, 2, 4) if g is not None), ""), m.group(3))
             for m in _DATE_PART.finditer(section)]  # fmt: skip
    tokens = [token.lower() for _, token in parts if token]
    if not tokens:
        return None
    day = (
        value.date()
        if isinstance(value, dt.datetime)
        else value
        if isinstance(value, dt.date)
        else dt.date(1899, 12, 30)
    )
    clock = (
        value.time() if isinstance(value, dt.datetime) else value if isinstance(value, dt.time) else dt.time()
    )
    era = next(
        ((name, letter, day.year - start.year + 1) for start, name, letter in _ERAS if day >= start), None
    )
    out: list[str] = []
    seen: list[str] = []
    for position, (literal, token) in enumerate(parts):
        if not token:
            out.append(literal or "")
            continue
        kind = token.lower()
        if kind in ("m", "mm"):  # minutes right after hours or right before seconds
            after = next((t.lower() for _, t in parts[position + 1 :] if t), "")
            if (seen and seen[-1] in ("h", "hh")) or after in ("s", "ss"):
                kind = "n" + kind
        seen.append(token.lower())
        out.append(_date_part(kind, day, clock, era, "am/pm" in tokens or "a/p" in tokens))
    return "".join(out)


def _date_part(
    kind: str, day: dt.date, clock: dt.time, era: tuple[str, str, int] | None, twelve: bool
) -> str:
    hour = (clock.hour % 12 or 12) if twelve else clock.hour
    parts = {
        "yyyy": f"{day.year:04d}", "yy": f"{day.year % 100:02d}", "m": str(day.month), "mm": f"{day.month:02d}",
        "mmm": day.strftime("%b"), "mmmm": day.strftime("%B"), "mmmmm": day.strftime("%b")[0],
        "d": str(day.day), "dd": f"{day.day:02d}", "ddd": day.strftime("%a"), "dddd": day.strftime("%A"),
        "aaa": _WEEKDAYS[day.weekday()], "aaaa": _WEEKDAYS[day.weekday()] + "曜日",
        "h": str(hour), "hh": f"{hour:02d}", "nm": str(clock.minute), "nmm": f"{clock.minute:02d}",
        "s": str(clock.second), "ss": f"{clock.second:02d}",
        "am/pm": "AM" if clock.hour < 12 else "PM", "a/p": "A" if clock.hour < 12 else "P",
    }  # fmt: skip
    if era is not None:
        name, letter, year = era
        parts |= {"g": letter, "gg": name[0], "ggg": name, "e": str(year), "ee": f"{year:02d}"}
    return parts.get(kind, "")
