"""Codes and characters of Japanese public data: the 全国地方公共団体コード and 機種依存文字.

The 全国地方公共団体コード (JIS X 0401/0402) is five digits — prefecture and municipality —
and a check digit: the digits weighted 6, 5, 4, 3, 2 and summed; the check digit is the last
digit of 11 minus the sum's remainder by 11 (小城市 41210 → 412104). 総務省's rules for
machine-readable data ask for the code in a column of its own, and for no 機種依存文字: characters
Windows' Shift_JIS (cp932) has beyond JIS X 0208 — circled numbers ①, Roman numerals Ⅰ, ㈱, ㍻ —
and half-width katakana, which other systems show differently or not at all.
"""

from __future__ import annotations

import unicodedata

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(five: str) -> int:
    """The check digit of a five-digit 団体コード."""
    total = sum(int(digit) * weight for digit, weight in zip(five, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def municipality_code(text: str) -> str | None:
    """``text`` as a six-digit 全国地方公共団体コード with a right check digit, or None.

    Full-width digits and surrounding spaces are accepted (``４１２１０４``); five digits are not
    completed silently: the check digit guards against a mistyped code.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if len(cleaned) != 6 or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned if check_digit(cleaned[:5]) == int(cleaned[5]) else None


def platform_dependent(text: str) -> str:
    """The 機種依存文字 of ``text`` (each once, in order): Windows' own rows of Shift_JIS.

    Those are the NEC special characters (lead byte 0x87: ①, Ⅰ, ㈱, ㍻), the NEC-selected and IBM
    extensions (0xED, 0xEE, 0xFA–0xFC: 髙, ⅰ) and half-width katakana (0xA1–0xDF). Characters
    that only map differently (～, －) are JIS X 0208 characters and are not reported.
    """
    found: dict[str, None] = {}
    for character in text:
        if character.isascii() or character in found:
            continue
        try:
            encoded = character.encode("cp932")
        except UnicodeEncodeError:
            continue  # not Shift_JIS at all: UTF-8 carries it; not what the rule is about
        if (len(encoded) == 1 and 0xA1 <= encoded[0] <= 0xDF) or (
            len(encoded) == 2 and (encoded[0] == 0x87 or encoded[0] in (0xED, 0xEE) or encoded[0] >= 0xFA)
        ):
            found[character] = None
    return "".join(found)


def without_platform_dependent(text: str) -> str:
    """``text`` with its 機種依存文字 in their standard forms (① → 1, Ⅰ → I, ㈱ → (株), ｶ → カ)."""
    characters = set(platform_dependent(text))
    if not characters:
        return text
    # Runs are normalised whole, so that ｶﾞ (kana and its voiced mark) becomes ガ, not カ゛.
    out, run = [], []
    for character in text:
        if character in characters:
            run.append(character)
            continue
        if run:
            out.append(unicodedata.normalize("NFKC", "".join(run)))
            run = []
        out.append(character)
    if run:
        out.append(unicodedata.normalize("NFKC", "".join(run)))
    return "".join(out)
