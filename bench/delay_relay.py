"""A DNS relay that delays every answer: the lab's servers as if they were far away.

This machine's kernel has no ``netem``, so latency is made by a process. Started inside
the network namespace where the lab runs, the relay makes a new network namespace of its
own and listens there, on port 53 (UDP and TCP), on every address where a lab server
listens; each query is passed on at once to the same address in the lab's namespace and
its answer handed back ``--delay`` seconds after it arrived. A tool run in the relay's
namespace (``nsenter --net=/proc/PID/ns/net``) sees the lab's addresses, the lab's
answers, and a round trip of ``--delay`` more than loopback's. Addresses where nothing
listens in the lab (its dead servers) are not relayed, so they refuse at once there too.

Sockets belong to the namespace they were created in: the relay switches itself into the
lab's namespace (setns) to open each upstream socket and back to create the listeners.
Nothing leaves the two namespaces: every address is on loopback.

    python delay_relay.py --delay 0.05 --ready FILE    (as root, in the lab's namespace)

The relay writes its PID to FILE once it listens, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

CLONE_NEWNET = 0x40000000
DNS_PORT = 53
UPSTREAM_TIMEOUT = 10.0  # seconds an upstream socket waits for the lab's answer

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


class Namespaces:
    """The lab's network namespace and the relay's own, and switching between them."""

    def __init__(self) -> None:
        self.lab = os.open("/proc/self/ns/net", os.O_RDONLY)
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        self.own = os.open("/proc/self/ns/net", os.O_RDONLY)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    @contextlib.contextmanager
    def in_lab(self) -> Iterator[None]:
        _check(_libc.setns(self.lab, CLONE_NEWNET), "setns(lab)")
        try:
            yield
        finally:
            _check(_libc.setns(self.own, CLONE_NEWNET), "setns(own)")


def listening_addresses(kind: str) -> list[str]:
    """IPv4 addresses with a socket listening on port 53 (``kind`` -u or -t), in the
    current namespace (the lab's, when called before the relay makes its own)."""
    output = subprocess.run(
        ["ss", "-Hn4l", kind], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in output.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        address, _, port = fields[3].rpartition(":")
        if port == str(DNS_PORT) and address.startswith("127."):
            found.append(address)
    return sorted(set(found))


class _Upstream(asyncio.DatagramProtocol):
    """One query's way to the lab and back: the answer goes to the client after the delay."""

    def __init__(self, relay: _Listener, client: tuple[str, int]) -> None:
        self.relay = relay
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None
        self.closer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.closer = asyncio.get_running_loop().call_later(UPSTREAM_TIMEOUT, transport.close)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(self.relay.delay, self.relay.answer, data, self.client)
        if self.closer is not None:
            self.closer.cancel()
        if self.transport is not None:
            self.transport.close()

    def error_received(self, exc: Exception) -> None:
        if self.transport is not None:
            self.transport.close()


class _Listener(asyncio.DatagramProtocol):
    """UDP on one relayed address."""

    def __init__(self, address: str, delay: float, namespaces: Namespaces) -> None:
        self.address = address
        self.delay = delay
        self.namespaces = namespaces
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with self.namespaces.in_lab():
            upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.setblocking(False)
        upstream.connect((self.address, DNS_PORT))
        loop = asyncio.get_running_loop()
        task = loop.create_task(
            loop.create_datagram_endpoint(lambda: _Upstream(self, addr), sock=upstream)
        )
        task.add_done_callback(lambda done: self._send(done, data))

    @staticmethod
    def _send(
        done: asyncio.Task[tuple[asyncio.DatagramTransport, asyncio.DatagramProtocol]],
        data: bytes,
    ) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        transport, _ = done.result()
        transport.sendto(data)

    def answer(self, data: bytes, client: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)


async def _relay_stream(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    """Copy a stream; each chunk is written ``delay`` after it was read, in order."""
    loop = asyncio.get_running_loop()
    pending: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while data := await reader.read(65536):
            await pending.put((loop.time() + delay, data))
        await pending.put((loop.time() + delay, b""))

    async def write() -> None:
        while True:
            due, data = await pending.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                break
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()

    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        await asyncio.gather(read(), write())


def _tcp_handler(address: str, delay: float, namespaces: Namespaces):  # type: ignore[no-untyped-def]
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter):  # type: ignore[no-untyped-def]
        with namespaces.in_lab():
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        upstream.setblocking(False)
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(upstream, (address, DNS_PORT)),
                UPSTREAM_TIMEOUT,
            )
            lab_reader, lab_writer = await asyncio.open_connection(sock=upstream)
        except (OSError, TimeoutError):
            upstream.close()
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _relay_stream(client_reader, lab_writer, 0.0),
                _relay_stream(lab_reader, client_writer, delay),
            )
        finally:
            lab_writer.close()
            client_writer.close()

    return handle


async def serve(delay: float, ready: Path) -> None:
    udp = listening_addresses("-u")
    tcp = listening_addresses("-t")
    if not udp:
        raise SystemExit("delay_relay: nothing listens on port 53 here: is the lab up?")
    namespaces = Namespaces()
    loop = asyncio.get_running_loop()
    for address in udp:
        await loop.create_datagram_endpoint(
            lambda a=address: _Listener(a, delay, namespaces),  # type: ignore[misc]
            local_addr=(address, DNS_PORT),
        )
    servers = [
        await asyncio.start_server(_tcp_handler(a, delay, namespaces), a, DNS_PORT) for a in tcp
    ]
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready.write_text(f"{os.getpid()}\n")
    print(
        f"delay_relay: {len(udp)} UDP and {len(tcp)} TCP addresses, {delay * 1000:g} ms "
        f"per answer, pid {os.getpid()}",
        file=sys.stderr,
    )
    await stop.wait()
    for server in servers:
        server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, required=True, help="seconds per answer")
    parser.add_argument("--ready", type=Path, required=True, help="write the PID here")
    args = parser.parse_args()
    if args.delay < 0:
        parser.error("--delay cannot be negative")
    asyncio.run(serve(args.delay, args.ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())
