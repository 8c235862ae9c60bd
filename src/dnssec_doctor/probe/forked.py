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
shorter of the two (bench/README.md); its CPU grows by 5-10 %: the pages both processes
write are copied, the document is written and read (about 1 ms for a lab name), and the
parent parses the answers again (the probe's parses, kept for the analysis in one
process, stay in the child: about 6 ms for a lab name). So that this last part is not
done after the last answer, the child also hands each response over as it arrives, and
the parent, once loaded, parses them while the child goes on (``take``; the analysis
finds them parsed by their bytes, ``analysis/wire.py``).

Only for the one-shot commands (``cli.run`` allows it: ``pipeline.allow_one_shot``), on
a system with ``fork``, in a process with one thread: a fork copies only the thread that
calls it, and a lock another thread held at that moment would stay held in the child.
Where the fork itself fails (a process limit, no memory to copy the page tables), and
everywhere else (tests calling ``main``, the web application, watch, scan), the analysis
loads in a thread beside the probe, as before.

The child never returns into the caller's code: SIGINT is blocked across the fork, and
the child's first step is a ``try`` whose ``finally`` is ``os._exit``. It writes one
document: ``S`` and the snapshot (exit 0), or ``E`` and the exception it raised (exit 1;
pickled, and raised by the parent as its own, so a check fails the same way in either
process); a document is read only with its exit status, so a document cut short (the
child killed while writing) is never parsed. Ctrl-C reaches both (one process group): the
child clears its progress line and ends quietly, the parent reports the interruption. A
parent that fails or is interrupted gives its child a moment to end, then kills and reaps
it; a child that dies without a whole document is an environment problem reported in one
line (a signal, the kernel's OOM killer), or a bug (a crash). A parent that dies outright
(SIGKILL, SIGTERM from a monitoring core's timeout) takes its child with it: the child
holds the read end of a pipe that only the parent can write, and a thread of the child
ends it when that pipe reports the parent gone. The child keeps the dataclass methods it
compiled (``dataclass_cache.save``), as the parent does.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from dnssec_doctor.errors import EnvironmentProblem

if TYPE_CHECKING:
    from dnssec_doctor.model.snapshot import Snapshot

# The most a child may hand back: as much as a snapshot file may hold (the bound of
# pipeline.MAX_INPUT_BYTES, which this module cannot import: pipeline imports it).
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20
# How long an interrupted parent lets its child end by itself (Ctrl-C reached both: the
# child clears its progress line) before it kills it; a parent that fails otherwise kills
# it at once.
GRACE_SECONDS = 0.3

SNAPSHOT = b"S"  # then the snapshot's document; exit status 0
ERROR = b"E"  # then the pickled exception; exit status 1
ANSWER = b"R"  # then 4 bytes of length and a response, before either of the above
_FRAME_HEAD = 5
INTERRUPTED = 130  # the child's exit status after Ctrl-C (128 + SIGINT, as a shell says)
# Signals that end a process only for a bug of its own (or of a library it runs).
_CRASHES = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT})


def can_fork() -> bool:
    """Whether this process may fork its probe: the system can, no other thread runs, and
    the child's exit status can be read (SIGCHLD ignored, as some supervisors leave it,
    makes the kernel reap children unasked: their status, which says whether a document
    is whole, would be lost)."""
    import threading

    return (
        hasattr(os, "fork")
        and threading.active_count() == 1
        and signal.getsignal(signal.SIGCHLD) is not signal.SIG_IGN
    )


def probe_beside(
    probe: Callable[[Callable[[bytes], None]], Snapshot],
    load: Callable[[], None],
    take: Callable[[bytes], None] | None = None,
) -> Snapshot | None:
    """``probe(answers)`` in a forked child while ``load()`` runs here; the child's
    snapshot, or None when no child could be forked (the caller probes itself).

    What the child hands ``answers`` (a response's bytes) reaches ``take`` here, in order,
    once ``load`` is done and while the child goes on: a head start for the analysis, not
    evidence (the snapshot has every response), so an answer is left out rather than
    ever wait for this process to read (one that does not fit in the pipe at once).
    An exception of ``probe`` is raised here as the child raised it; one of ``load`` is
    raised once the child has ended and is reaped."""
    for stream in (sys.stdout, sys.stderr):  # what is buffered is written once, not twice
        if stream is not None:
            stream.flush()
    # SIGINT blocked across the fork: the child is inside its try before Ctrl-C can
    # raise there, and never returns into the caller's code.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    opened: list[int] = []
    try:
        read_end, write_end = os.pipe()  # the document, from the child
        opened += (read_end, write_end)
        alive_read, alive_write = os.pipe()  # never written: the child learns the parent ended
        opened += (alive_read, alive_write)
        pid = os.fork()
    except OSError:  # out of descriptors, a process limit, no memory: probed here instead
        for fd in opened:
            os.close(fd)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return None
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        try:
            os.close(read_end)
            os.close(alive_write)
            _end_with_parent(alive_read)  # its thread keeps SIGINT blocked: main thread's
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            _child(write_end, probe)
        finally:
            os._exit(1)
    os.close(write_end)
    os.close(alive_read)
    try:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a Ctrl-C meanwhile raises
            load()
            document = _read_document(read_end, take)
        except BaseException as error:
            # Ctrl-C reached the child too: let it end by itself (it clears its line).
            _end(pid, grace=GRACE_SECONDS if isinstance(error, KeyboardInterrupt) else 0)
            raise
        finally:
            os.close(read_end)
        status = _reap(pid)
    finally:
        os.close(alive_write)  # the child, if still there, ends with it
    return _decode(document, status)


