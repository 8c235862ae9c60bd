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


def terminal_text(lines: Iterable[str | Painted], *, colour: bool, width: int | None = None) -> str:
    """Join report lines for a terminal: each made printable, folded to ``width`` (None:
    never folded), then painted."""
    out: list[str] = []
    for line in lines:
        if isinstance(line, str):
            out += fold(printable(line), width)
            continue
        parts = fold(printable(line.text), width)
        if not colour:
            out += parts
            continue
        whole = line.start == 0 and line.end is None
        for index, text in enumerate(parts):
            if whole:
                out.append(f"\033[{line.code}m{text}\033[0m")
            elif index == 0:
                end = len(text) if line.end is None else min(line.end, len(text))
                start = min(line.start, end)
                out.append(f"{text[:start]}\033[{line.code}m{text[start:end]}\033[0m{text[end:]}")
            else:
                out.append(text)
    return "\n".join(out)


def fold(text: str, width: int | None) -> list[str]:
    """``text`` as lines of at most ``width`` characters: broken at spaces where it can,
    inside a word (a long key or digest) where it cannot — folded, never cut. Continuation
    lines hang four columns deeper than the line's own indentation."""
    if width is None or width < 20 or len(text) <= width:
        return [text]
    indent = len(text) - len(text.lstrip(" "))
    hang = " " * min(indent + 4, width // 2)
    lines: list[str] = []
    rest = text
    floor = indent + 1  # never break inside the indentation
    while len(rest) > width:
        cut = rest.rfind(" ", floor, width + 1)
        if cut <= floor:
            cut = width  # no space to break at: fold inside the word
        lines.append(rest[:cut].rstrip(" "))
        rest = hang + rest[cut:].lstrip(" ")
        floor = len(hang) + 1
    lines.append(rest)
    return lines
