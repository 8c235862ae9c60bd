"""Text for a terminal: every character that could move the cursor, change the title,
reorder the line (bidi overrides such as U+202E) or start an escape sequence is shown
as an escape (``\\x1b``, ``\\u202e``) instead of reaching the terminal.

Strings from the network (names, EDE text, error text) and from input files end up in
our reports; JSON keeps them exact, the terminal gets them made printable here. Colour
is added after a line has been made printable, so only our own escape sequences reach
the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def _escape(char: str) -> str:
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def printable(text: str) -> str:
    """The text with every non-printable character escaped (newlines and tabs too: the
    result is one line). Python's ``isprintable`` is the policy: Unicode categories
    Other (controls, format characters such as bidi overrides, surrogates, private use,
    unassigned) and Separator other than the ASCII space."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


@dataclass(frozen=True)
class Painted:
    """A line with a coloured span (SGR ``code``), from ``start`` to ``end`` (None: the
    end of the line). The text before ``end`` must be our own printable text, so that
    the span's place survives ``printable``."""

    text: str
    code: str
    start: int = 0
    end: int | None = None


def terminal_text(lines: Iterable[str | Painted], *, colour: bool) -> str:
    """Join report lines for a terminal: each made printable, then painted."""
    out: list[str] = []
    for line in lines:
        if isinstance(line, str):
            out.append(printable(line))
            continue
        text = printable(line.text)
        if not colour:
            out.append(text)
            continue
        end = len(text) if line.end is None else line.end
        out.append(
            f"{text[: line.start]}\033[{line.code}m{text[line.start : end]}\033[0m{text[end:]}"
        )
    return "\n".join(out)
