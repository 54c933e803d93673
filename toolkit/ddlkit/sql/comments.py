"""Nested ``/* … /* … */ … */`` comments, in linear time.

PostgreSQL's scanner (and so libpg_query's, which pglast wraps) matches a
comment opener as ``/*`` followed by every operator character after it, then
backs up: on ``/*/*/*…`` each level rescans the rest of the run, so 100,000
nesting levels (400 KB) take minutes. ddlkit never needs what such a comment
says: :func:`blank_nested_comments` turns every block comment that holds
another one into spaces (newlines kept) before the text reaches the parser,
so every character offset, line and column stays where it was. Comments that
are not nested, and everything in quotes, dollar quotes and ``--`` comments,
are left as they are.
"""

from __future__ import annotations

import functools

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$\x80")
_SPECIAL = ("'", '"', "$", "-", "/")


def _maybe_nested(text: str) -> bool:
    """Cheap test (quotes ignored): does some ``/*`` come before the ``*/`` that closes the previous one?"""
    at = text.find("/*")
    while at >= 0:
        nxt = text.find("/*", at + 2)
        if nxt < 0:
            return False
        close = text.find("*/", at + 2)
        if close < 0 or nxt < close:
            return True
        at = text.find("/*", close + 2)
    return False


def _dollar_tag(text: str, i: int) -> str | None:
    """The ``$tag$`` opening a dollar quote at ``i``, or None (a parameter ``$1``, part of an identifier)."""
    if i > 0 and (text[i - 1] in _IDENT or ord(text[i - 1]) >= 0x80):
        return None
    j = i + 1
    n = len(text)
    if j < n and text[j].isdigit():
        return None
    while j < n and text[j] != "$":
        ch = text[j]
        if not (ch.isalnum() or ch == "_" or ord(ch) >= 0x80):
            return None
        j += 1
    return text[i : j + 1] if j < n else None


def _run(text: str, i: int, pair: str) -> int:
    """How many times ``pair`` repeats from ``i`` (galloping: C-speed compares, few Python steps)."""
    k, step = 1, 1
    while step:
        if text.startswith(pair * step, i + 2 * k):
            k += step
            step *= 2
        else:
            step //= 2
    return k


def _block_end(text: str, i: int) -> tuple[int, bool]:
    """End (past ``*/``, or len) of the block comment opening at ``i``, and whether it nests."""
    depth, j, nested, n = 1, i + 2, False, len(text)
    o, c = text.find("/*", j), text.find("*/", j)  # each found again only once passed: linear
    while depth:
        if c < 0:
            return n, nested
        if 0 <= o < c:
            k = _run(text, o, "/*")
            depth, j, nested = depth + k, o + 2 * k, True
        else:
            k = min(_run(text, c, "*/"), depth)
            depth, j = depth - k, c + 2 * k
        if 0 <= o < j:
            o = text.find("/*", j)
        if c < j:
            c = text.find("*/", j)
    return j, nested


@functools.lru_cache(maxsize=16)  # verify and lint ask for the same file's text more than once
def blank_nested_comments(text: str) -> str:
    """``text`` with each nested block comment turned into spaces (newlines
    kept): same length, same offsets. Linear in the length of ``text``."""
    if not _maybe_nested(text):
        return text
    out: list[str] = []
    done = 0  # text[:done] is copied to out
    i, n = 0, len(text)
    nexts = {ch: text.find(ch) for ch in _SPECIAL}
    while True:
        for ch, at in nexts.items():  # refresh the positions passed over
            if 0 <= at < i:
                nexts[ch] = text.find(ch, i)
        live = [at for at in nexts.values() if at >= 0]
        if not live:
            break
        i = min(live)
        ch = text[i]
        if ch == "'":
            j = i + 1
            backslash = i > 0 and text[i - 1] in "eE" and (i < 2 or text[i - 2] not in _IDENT)
            while True:
                q = text.find("'", j)
                if q < 0:
                    i = n
                    break
                if backslash:
                    k = q - 1
                    while k >= j and text[k] == "\\":
                        k -= 1
                    if (q - 1 - k) % 2:
                        j = q + 1
                        continue
                if q + 1 < n and text[q + 1] == "'":
                    j = q + 2
                    continue
                i = q + 1
                break
        elif ch == '"':
            q = text.find('"', i + 1)
            while q >= 0 and q + 1 < n and text[q + 1] == '"':
                q = text.find('"', q + 2)
            i = n if q < 0 else q + 1
        elif ch == "$":
            tag = _dollar_tag(text, i)
            if tag is None:
                i += 1
            else:
                q = text.find(tag, i + len(tag))
                i = n if q < 0 else q + len(tag)
        elif ch == "-":
            if text.startswith("--", i):
                q = text.find("\n", i)
                i = n if q < 0 else q
            else:
                i += 1
        elif text.startswith("/*", i):
            end, nested = _block_end(text, i)
            if nested:
                out.append(text[done:i])
                body = text[i:end]
                out.append("\n".join(" " * len(part) for part in body.split("\n")))
                done = end
            i = end
        else:
            i += 1
        if i >= n:
            break
    out.append(text[done:])
    return "".join(out)
