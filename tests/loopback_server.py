"""What the loopback test servers share: a socketserver on 127.0.0.1 with an ephemeral
port, served from a background thread, started and stopped as a context manager.

``tests/dns_server.py`` and ``tests/http_server.py`` subclass it with what they serve;
their request handlers reach the subclass as ``self.server.owner``.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Self


class LoopbackServer:
    """A server on 127.0.0.1 with an ephemeral port; ``start`` serves it from a thread."""

    def __init__(
        self,
        server_class: type[socketserver.BaseServer],
        handler_class: type[socketserver.BaseRequestHandler],
        *,
        thread_name: str,
    ) -> None:
        self._server = server_class(("127.0.0.1", 0), handler_class)
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # Short polls so shutdown, and with it each test's teardown, is quick.
            kwargs={"poll_interval": 0.05},
            name=thread_name,
            daemon=True,
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    @property
    def host(self) -> str:
        return self.address[0]

    @property
    def port(self) -> int:
        return self.address[1]
