"""The statements shown for a missing object: what re-creates it, assembled
from the expected side's catalog text (names arrive already quoted by
``quote_ident``/``format('%I')``, definitions from ``pg_get_*def``). They are
printed for a human to review, never executed by ddlkit."""

from __future__ import annotations

from typing import Any

from psycopg import sql

_ON = {"table": "TABLE", "view": "TABLE", "matview": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION",
       "procedure": "PROCEDURE", "aggregate": "FUNCTION", "schema": "SCHEMA"}
_ALTER = {"table": "TABLE", "view": "VIEW", "matview": "MATERIALIZED VIEW", "sequence": "SEQUENCE",
          "function": "FUNCTION", "procedure": "PROCEDURE", "aggregate": "AGGREGATE", "schema": "SCHEMA",
          "type": "TYPE", "domain": "DOMAIN"}


def literal(value: str) -> str:
    return sql.Literal(value).as_string(None)


def column(name: str, attrs: dict[str, Any]) -> str:
    parts = [name, attrs["type"]]
    if attrs["collation"] != "default":
        parts.append(f"COLLATE {attrs['collation']}")
    if attrs["generated"] != "none":
        parts.append(attrs["generated"])
    elif attrs["default"] != "none":
        parts.append(f"DEFAULT {attrs['default']}")
    if attrs["identity"] != "none":
        parts.append(f"{attrs['identity']} AS IDENTITY")
    if attrs["nullability"] == "NOT NULL":
        parts.append("NOT NULL")
    return " ".join(parts)


def table(name: str, attrs: dict[str, Any], columns: list[str]) -> str:
    unlogged = "UNLOGGED " if attrs["persistence"] == "UNLOGGED" else ""
    head = f"CREATE {unlogged}TABLE {name} ("
    body = ",\n".join(f"    {c}" for c in columns)
    tail = ")"
    if attrs["partition bound"] != "none":
        parent = attrs["inherits"]
        return f"CREATE {unlogged}TABLE {name} PARTITION OF {parent} {attrs['partition bound']};"
    if attrs["inherits"] != "none":
        tail += f" INHERITS ({attrs['inherits']})"
    if attrs["partition key"] != "none":
        tail += f" PARTITION BY {attrs['partition key']}"
    if attrs["options"] != "none":
        tail += f" WITH ({attrs['options']})"
    out = f"{head}\n{body}\n{tail};" if columns else f"{head}{tail};"
    if attrs["row level security"] == "enabled":
        out += f"\nALTER TABLE {name} ENABLE ROW LEVEL SECURITY;"
    if attrs["forced row level security"] == "forced":
        out += f"\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"
    return out


def sequence(name: str, a: dict[str, Any]) -> str:
    out = (f"CREATE SEQUENCE {name} AS {a['type']} INCREMENT BY {a['increment']} MINVALUE {a['minvalue']} "
           f"MAXVALUE {a['maxvalue']} START WITH {a['start']} CACHE {a['cache']} {a['cycle']};")
    if a["owned by"] != "none":
        out += f"\nALTER SEQUENCE {name} OWNED BY {a['owned by']};"
    return out


def view(kind: str, name: str, definition: str | None) -> str:
    what = "MATERIALIZED VIEW" if kind == "matview" else "VIEW"
    return f"CREATE {what} {name} AS\n{(definition or '').rstrip()}"


def domain(name: str, a: dict[str, Any], checks: list[str]) -> str:
    parts = [f"CREATE DOMAIN {name} AS {a['base type']}"]
    if a["default"] != "none":
        parts.append(f"DEFAULT {a['default']}")
    if a["nullability"] == "NOT NULL":
        parts.append("NOT NULL")
    parts += [c.replace(" (NOT VALID)", "") for c in checks]
    return " ".join(parts) + ";"


def type_(name: str, a: dict[str, Any]) -> str:
    if "enum labels" in a:
        return f"CREATE TYPE {name} AS ENUM ({', '.join(literal(v) for v in a['enum labels'])});"
    if "composite attributes" in a:
        return f"CREATE TYPE {name} AS ({a['composite attributes']});"
    return f"CREATE TYPE {name} AS RANGE (SUBTYPE = {a['range subtype']});"


def policy(table_name: str, name: str, a: dict[str, Any]) -> str:
    out = f"CREATE POLICY {name} ON {table_name} AS {a['mode']} FOR {a['command']} TO {', '.join(a['roles'])}"
    if a["using"] != "none":
        out += f" USING ({a['using']})"
    if a["with check"] != "none":
        out += f" WITH CHECK ({a['with check']})"
    return out + ";"


def grant(kind: str, name: str, privilege: str, grantee: str, grantable: bool) -> str:
    option = " WITH GRANT OPTION" if grantable else ""
    return f"GRANT {privilege} ON {_ON.get(kind, kind.upper())} {name} TO {grantee}{option};"


def revoke(kind: str, name: str, privilege: str, grantee: str) -> str:
    return f"REVOKE {privilege} ON {_ON.get(kind, kind.upper())} {name} FROM {grantee};"


def alter_owner(kind: str, name: str, owner: str) -> str:
    return f"ALTER {_ALTER.get(kind, kind.upper())} {name} OWNER TO {owner};"
