"""A check on two cores: the probe in a forked child while this process loads the analysis.

A cold ``check`` spends about a third of its CPU importing the analysis (dnspython's
DNSSEC, cryptography, the diagnosis and the renderers) and about as much importing asyncio
and probing. In one process the two cannot overlap: a thread that imports beside the
probe only fills the probe's waits, the interpreter running one thread at a time. So the
one-shot ``check`` forks once its arguments are read: the child imports asyncio and
probes, and hands back the snapshot in the product's own format (the JSON document that
``--snapshot`` writes, read back by ``load_snapshot`` as ``analyze`` reads a file: the
analysis sees what the file would hold, nothing more); meanwhile the parent imports the
analysis. On a machine with a second core free, the check's wall time drops by the
shorter of the two (bench/README.md); its CPU grows by the fork and the document's
writing and reading (about 1 ms for a lab name).

Only for the one-shot commands (``cli.run`` allows it: ``pipeline.allow_forked_probe``),
on a system with ``fork``, in a process with one thread: a fork copies only the thread
that calls it, and a lock another thread held at that moment would stay held in the
child. Everywhere else (tests calling ``main``, the web application, watch, scan) the
analysis loads in a thread beside the probe, as before.

The child never returns into the caller's code: whatever happens it ends with
``os._exit``, after writing one document: ``S`` and the snapshot, or ``E`` and the
exception it raised (pickled: the parent raises it as its own, so a check fails the same
way in either process). Ctrl-C reaches both (one process group): the child ends quietly,
the parent reports the interruption. A parent that fails or is interrupted kills the
child and reaps it; a child that dies without a document (a signal, the kernel's OOM
killer) is an environment problem reported in one line. A parent killed outright
(SIGKILL, or SIGTERM from a monitoring core's timeout) leaves the child to finish its
probe, which the probe's deadline bounds (``--deadline``, 20 s by default): its write
then fails and it ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from dnssec_doctor.errors import EnvironmentProblem

if TYPE_CHECKING:
    from dnssec_doctor.model.snapshot import Snapshot

Progress = Callable[[str, str], None]

# The most a child may hand back: as much as a snapshot file may hold (pipeline's bound on
# what a reader takes in).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20

SNAPSHOT = b"S"
ERROR = b"E"


def can_fork() -> bool:
    """Whether this process may fork its probe: the system can, and no other thread runs."""
    import threading

    return hasattr(os, "fork") and threading.active_count() == 1


def probe_beside(
    probe: Callable[[], Snapshot],
    load: Callable[[], None],
) -> Snapshot:
    """``probe()`` in a forked child while ``load()`` runs here; the child's snapshot.

    An exception of ``probe`` is raised here as the child raised it; one of ``load`` is
    raised once the child is killed and reaped."""
    read_end, write_end = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # what is buffered is written once, not twice
        if stream is not None:
            stream.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_end)
        _child(write_end, probe)
    os.close(write_end)
    done = False
    try:
        load()
        document = _read_document(read_end)
        done = True
    finally:
        os.close(read_end)
        if not done:
            _kill(pid)
    status = _reap(pid)
    return _decode(document, status)


def _child(fd: int, probe: Callable[[], Snapshot]) -> NoReturn:  # pragma: no cover
    code = 0
    try:
        try:
            document = SNAPSHOT + probe().dumps().encode()
        except KeyboardInterrupt:  # the parent reports it
            os._exit(130)
        except BaseException as error:  # raised again by the parent
            document = ERROR + _pickled(error)
            code = 1
        view = memoryview(document)
        while view:
            view = view[os.write(fd, view[:_CHUNK]) :]
    except BaseException:  # a parent gone, or a second Ctrl-C: just end
        code = code or 1
    os._exit(code)


def _pickled(error: BaseException) -> bytes:  # pragma: no cover - runs in the child
    """The child's exception for the parent to raise; one that cannot be pickled becomes a
    RuntimeError naming it (the CLI reports it as the bug it is)."""
    import pickle

    if os.environ.get("DNSSEC_DOCTOR_DEBUG"):
        import traceback

        error.add_note("in the probe's process:\n" + "".join(traceback.format_exception(error)))
    try:
        return pickle.dumps(error)
    except Exception:  # any reason: the text is what is left
        fallback = RuntimeError(f"{type(error).__name__}: {error}")
        return pickle.dumps(fallback)


def _read_document(fd: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(fd, _CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise EnvironmentProblem(
                f"the probe's process handed back more than {MAX_DOCUMENT_BYTES // 2**20} MB"
            )
    return b"".join(chunks)


def _kill(pid: int) -> None:
    import signal

    with contextlib.suppress(ProcessLookupError):  # ended meanwhile: reaped below
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
        except ChildProcessError:  # reaped already (a SIGCHLD handler of a caller's)
            return 0


def _decode(document: bytes, status: int) -> Snapshot:
    kind, body = document[:1], document[1:]
    if kind == SNAPSHOT:
        import json

        from dnssec_doctor.model.snapshot import load_snapshot

        return load_snapshot(json.loads(body))
    if kind == ERROR:
        import pickle

        error = pickle.loads(body)  # our own child's, never input from elsewhere
        if isinstance(error, BaseException):
            raise error
    if os.WIFSIGNALED(status):
        import signal

        number = os.WTERMSIG(status)
        if number == signal.SIGINT:
            raise KeyboardInterrupt
        raise EnvironmentProblem(
            f"the probe's process was ended by signal {number} "
            f"({signal.Signals(number).name}) before it handed back the snapshot",
            hint="out of memory? see the kernel's log (dmesg)",
        )
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130:
        raise KeyboardInterrupt
    raise RuntimeError(
        f"the probe's process ended (status {status}) without handing back the snapshot"
    )
