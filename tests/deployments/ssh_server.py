"""A real SSH server on loopback for the SSH deployment's tests (asyncssh, in-process).

It runs on an event loop of its own in a background thread, so the synchronous client under
test connects to it as to any server::

    with LoopbackSSHServer(host_key=..., authorized_key=public_line, root=tmp_path) as server:
        deploy_over_ssh(SshTarget(address=server.host, port=server.port, ...), ...)

It listens on a free port, or on ``port`` (the port of a stopped one, for a "restart"). It
accepts one client public key (an OpenSSH line) for any user name. SFTP is rooted in
``root`` (asyncssh's chroot: the client's "/chain.pem" is ``root / "chain.pem"``), and an exec
request runs as a real shell command with ``root`` as its working directory, so a reload
command such as ``test -f chain.pem && cat chain.pem > served.pem`` or ``exit 1`` behaves for
real; its stdout, stderr and exit status go back to the client. ``commands`` lists the
commands run. Commands still running when the server stops are killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Self

import asyncssh


class LoopbackSSHServer:
    def __init__(
        self, *, host_key: asyncssh.SSHKey, authorized_key: str, root: Path, port: int = 0
    ) -> None:
        self.host_key = host_key
        self._requested_port = port
        self.authorized_key = authorized_key
        self.root = root
        self.commands: list[str] = []
        self._subprocesses: set[asyncio.subprocess.Process] = set()
        self._handlers: set[asyncio.Task] = set()
        self.connections: list[asyncssh.SSHServerConnection] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="loopback-ssh")
        self._acceptor: asyncssh.SSHAcceptor | None = None

    def start(self) -> Self:
        self._thread.start()
        self._acceptor = self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._loop.is_closed():
            return  # stopped already
        self._call(self._shut_down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def drop_connections(self) -> None:
        """Close every client connection from the server's side (a restart, a network cut)."""
        self._call(self._drop_connections())

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._acceptor.get_port()

    # --- on the server's loop ---

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            "127.0.0.1",
            self._requested_port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self.authorized_key + "\n"),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root)),
            process_factory=self._run_command,
            acceptor=self.connections.append,
            # Only public-key authentication, as a deployment server would have it.
            password_auth=False,
            kbdint_auth=False,
            gss_host=None,
            allow_scp=False,
        )

    async def _drop_connections(self) -> None:
        for connection in self.connections:
            connection.close()
            await connection.wait_closed()

    async def _shut_down(self) -> None:
        for subprocess in list(self._subprocesses):
            if subprocess.returncode is None:
                # The shell and whatever it started (a "sleep" keeps the pipes open).
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(subprocess.pid, signal.SIGKILL)
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        self._acceptor.close()
        await self._acceptor.wait_closed()

    async def _run_command(self, process: asyncssh.SSHServerProcess) -> None:
        self.commands.append(process.command)
        handler = asyncio.current_task()
        self._handlers.add(handler)
        try:
            await self._run_in_root(process)
        finally:
            self._handlers.discard(handler)

    async def _run_in_root(self, process: asyncssh.SSHServerProcess) -> None:
        subprocess = await asyncio.create_subprocess_shell(
            process.command,
            cwd=self.root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._subprocesses.add(subprocess)
        try:
            stdout, stderr = await subprocess.communicate()
        finally:
            self._subprocesses.discard(subprocess)
        try:
            process.stdout.write(stdout.decode(errors="replace"))
            process.stderr.write(stderr.decode(errors="replace"))
            process.exit(subprocess.returncode if subprocess.returncode >= 0 else 255)
        except (asyncssh.Error, OSError, BrokenPipeError):
            pass  # the client has gone (it timed out)
