"""identifier-too-long: an identifier over 63 bytes, which PostgreSQL silently truncates.

The parse tree already holds the truncated names, so this rule reads the
scanner's tokens (PostgreSQL's own lexer, via pglast), once per file and once
per DO block body."""

from pglast import parser

from ddlkit.lint.rule import WARNING, Rule

ID = "identifier-too-long"
MAX_BYTES = 63  # NAMEDATALEN - 1


def _may_have_long_identifier(text: str) -> bool:
    """Cheap pre-filter (False: surely no identifier over 63 bytes, without
    scanning). Such an identifier has at least 64 characters in an ASCII text,
    at least 16 in any other (4 bytes a character at most). An unquoted one
    lies inside one whitespace-separated chunk. A quoted one without ``""``
    escapes is the whole text between two consecutive double quotes (the text
    has no ``""`` anywhere, else the scanner decides), whatever it holds."""
    shortest = MAX_BYTES + 1 if text.isascii() else MAX_BYTES // 4 + 1
    if max(map(len, text.split()), default=0) >= shortest:
        return True
    if '"' not in text:
        return False
    if '""' in text:
        return True
    return max(map(len, text.split('"')[1:-1]), default=0) >= shortest


def _identifier(raw: str) -> str:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1].replace('""', '"')
    return raw


def _long_identifiers(text: str):
    """(character offset, identifier, its size in bytes) of every identifier
    token of ``text`` longer than 63 bytes."""
    if not _may_have_long_identifier(text):
        return
    try:
        tokens = parser.scan(text)  # offsets in characters
    except Exception:  # noqa: BLE001 - a text that does not scan is parse-error's
        return
    for tok in tokens:
        if tok.name != "IDENT" or tok.end - tok.start < MAX_BYTES // 4:
            continue
        name = _identifier(text[tok.start : tok.end + 1])
        size = len(name.encode("utf-8"))
        if size > MAX_BYTES:
            yield tok.start, name, size


def finish(fctx):
    # the file itself, and the bodies of its DO blocks (string constants to the file's scanner)
    sources = [(fctx.text, None)]
    for fb in (getattr(fctx, "bodies", None) or {}).values():
        if fb.what == "DO block" and fb.body is not None:
            sources.append((fb.body.value, fb.body.to_file))
    for text, to_file in sources:
        for start, name, size in _long_identifiers(text):
            kept = name.encode("utf-8")[:MAX_BYTES].decode("utf-8", errors="ignore")
            fctx._emit(
                start if to_file is None else to_file(start), ID,
                f"identifier {name[:24]}… is {size} bytes: PostgreSQL silently truncates it to its first "
                f"{len(kept.encode('utf-8'))} bytes (…{kept[-16:]})",
                f"use a name of at most {MAX_BYTES} bytes: two names that share their first {MAX_BYTES} bytes "
                "become the same object",
            )


RULE = Rule(
    id=ID,
    severity=WARNING,
    kinds=None,
    summary="an identifier longer than 63 bytes (PostgreSQL truncates it)",
    rationale=(
        "PostgreSQL keeps at most 63 bytes of an identifier (NAMEDATALEN - 1) and cuts longer ones with "
        "only a NOTICE (42622), on a character boundary. The object then has a different name from the one "
        "in the migration, and two long names that differ only after byte 63 (typical of generated index "
        "and constraint names) collide. Non-ASCII characters take two to four bytes each."
    ),
    bad=(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS\n"
        "    ix_user_challenges_challenge_id_user_id_specifier_completed_blocknumber\n"
        "    ON user_challenges (challenge_id, user_id, specifier, completed_blocknumber);"
    ),
    good=(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_user_challenges_lookup\n"
        "    ON user_challenges (challenge_id, user_id, specifier, completed_blocknumber);"
    ),
    finish=finish,
)
