"""Where SQL text holds a password, found by PostgreSQL's scanner (never a regex
over SQL): the value after ``PASSWORD`` (``CREATE ROLE … PASSWORD 'x'``, a user
mapping's ``OPTIONS (password 'x')``). A value written without quotes
(``password Secret-77``) does not parse, and the parser's message quotes its
first token (``syntax error at or near "Secret"``): :func:`withhold_in_error`
removes it, and the whole value, from such a message."""

from __future__ import annotations

from pglast import parser

from ddlkit.sql.positions import parse_error_offset
from ddlkit.util.redaction import redact

WITHHELD = '"***"'
_NEAR = ' at or near "'
# Tokens that end an unquoted value: a statement's or list's end, or what follows a value.
_ENDS = frozenset({"ASCII_59", "ASCII_44", "ASCII_41", "ASCII_40"})


def _tokens(text: str) -> list:
    """The scanner's tokens of ``text``; of the part before an unterminated quote
    or comment when the whole does not scan (the rest is one token to the parser)."""
    try:
        return list(parser.scan(text))
    except parser.ParseError as exc:
        cut = parse_error_offset(exc, 0)
        try:
            return list(parser.scan(text[:cut])) if cut > 0 else []
        except parser.ParseError:
            return []


_ROLE_WORDS = frozenset({"ROLE", "USER", "GROUP"})
_OPTION_LEAD = frozenset({"ASCII_40", "ASCII_44", "ADD_P", "SET"})


def _password_words(toks: list, text: str) -> list[int]:
    """Indexes of the tokens that introduce a password: ``PASSWORD`` in CREATE or
    ALTER ROLE|USER|GROUP (not USER MAPPING), or an option ``password`` in an
    OPTIONS list (a user mapping's, a server's). A column named ``password``
    introduces nothing. One pass: what a statement has shown so far is kept as
    it goes (a statement of many ``password`` words costs linear time)."""
    out, first, options, role = [], 0, False, False
    for i, tok in enumerate(toks):
        name = tok.name
        if name == "ASCII_59":
            first, options, role = i + 1, False, False
            continue
        if name == "OPTIONS":
            options = True
        word = name == "PASSWORD" or (name == "IDENT" and text[tok.start:tok.end + 1].lower() == "password")
        # CREATE|ALTER ROLE|USER|GROUP before this token (in a body the statement follows BEGIN, THEN, …);
        # USER MAPPING is not a role: the pair right before this token is judged with this token.
        pair = i - 2 >= first and toks[i - 2].name in ("CREATE", "ALTER") and toks[i - 1].name in _ROLE_WORDS
        if word and i != first and (role or pair or (options and toks[i - 1].name in _OPTION_LEAD)):
            out.append(i)
        role = role or (pair and not (toks[i - 1].name == "USER" and name == "MAPPING"))
    return out


def _string_content(text: str, tok) -> int | None:
    """Where the content of the string token ``tok`` starts (after ``'``, ``E'``
    or ``$tag$``): SQL in a function body, a DO block or an EXECUTE string."""
    raw = text[tok.start:tok.end + 1]
    if raw.startswith("$"):
        return tok.start + raw.index("$", 1) + 1
    quote = raw.find("'")
    return tok.start + quote + 1 if quote >= 0 else None


def password_spans(text: str, depth: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every value written after a word that introduces a
    password (:func:`_password_words`): a quoted string, or the run of tokens
    without a space between them (``Bare-Word-88``); an unterminated quote right
    after the word runs to the end of the text. SQL inside a string (a function
    body, a DO block, an EXECUTE string) is searched too."""
    toks = _tokens(text)
    spans = []
    if depth < 2:
        for tok in toks:
            if tok.name == "SCONST" and "password" in text[tok.start:tok.end + 1].lower():
                start = _string_content(text, tok)
                if start is not None:
                    spans += [(start + a, start + b) for a, b in password_spans(text[start:tok.end + 1], depth + 1)]
    for i in _password_words(toks, text):
        tok = toks[i]
        if i + 1 >= len(toks):  # nothing scanned after the word: an unterminated quote may follow
            rest = tok.end + 1 + (len(text[tok.end + 1:]) - len(text[tok.end + 1:].lstrip()))
            if rest < len(text) and text[rest] in "'\"$eEuU":
                spans.append((rest, len(text)))
            continue
        first = toks[i + 1]
        if first.name in _ENDS or first.name in ("NULL_P", "ASCII_61"):
            continue
        end = first.end + 1
        j = i + 2  # the run of tokens without a space between them (no copy of the rest: one pass in all)
        while first.name != "SCONST" and j < len(toks) and toks[j].start == end and toks[j].name not in _ENDS:
            end = toks[j].end + 1
            j += 1
        spans.append((first.start, end))
    return spans


def password_values(text: str) -> tuple[str, ...]:
    """The text of every password value in ``text``, and a quoted one's content:
    what a message may quote."""
    out: list[str] = []
    for start, end in password_spans(text):
        value = text[start:end]
        out.append(value)
        if len(value) >= 2 and value[0] == "'" and value[-1] == "'":
            out.append(value[1:-1].replace("''", "'"))
    return tuple(v for v in out if v.strip())


def at_password(text: str, offset: int) -> bool:
    """Whether ``offset`` (a parse error's position) lies in a password value."""
    return any(start <= offset < end for start, end in password_spans(text))


def withhold_in_error(message: str, text: str, offset: int) -> str:
    """A parse error's ``message`` about ``text`` at ``offset`` without the
    passwords written in ``text``: the quoted token is withheld when the error
    is at a password, and any password value is redacted wherever it appears."""
    values = password_values(text)
    if _NEAR in message:
        head = message.index(_NEAR) + len(_NEAR) - 1
        near = message[head + 1:].rstrip('"')
        # the offset, or the token itself (a PL/pgSQL body's error counts from the body)
        if at_password(text, offset) or (near and any(v.startswith(near) for v in values)):
            message = message[:head] + WITHHELD
    return redact(message, values)


def withhold_in_server_error(message: str, statement: str, diag) -> tuple[str, tuple[str, ...]]:
    """The server's ``message`` about ``statement`` (diagnostics ``diag``) without
    the passwords written in it or in the query it ran inside it (``EXECUTE
    '… password x'`` in a DO block: ``internal_query``); and those passwords, for
    the excerpt."""
    values = password_values(statement)
    position, inner = getattr(diag, "statement_position", None), getattr(diag, "internal_query", None)
    if position:
        message = withhold_in_error(message, statement, int(position) - 1)
    if inner:
        values += password_values(inner)
        message = withhold_in_error(message, inner, int(getattr(diag, "internal_position", None) or 1) - 1)
    return redact(message, values), values
