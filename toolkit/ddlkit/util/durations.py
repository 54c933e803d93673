"""Durations as users write them: ``30s``, ``2m``, ``1h``, ``500ms``, ``1m30s``
or a bare number of seconds (``45``, ``2.5``)."""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|min|s|m|h)")


def parse_duration(value: object) -> float:
    """Seconds (>= 0) from a number or a duration string; ValueError naming
    the accepted forms otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 2m or 90")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for m in _PART.finditer(text):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2)]
                pos = m.end()
            if not text or pos != len(text):
                raise ValueError(f"{value!r} is not a duration (examples: 30s, 2m, 1m30s, 500ms, 90)") from None
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"{value!r} is not a duration >= 0")
    return seconds
