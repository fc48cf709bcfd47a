"""Masking ID and phone numbers typed into free text (诉求摘要, 日志内容, 救助事由, …).

ID-number and phone *columns* are turned into ``person_key`` or dropped at import; this
module is for the numbers people type inside text ("来电人13912345678反映…"). ``mask_text``
keeps just enough to tell numbers apart and hides the rest:

- 18-digit 身份证号 (last character may be X): first 6 and last 4 kept,
  ``110101199003071234`` -> ``110101********1234`` (also written 6-8-4 with spaces);
- 15-digit old 身份证号: first 6 and last 3 kept (the birth date is hidden),
  ``110101900307123`` -> ``110101******123``;
- mobile numbers ``1[3-9]`` + 9 digits (also ``139-1234-5678``, ``139 1234 5678``, with an
  optional ``+86``/``86`` prefix): first 3 and last 4 kept, ``139****5678``;
- landlines with an area code (``0530-1234567``, ``(0530)12345678``, ``010 12345678``,
  ``05301234567``; area codes are 0 then 1–9, so ``00012345678`` is not one): area code
  and last 4 kept, ``0530-***4567``.

A number only counts when it stands alone as a digit run: digits right before or after it
(a 20-digit order number, a longer serial) mean it is part of something else and it is left
as it is. Full-width digits (１３９…) are recognised too.
"""
from __future__ import annotations

import re

_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ＋（）－　", "0123456789Xx+()- ")

# every pattern is matched on the text with full-width characters made ASCII (same length)
_ID18 = re.compile(r"(?<![0-9])([0-9]{6}) ?([0-9]{8}) ?([0-9]{3}[0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([0-9]{6})([0-9]{6})([0-9]{3})(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9+])((?:\+?86)[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9])(\(0[1-9][0-9]{1,2}\) ?|0[1-9][0-9]{1,2}[- ]?)([0-9]{3,4})([0-9]{4})(?![0-9])")


def _id18(m: re.Match) -> str:
    return m.group(1) + "*" * 8 + m.group(3)[-4:]


def _id15(m: re.Match) -> str:
    return m.group(1) + "*" * 6 + m.group(3)


def _mobile(m: re.Match) -> str:
    return (m.group(1) or "") + m.group(2) + "****" + m.group(4)


def _landline(m: re.Match) -> str:
    return m.group(1) + "*" * len(m.group(2)) + m.group(3)


_RULES = ((_ID18, _id18), (_ID15, _id15), (_MOBILE, _mobile), (_LANDLINE, _landline))
_DIGITS = re.compile(r"[0-9０-９]{7}")


def mask_text(text: str) -> str:
    """``text`` with every ID and phone number masked (see the module docstring)."""
    if not isinstance(text, str) or not _DIGITS.search(
            text.replace(" ", "").replace("-", "").replace("　", "").replace("－", "")):
        return text  # fast path: no run of 7 digits, nothing to mask
    probe = text.translate(_FULLWIDTH)
    out = text
    for pattern, repl in _RULES:
        parts, last = [], 0
        for m in pattern.finditer(probe):
            parts += [out[last:m.start()], repl(m)]
            last = m.end()
        if parts:
            parts.append(out[last:])
            out = "".join(parts)
            probe = out.translate(_FULLWIDTH)
    return out


def has_personal_number(text: str) -> bool:
    """True when ``mask_text`` would change ``text``."""
    return mask_text(text) != text