def _child(  # pragma: no cover - runs in the child
    fd: int, probe: Callable[[Callable[[bytes], None]], Snapshot]
) -> NoReturn:
    code = 0
    try:
        os.set_blocking(fd, False)  # an answer that does not fit now is left out

        def hand_over(wire: bytes) -> None:
            frame = ANSWER + len(wire).to_bytes(4, "big") + wire
            if len(frame) <= select.PIPE_BUF:  # written whole or not at all
                with contextlib.suppress(OSError):  # full (BlockingIOError), or no reader
                    os.write(fd, frame)

        try:
            snapshot = probe(hand_over)
            os.set_blocking(fd, True)
            document = SNAPSHOT + snapshot.dumps().encode()
        except KeyboardInterrupt:  # the parent reports it
            os._exit(INTERRUPTED)
        except BaseException as error:  # raised again by the parent
            os.set_blocking(fd, True)
            document = ERROR + _pickled(error)
            code = 1
        view = memoryview(document)
        while view:
            view = view[os.write(fd, view[:_CHUNK]) :]
        os.close(fd)
    except KeyboardInterrupt:  # Ctrl-C before the document was written
        os._exit(INTERRUPTED)
    except BaseException:  # a parent gone: just end
        code = code or 1
    with contextlib.suppress(Exception):  # the document is out: nothing here may change it
        from dnssec_doctor import dataclass_cache

        if dataclass_cache.compiled():
            dataclass_cache.save()
    os._exit(code)


def _end_with_parent(alive: int) -> None:  # pragma: no cover - runs in the child
    """A thread that ends this process when the parent's end of the ``alive`` pipe
    closes: when the parent ends, whatever way it ends. Where no thread can start (a
    process limit) the probe goes on without it: its deadline still bounds it."""
    import threading

    def watch() -> None:
        with contextlib.suppress(OSError):
            os.read(alive, 1)  # nothing is ever written: returns at the parent's end
        os._exit(1)

    with contextlib.suppress(RuntimeError):  # "can't start new thread"
        threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _pickled(error: BaseException) -> bytes:  # pragma: no cover - runs in the child
    """The child's exception for the parent to raise; one that cannot be pickled, or not
    read back, becomes a RuntimeError naming it (the CLI reports it as the bug it is)."""
    import pickle

    if os.environ.get("DNSSEC_DOCTOR_DEBUG"):
        import traceback

        error.add_note("in the probe's process:\n" + "".join(traceback.format_exception(error)))
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
    except Exception:  # any reason: the text is what is left
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return data


def _read_document(fd: int, take: Callable[[bytes], None] | None = None) -> bytes:
    """What follows the answers (each handed to ``take``): the document, to the end."""
    buffer = bytearray()
    size = 0
    while chunk := os.read(fd, _CHUNK):
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise EnvironmentProblem(
                f"the probe's process handed back more than {MAX_DOCUMENT_BYTES // 2**20} MB"
            )
        buffer += chunk
        while buffer[:1] == ANSWER and len(buffer) >= _FRAME_HEAD:
            end = _FRAME_HEAD + int.from_bytes(buffer[1:_FRAME_HEAD], "big")
            if len(buffer) < end:
                break
            if take is not None:
                with contextlib.suppress(Exception):  # a head start only: never a failure
                    take(bytes(buffer[_FRAME_HEAD:end]))
            del buffer[:end]
    return bytes(buffer)


def _end(pid: int, grace: float) -> int:
    """Let the child end by itself for ``grace`` seconds, then kill it; its exit status
    once reaped."""
    waited = time.monotonic() + grace
    while time.monotonic() < waited:
        try:
            ended, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already (a SIGCHLD handler of a caller's)
            return 0
        if ended:
            return status
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile: reaped below
        os.kill(pid, signal.SIGKILL)
    return _reap(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
        except ChildProcessError:  # reaped already (a SIGCHLD handler of a caller's)
            return 0


def _decode(document: bytes, status: int) -> Snapshot:
    """The child's snapshot, or what its end means: a document counts only with the exit
    status that says it is whole."""
    kind, body = document[:1], document[1:]
    exited = os.WIFEXITED(status)
    code = os.WEXITSTATUS(status) if exited else None
    if kind == SNAPSHOT and code == 0:
        import json

        from dnssec_doctor.model.snapshot import load_snapshot

        return load_snapshot(json.loads(body))
    if kind == ERROR and code == 1:
        import pickle

        try:
            error = pickle.loads(body)  # our own child's, never input from elsewhere
        except Exception:  # any reason: said as the bug it is
            error = RuntimeError("the probe failed, and its error could not be read back")
        if isinstance(error, BaseException):
            raise error
    if code == INTERRUPTED:
        raise KeyboardInterrupt
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.strsignal(number) or f"signal {number}"
        if number == signal.SIGINT:
            raise KeyboardInterrupt
        if number in _CRASHES:
            raise RuntimeError(f"the probe's process crashed: signal {number} ({name})")
        raise EnvironmentProblem(
            f"the probe's process was ended by signal {number} ({name}) before it handed "
            "back the whole snapshot",
            hint="out of memory? see the kernel's log (dmesg)"
            if number == signal.SIGKILL
            else None,
        )
    raise RuntimeError(
        f"the probe's process ended with exit status {code} without handing back the whole snapshot"
    )
