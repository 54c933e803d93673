"""GNU ``sort -V`` ordering (gnulib ``filevercmp``), so files run in the order
pg_migrate.sh runs them.

Operates on bytes, like coreutils. Names starting with ``.`` never reach it: the
script's ``*.sql`` glob skips them, and so does :mod:`ddlkit.tree.tree`. Ties (for example ``a01`` and ``a1``) fall
back to a byte-wise comparison, as ``sort -V`` does in the C locale.
"""

from __future__ import annotations

import functools
import os
import re


def _isdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _isalpha(c: int) -> bool:
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _prefix_len(s: bytes) -> int:
    """Length of ``s`` without its suffix matching ``(\\.[A-Za-z~][A-Za-z0-9~]*)*$``."""
    n = len(s)
    prefixlen = 0
    i = 0
    while i < n:
        i += 1
        prefixlen = i
        while i + 1 < n and s[i] == 0x2E and (_isalpha(s[i + 1]) or s[i + 1] == 0x7E):
            i += 2
            while i < n and (_isalpha(s[i]) or _isdigit(s[i]) or s[i] == 0x7E):
                i += 1
    return prefixlen


def _order(s: bytes, pos: int) -> int:
    if pos == len(s):
        return -1
    c = s[pos]
    if _isdigit(c):
        return 0
    if _isalpha(c):
        return c
    if c == 0x7E:  # '~' sorts before everything, even the end
        return -2
    return c + 256


def _verrevcmp(a: bytes, b: bytes) -> int:
    la, lb = len(a), len(b)
    i = j = 0
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not _isdigit(a[i])) or (j < lb and not _isdigit(b[j])):
            ac, bc = _order(a, i), _order(b, j)
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < la and a[i] == 0x30:
            i += 1
        while j < lb and b[j] == 0x30:
            j += 1
        while i < la and j < lb and _isdigit(a[i]) and _isdigit(b[j]):
            if not first_diff:
                first_diff = a[i] - b[j]
            i += 1
            j += 1
        if i < la and _isdigit(a[i]):
            return 1
        if j < lb and _isdigit(b[j]):
            return -1
        if first_diff:
            return first_diff
    return 0


def filevercmp(a: bytes, b: bytes) -> int:
    """Compare two names the way gnulib's filevercmp does (negative, 0, positive)."""
    if not a:
        return -1 if b else 0
    if not b:
        return 1
    if a[:1] == b".":
        if b[:1] != b".":
            return -1
        if a == b".":
            return 0 if b == b"." else -1
        if b == b".":
            return 1
        if a == b"..":
            return 0 if b == b".." else -1
        if b == b"..":
            return 1
    elif b[:1] == b".":
        return 1
    ap, bp = _prefix_len(a), _prefix_len(b)
    result = _verrevcmp(a[:ap], b[:bp])
    if result or (ap == len(a) and bp == len(b)):
        return result
    return _verrevcmp(a, b)


# How the end of a name compares in _verrevcmp: like the digit run "0" against
# a digit run, like -1 against a character (and a trailing zero run is the end).
_END = (0, 0, -1)


_ORDER = tuple(0 if 0x30 <= c <= 0x39 else c if (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A) else -2 if c == 0x7E
               else c + 256 for c in range(256))  # _order of each byte, looked up in C
_RUNS = re.compile(rb"(\D*)(\d*)")  # over a file name: a non-digit run, then a digit run


def _body(s: bytes) -> tuple[list[int], bool]:
    """The tokens of :func:`_segments` without the end marker: the order values
    of each non-digit run, then ``0, <value>`` for each digit run (skipping
    leading zeros and comparing digit by digit is comparing values); and
    whether ``s`` ends with a digit run of value 0, which compares as the end."""
    out: list[int] = []
    extend = out.extend
    runs = _RUNS.findall(s)  # all runs in one call; the last is the empty match at the end
    for chars, digits in runs:
        if chars:
            extend(map(_ORDER.__getitem__, chars))
        if digits:
            extend((0, int(digits)))
    return out, len(runs) > 1 and s[-1:].isdigit() and not int(runs[-2][1])


def _segments(s: bytes) -> tuple[int, ...]:
    """A key whose tuple order has the sign of :func:`_verrevcmp`."""
    out, zero_end = _body(s)
    return tuple(out[:-2] if zero_end else out) + _END


@functools.lru_cache(maxsize=64)
def _suffix_body(suffix: bytes) -> tuple[tuple[int, ...], bool]:
    out, zero_end = _body(suffix)
    return tuple(out), zero_end


def version_key(name: str) -> tuple:
    """Sort key equal to ``sort -V`` (filevercmp, then bytes) for names that are
    non-empty and do not start with ``.``: compare the names without their
    suffix first, then whole, then byte-wise."""
    b = os.fsencode(name)
    cut = _prefix_len(b)
    if cut == len(b):
        full = _segments(b)
        return (full, full, b)
    # The suffix starts with "." (not a digit): the name's tokens are the prefix's,
    # then the suffix's (the same few suffixes each time: ".sql").
    head, zero_end = _body(b[:cut])
    tail, tail_zero_end = _suffix_body(b[cut:])
    prefix = tuple(head[:-2] if zero_end else head) + _END
    full = tuple(head) + (tail[:-2] if tail_zero_end else tail) + _END
    return (prefix, full, b)


def _sort_v_cmp(a: bytes, b: bytes) -> int:
    r = filevercmp(a, b)
    if r:
        return r
    return (a > b) - (a < b)


def version_sorted(names: list[str]) -> list[str]:
    """``names`` ordered like ``printf '%s\\n' names | LC_ALL=C sort -V``."""
    if all(n and not n.startswith(".") for n in names):
        return sorted(names, key=version_key)
    key = functools.cmp_to_key(_sort_v_cmp)
    return sorted(names, key=lambda n: key(os.fsencode(n)))
