"""GitHub Actions workflow commands (``::error file=…::message``): the one escaper
that verify, lint and drift annotations share."""

from __future__ import annotations


def gh_data(text: str) -> str:
    """A workflow command's message, escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_prop(text: str) -> str:
    """A workflow command's property value (file=, title=), escaped."""
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")
