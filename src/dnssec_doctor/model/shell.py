"""Commands we print for the user to paste into a POSIX shell.

Every word is quoted on its own (``shlex.quote``): names and addresses come from DNS
data or from a snapshot file, and dnspython's name escaping leaves `` ` | & < > ``
as they are, so an unquoted name could run a command when the line is pasted.
"""

from __future__ import annotations

import shlex


def shell_command(*words: str) -> str:
    """One shell command line whose words reach the program exactly as given."""
    return " ".join(shlex.quote(word) for word in words)
