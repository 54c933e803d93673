"""CSV files read the way PostgreSQL's ``COPY … (format csv, header true)`` reads
them, and refused where COPY and an RFC 4180 reader would disagree.

pg_migrate.sh loaded each CSV with COPY in CSV mode. ddlkit reads the file here
instead, before the first file of the run, and stages the values it read with
COPY in text format (psycopg escapes every value), so:

* a line ``\\.`` is a value like any other (COPY would end its data there and
  silently drop every later row);
* an unquoted empty field is NULL and a quoted one (``""``) the empty string,
  as COPY reads them;
* what COPY would refuse mid-run is refused before anything runs, with
  file:line: a NUL byte, an unterminated quoted field, a row wider or narrower
  than the header, line endings that change within the file;
* what COPY would read differently from RFC 4180 without an error is refused
  too: a quote inside an unquoted field (COPY starts a quoted section there,
  which can merge lines into one row) and text after a closing quote.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from ddlkit.util.errors import InputError

_QUOTED = re.compile(r'"((?:[^"]|"")*)"', re.S)
_UNQUOTED = re.compile(r'[^,"\r\n]*')
_EOL = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class CsvData:
    header: list[str]
    rows: list[list[str | None]]  # None: an unquoted empty field (NULL, as COPY reads it)
    lines: list[int]  # the file line each row starts on


def _lines(text: str):
    """pos -> the file line it is on (LF, else CR line endings)."""
    breaks = [m.start() for m in re.finditer("\n" if "\n" in text else "\r", text)]
    return lambda pos: bisect_left(breaks, pos) + 1


def read_csv(path: Path) -> CsvData:
    """The header and rows of ``path`` as COPY reads them, or InputError (exit 2) with file:line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the CSV file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: CSV file is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise InputError(f"{path}:1: CSV file starts with a byte order mark, which COPY would read as part of "
                         f"the first column's name; save it without one")
    _line = _lines(text)
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(f"{path}:{_line(nul)}: CSV file holds a NUL byte, which PostgreSQL cannot store "
                         f"in text (COPY would refuse it)")

    def fail(pos: int, why: str) -> InputError:
        return InputError(f"{path}:{_line(pos)}: {why}")

    records: list[list[str | None]] = []
    starts: list[int] = []
    eol: str | None = None
    pos, end = 0, len(text)
    while pos < end:
        record: list[str | None] = []
        starts.append(pos)
        while True:
            if pos < end and text[pos] == '"':
                m = _QUOTED.match(text, pos)
                if m is None:
                    raise fail(pos, "unterminated quoted CSV field (COPY would refuse the file)")
                record.append(m.group(1).replace('""', '"'))
                pos = m.end()
                if pos < end and text[pos] not in ",\r\n":
                    raise fail(pos, "text after the closing quote of a CSV field; COPY would read it "
                                    "differently from a CSV reader: quote the whole field")
            else:
                m = _UNQUOTED.match(text, pos)
                pos = m.end()
                if pos < end and text[pos] == '"':
                    raise fail(pos, "a quote inside an unquoted CSV field; COPY would start a quoted "
                                    "section there (and may merge lines into one row): quote the whole "
                                    'field and double the quote ("")')
                record.append(m.group(0) or None)
            if pos >= end:
                break
            if text[pos] == ",":
                pos += 1
                continue
            m = _EOL.match(text, pos)
            if eol is None:
                eol = m.group(0)
            elif m.group(0) != eol:
                names = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}
                raise fail(pos, f"CSV line ends with {names[m.group(0)]} where earlier lines end with "
                                f"{names[eol]} (COPY would refuse the file)")
            pos = m.end()
            break
        records.append(record)
    if not records:
        raise InputError(f"{path}: CSV file has no header line")
    header = [h or "" for h in records[0]]
    width = len(header)
    for row, start in zip(records[1:], starts[1:]):
        if len(row) != width:
            raise InputError(f"{path}:{_line(start)}: CSV row has {len(row)} field(s); the header has {width}")
    return CsvData(header, records[1:], [_line(p) for p in starts[1:]])
