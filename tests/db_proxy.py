"""A loopback TCP proxy in front of a real server (PostgreSQL at 127.0.0.1:5432 by default),
which a test can cut and restore: a database outage, for real, without stopping the
database others use.

    with DbProxy() as proxy:                 # listens on 127.0.0.1:<proxy.port>
        url = proxy.url(schema)              # postgresql://127.0.0.1:<port>/test?options=...
        ...
        proxy.cut()                          # every open connection closed; new ones refused
        proxy.cut(mode="blackhole")          # ... or new ones accepted and never answered
        proxy.restore()                      # new connections reach the server again

``cut`` closes both ends of every connection passing through (the client sees the server
gone, as on a restart), then, by ``mode``:

- ``"refuse"``: the listening socket is closed, so a connect is refused at once (a
  database whose port has nothing listening);
- ``"blackhole"``: connections are accepted and nothing is ever sent back or forwarded (a
  host that vanished behind a firewall, where only a timeout ends a wait).

``restore`` listens again on the same port. ``connections`` counts the connections
accepted since the start, ``open_count()`` those now open. Threads only, stdlib only; it
never connects anywhere but ``upstream``.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Literal

Mode = Literal["refuse", "blackhole"]
Pair = tuple[socket.socket, socket.socket | None]  # client, server (None: black-holed)
CHUNK = 65536


class DbProxy:
    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432), port: int = 0) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._pairs: set[Pair] = set()
        self._listener: socket.socket | None = None
        self._mode: Mode | None = None  # None: passing through
        self._stopping = False
        self.connections = 0
        self.port = port
        # cut_at_commit: the marker, the cut's mode, the connections that sent the marker,
        # and those whose COMMIT went to the server and whose answer is dropped
        self._armed: tuple[tuple[bytes, ...], Mode] | None = None
        self._marked: set[Pair] = set()
        self._muted: set[Pair] = set()
        self.cut_done = threading.Event()
        self._listen()

    # -- control -------------------------------------------------------------------------

    def url(self, schema: str | None = None, database: str = "test") -> str:
        """A PostgreSQL URL through the proxy; with ``schema``, first on the search_path
        (and public after it), as tests/backends.py makes them."""
        base = f"postgresql://127.0.0.1:{self.port}/{database}"
        return f"{base}?options=-csearch_path%3D{schema},public" if schema else base

    def cut(self, mode: Mode = "refuse") -> None:
        """Closes every connection through the proxy; new ones are refused or black-holed."""
        with self._lock:
            self._mode = mode
            pairs = list(self._pairs)
            self._pairs.clear()
            if mode == "refuse":
                self._close_listener()
        for pair in pairs:
            _close_pair(pair)

    def cut_at_commit(self, *marker: bytes, mode: Mode = "refuse") -> None:
        """Arms a cut at a transaction's COMMIT: on the first connection that sends a
        message holding every byte string of ``marker`` (``b"INSERT", b"_events"``: the
        event store's insert), its next COMMIT reaches the server, the server's answer is
        dropped, and everything is cut as by ``cut(mode)``. The write is then committed and
        the client never learns it (``cut_done`` is set once it happened)."""
        with self._lock:
            self._armed = (marker, mode)
            self._marked.clear()
            self._muted.clear()
            self.cut_done.clear()

    def _watch(self, pair: Pair, data: bytes, upstream: bool) -> bool:
        """Whether ``data`` may pass; cuts when an armed COMMIT has been answered."""
        with self._lock:
            armed = self._armed
            if armed is None:
                return True
            marker, mode = armed
            if not upstream:
                if pair not in self._muted:
                    return True
                self._armed = None  # the server answered the COMMIT: drop it and cut
        if not upstream:
            self.cut(mode)
            self.cut_done.set()
            return False
        with self._lock:
            if all(part in data for part in marker):
                self._marked.add(pair)
            elif pair in self._marked and b"COMMIT" in data:
                self._muted.add(pair)
        return True

    def restore(self) -> None:
        """Connections pass through again (black-holed ones held meanwhile are closed)."""
        with self._lock:
            self._mode = None
            held = list(self._pairs)
            self._pairs = {pair for pair in held if pair[1] is not None}
            listening = self._listener is not None
        for pair in held:
            if pair[1] is None:
                _close_pair(pair)
        if not listening:
            self._listen()

    def open_count(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._close_listener()
            pairs = list(self._pairs)
            self._pairs.clear()
        for pair in pairs:
            _close_pair(pair)

    def __enter__(self) -> "DbProxy":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="db-proxy-accept").start()

    def _close_listener(self) -> None:
        if self._listener is not None:
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed: a cut or the end
            with self._lock:
                self.connections += 1
                mode, stopping = self._mode, self._stopping
            if stopping:
                client.close()
                return
            if mode == "blackhole":
                with self._lock:
                    self._pairs.add((client, None))  # held open, never answered
                continue
            if mode == "refuse":
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
            for source, sink, upstream in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(pair, source, sink, upstream), daemon=True).start()

    def _pump(self, pair: Pair, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data or not self._watch(pair, data, upstream):
                    break
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        _close_pair(pair)


def _close_pair(pair: Pair) -> None:
    for end in pair:
        if end is None:
            continue
        with suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()


@contextmanager
def proxied(upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> Iterator[DbProxy]:
    """A proxy for the block, closed afterwards."""
    proxy = DbProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
