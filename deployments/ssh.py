"""Deployment over SSH: the chain and key written by SFTP, a reload command run, rollback.

No Django here: the deployment jobs call :func:`deploy_over_ssh` with an :class:`SshTarget`
(the address already resolved and checked against the address policy, the client key
decrypted) and get an :class:`SshOutcome` or an :class:`SshFailure` whose ``reason`` is plain
words for the customer. The API is synchronous; asyncssh runs on an event loop of its own
for the length of one call (so it must not be called from a running event loop).

The steps, all over one connection:

1. Connect. With a pinned host key only that key is accepted, checked in the handshake
   before the client key is offered (a changed key fails here, before anything is
   written); without one any key is accepted and reported, to be pinned.
2. Read the current remote files (contents and mode, at most 1 MiB each) into memory:
   "copied aside".
3. Write each new file atomically: a temporary file in the same directory, created with
   the target mode and chmod-ed to it, then renamed over the path (POSIX rename). The
   file is then owned by the SSH user, as any file it writes.
4. Run the reload command; its exit status is checked.
5. Call ``verify()`` (the caller's check that the server now presents the certificate),
   still connected and outside the event loop, in the caller's thread.

If a write fails, the reload fails, ``verify()`` raises or time runs out after writing
began, the previous files are put back the same atomic way (a file that did not exist before is
removed) and the reload is run again: a rollback, with a time budget of its own.

``timeout`` bounds connect, transfer and reload together. Neither key is ever logged or
put in a reason; lines of the reload's stderr that show key material are blanked out.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import posixpath
import secrets
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import asyncssh
from asyncssh.public_key import get_default_public_key_algs

logger = logging.getLogger(__name__)

# The most a current remote file may hold to be copied aside (certificates and keys are a
# few kilobytes; anything bigger is not what the path should name).
MAX_REMOTE_FILE_BYTES = 1024 * 1024
# How much of the reload command's stderr is kept, and how many of its last lines a reason shows.
MAX_STDERR_CHARS = 64 * 1024
STDERR_LINES = 5
MAX_STDERR_LINE_CHARS = 300
REDACTED = "[key material removed]"


@dataclass(frozen=True)
class SshTarget:
    address: str  # IP literal (resolved and checked against the address policy by the caller)
    port: int
    username: str
    client_key_pem: str  # OpenSSH or PKCS#8 PEM, unencrypted
    pinned_host_key: str | None  # an OpenSSH public key line; None: first use, accept and report
    chain_path: str  # remote path of the full chain PEM (leaf + intermediates)
    chain_mode: int
    key_path: str | None  # remote path of the private key; None when the console holds no key
    key_mode: int
    reload_command: str
    timeout: float = 30.0  # bound on connect + transfer + reload


@dataclass(frozen=True)
class SshOutcome:
    host_key: str  # the server's host key as an OpenSSH line ("ssh-ed25519 AAAA...")
    fingerprint: str  # "SHA256:<base64 without padding>", as ssh-keygen -l shows it


class SshFailure(Exception):
    """A deployment over SSH that did not succeed, with its reason in plain words."""

    def __init__(self, reason: str, *, rolled_back: bool = False, host_key: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.rolled_back = rolled_back
        self.host_key = host_key


def host_key_fingerprint(openssh_line: str) -> str:
    """The SHA-256 fingerprint of an OpenSSH public key line, as ``ssh-keygen -l`` shows it."""
    fields = openssh_line.split()
    if len(fields) < 2:
        raise ValueError("not an OpenSSH public key line")
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except binascii.Error as exc:
        raise ValueError("not an OpenSSH public key line") from exc
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def deploy_over_ssh(
    target: SshTarget,
    *,
    chain_pem: str,
    key_pem: str | None,
    verify: Callable[[], None],
) -> SshOutcome:
    """Write the chain (and the key) to the target, reload, verify; roll back on failure.

    Synchronous: the worker calls it with no event loop of its own. Called from a thread
    that runs one (an async caller, a test beside Playwright's loop), it runs in a thread
    of its own, `verify` with it.
    """
    if _loop_running():
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(
                deploy_over_ssh, target, chain_pem=chain_pem, key_pem=key_pem, verify=verify
            ).result()
    files = [_RemoteFile(target.chain_path, target.chain_mode, chain_pem.encode())]
    if key_pem is not None:
        if target.key_path is None:
            raise SshFailure("the target has no path for the private key")
        if target.key_path == target.chain_path:
            raise SshFailure("the chain and the key need two different paths")
        files.append(_RemoteFile(target.key_path, target.key_mode, key_pem.encode()))
    secret_texts = [target.client_key_pem] + ([key_pem] if key_pem else [])
    deployment = _Deployment(target, files, secret_texts)
    logger.info(
        "Deploying over SSH to %s port %d: %s",
        target.address,
        target.port,
        ", ".join(f.path for f in files),
    )
    with asyncio.Runner() as runner:
        try:
            runner.run(deployment.connect_write_reload())
            try:
                verify()
            except Exception as exc:
                reason = str(exc) or "the verification failed"
                runner.run(deployment.roll_back_and_raise(reason))
            return deployment.outcome()
        except SshFailure as failure:
            logger.info("Deployment over SSH to %s failed: %s", target.address, failure.reason)
            raise
        finally:
            runner.run(deployment.close())


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class _RemoteFile:
    path: str
    mode: int
    contents: bytes
    # What was there before: None until read, then (contents, mode), or False if no file.
    previous: tuple[bytes, int] | bool | None = None
    # The rename over the path was asked for: only then may the path have changed.
    written: bool = False


class _Deployment:
    def __init__(self, target: SshTarget, files: list[_RemoteFile], secret_texts: list[str]):
        self.target = target
        self.files = files
        self._secret_lines = {
            line.strip()
            for text in secret_texts
            for line in text.splitlines()
            if len(line.strip()) >= 16
        }
        self.conn: asyncssh.SSHClientConnection | None = None
        self.host_key: str | None = None
        self.seen_key: str | None = None  # a key offered that was not the pinned one
        self.touched = False  # a file may have been changed: a failure now rolls back
        self.temporaries: set[str] = set()  # temporary files possibly left on the server

    # --- the steps ---

    async def connect_write_reload(self) -> None:
        timeout = self.target.timeout
        try:
            async with asyncio.timeout(timeout):
                await self._connect(self.target.pinned_host_key)
                sftp = await self.conn.start_sftp_client()
                try:
                    for file in self.files:
                        await self._copy_aside(sftp, file)
                    for file in self.files:
                        self.touched = True
                        await self._write(sftp, file.path, file.contents, file.mode, file)
                finally:
                    sftp.exit()
                status, stderr = await self._run_reload()
        except SshFailure as failure:
            if not self.touched:
                raise
            await self.roll_back_and_raise(failure.reason)
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            reason = (
                f"timed out after {timeout:g} s"
                if isinstance(exc, TimeoutError)
                else (_plain_error(exc))
            )
            if not self.touched:
                raise self._failure(reason) from None
            await self.roll_back_and_raise(reason)
        if status != 0:
            await self.roll_back_and_raise(self._reload_reason(status, stderr))

    async def roll_back_and_raise(self, reason: str) -> None:
        try:
            async with asyncio.timeout(self.target.timeout):
                sftp = await self._sftp_for_rollback()
                try:
                    for file in self.files:
                        await self._put_back(sftp, file)
                    for temporary in list(self.temporaries):
                        with contextlib.suppress(asyncssh.SFTPError):
                            await sftp.remove(temporary)
                finally:
                    sftp.exit()
        except (TimeoutError, SshFailure, asyncssh.Error, OSError) as exc:
            detail = exc.reason if isinstance(exc, SshFailure) else _plain_error(exc)
            raise self._failure(
                f"{reason}; putting the previous files back failed: {detail}"
            ) from None
        try:
            async with asyncio.timeout(self.target.timeout):
                status, stderr = await self._run_reload()
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            raise self._failure(
                f"{reason}; the previous files were put back, but reloading them failed: "
                f"{_plain_error(exc)}",
                rolled_back=True,
            ) from None
        if status != 0:
            raise self._failure(
                f"{reason}; the previous files were put back, but "
                f"{self._reload_reason(status, stderr)} again",
                rolled_back=True,
            )
        raise self._failure(f"{reason}; the previous files were put back", rolled_back=True)

    async def _sftp_for_rollback(self) -> asyncssh.SFTPClient:
        if not self.conn.is_closed():
            try:
                return await self.conn.start_sftp_client()
            except (asyncssh.Error, OSError):
                pass  # the connection was lost (while verifying, say): connect again
        await self._connect(self.host_key)
        return await self.conn.start_sftp_client()

    async def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            try:
                async with asyncio.timeout(5):
                    await self.conn.wait_closed()
            except (TimeoutError, asyncssh.Error, OSError):
                pass

    def outcome(self) -> SshOutcome:
        return SshOutcome(host_key=self.host_key, fingerprint=host_key_fingerprint(self.host_key))

    # --- connecting ---

    async def _connect(self, pinned_line: str | None) -> None:
        target = self.target
        try:
            client_key = asyncssh.import_private_key(target.client_key_pem)
        except (asyncssh.KeyImportError, ValueError):
            raise self._failure("the client key could not be read") from None
        pinned = None
        host_key_algorithms: str | list[str] = ()
        if pinned_line is not None:
            try:
                pinned = asyncssh.import_public_key(pinned_line)
            except (asyncssh.KeyImportError, ValueError):
                raise self._failure("the pinned host key could not be read") from None
            # The pinned key's algorithms first, then the others: a server that has the
            # pinned key shows it, one that no longer has one of its kind shows another key
            # (reported as changed) rather than ending the handshake.
            preferred = list(pinned.sig_algorithms)
            host_key_algorithms = [
                algorithm.decode()
                for algorithm in preferred
                + [a for a in get_default_public_key_algs() if a not in preferred]
            ]
        try:
            self.conn, _client = await asyncssh.create_connection(
                lambda: _HostKeyWatcher(self),
                target.address,
                target.port,
                username=target.username,
                client_keys=[client_key],
                # Only the pinned key, else any key (reported, to be pinned).
                known_hosts=None if pinned is None else ([pinned], [], []),
                server_host_key_algs=host_key_algorithms,
                # Nothing from the console's own SSH setup: no agent, no config, no password.
                agent_path=None,
                config=None,
                password=None,
                kbdint_auth=False,
                gss_host=None,
                preferred_auth="publickey",
            )
        except asyncssh.HostKeyNotVerifiable:
            raise self._changed_key(pinned_line, self.seen_key) from None
        except asyncssh.KeyExchangeFailed as exc:
            if pinned is not None:
                # The server offers no key of the pinned key's algorithm any more.
                raise self._changed_key(pinned_line, None) from None
            raise self._failure(f"the SSH handshake failed: {exc.reason}") from None
        except asyncssh.PermissionDenied:
            raise self._failure("authentication failed") from None
        except (asyncssh.Error, OSError, ValueError) as exc:
            raise self._failure(_plain_error(exc)) from None
        host_key = _openssh_line(self.conn.get_server_host_key())
        if pinned_line is not None and not _same_key(host_key, pinned_line):
            raise self._changed_key(pinned_line, host_key)
        self.host_key = host_key

    def _changed_key(self, pinned_line: str, seen: str | None) -> SshFailure:
        expected = host_key_fingerprint(pinned_line)
        if seen is None:
            algorithm = pinned_line.split()[0]
            return self._failure(
                f"host key changed (expected {expected}, the server no longer offers a "
                f"{algorithm} key)"
            )
        self.host_key = seen
        return self._failure(
            f"host key changed (expected {expected}, got {host_key_fingerprint(seen)})"
        )

    # --- the files ---

    async def _copy_aside(self, sftp: asyncssh.SFTPClient, file: _RemoteFile) -> None:
        try:
            attrs = await sftp.stat(file.path)
        except asyncssh.SFTPNoSuchFile:
            file.previous = False
            return
        except asyncssh.SFTPError as exc:
            raise self._failure(f"could not read {file.path}: {_sftp_words(exc)}") from None
        if attrs.permissions is not None and not stat.S_ISREG(attrs.permissions):
            raise self._failure(f"{file.path} is not a regular file")
        if attrs.size is not None and attrs.size > MAX_REMOTE_FILE_BYTES:
            raise self._failure(f"{file.path} is larger than 1 MiB; not replacing it")
        try:
            async with sftp.open(file.path, "rb", encoding=None) as handle:
                contents = await handle.read(MAX_REMOTE_FILE_BYTES + 1)
        except asyncssh.SFTPError as exc:
            raise self._failure(f"could not read {file.path}: {_sftp_words(exc)}") from None
        if len(contents) > MAX_REMOTE_FILE_BYTES:
            raise self._failure(f"{file.path} is larger than 1 MiB; not replacing it")
        file.previous = (contents, (attrs.permissions or 0o600) & 0o7777)

    async def _put_back(self, sftp: asyncssh.SFTPClient, file: _RemoteFile) -> None:
        if not file.written:
            return  # the path was never replaced
        if file.previous is False:
            try:
                await sftp.remove(file.path)
            except asyncssh.SFTPNoSuchFile:
                pass
            except asyncssh.SFTPError as exc:
                raise self._failure(f"could not remove {file.path}: {_sftp_words(exc)}") from None
            return
        contents, mode = file.previous
        await self._write(sftp, file.path, contents, mode)

    async def _write(
        self,
        sftp: asyncssh.SFTPClient,
        path: str,
        contents: bytes,
        mode: int,
        file: _RemoteFile | None = None,
    ) -> None:
        """A temporary file beside ``path`` with ``mode``, renamed over it (POSIX rename)."""
        directory, name = posixpath.split(path)
        temporary = posixpath.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        self.temporaries.add(temporary)
        try:
            async with sftp.open(
                temporary, "wb", attrs=asyncssh.SFTPAttrs(permissions=mode), encoding=None
            ) as handle:
                await handle.write(contents)
            await sftp.chmod(temporary, mode)
            if file is not None:
                file.written = True
            await sftp.posix_rename(temporary, path)
        except asyncssh.SFTPError as exc:
            try:
                await sftp.remove(temporary)
            except asyncssh.SFTPError:
                pass
            else:
                self.temporaries.discard(temporary)
            raise self._failure(f"could not write {path}: {_sftp_words(exc)}") from None
        self.temporaries.discard(temporary)

    # --- the reload ---

    async def _run_reload(self) -> tuple[int, str]:
        """The reload command's exit status (-1 when killed by a signal) and its stderr's tail."""
        process = await self.conn.create_process(
            self.target.reload_command, stdin=asyncssh.DEVNULL, encoding="utf-8", errors="replace"
        )
        try:
            stderr_tail, _ = await asyncio.gather(
                _tail(process.stderr, MAX_STDERR_CHARS), _tail(process.stdout, 0)
            )
            completed = await process.wait(check=False)
        finally:
            process.close()
        if completed.exit_status is None or completed.exit_signal is not None:
            return -1, stderr_tail
        return completed.exit_status, stderr_tail

    def _reload_reason(self, status: int, stderr: str) -> str:
        lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
        lines = [
            REDACTED if self._is_secret(line) else _printable(line[:MAX_STDERR_LINE_CHARS])
            for line in lines[-STDERR_LINES:]
        ]
        # Key material shown by the command, a run of lines, is one marker.
        lines = [
            line
            for index, line in enumerate(lines)
            if not (index and line == REDACTED and lines[index - 1] == REDACTED)
        ]
        what = "reload was stopped by a signal" if status < 0 else f"reload exited {status}"
        return f"{what}: {' / '.join(lines)}" if lines else what

    def _is_secret(self, line: str) -> bool:
        return "PRIVATE KEY" in line or any(
            secret in line or (len(line.strip()) >= 16 and line.strip() in secret)
            for secret in self._secret_lines
        )

    def _failure(self, reason: str, *, rolled_back: bool = False) -> SshFailure:
        return SshFailure(reason, rolled_back=rolled_back, host_key=self.host_key)


class _HostKeyWatcher(asyncssh.SSHClient):
    """Notes a host key offered that is not the pinned one, for the "host key changed" reason."""

    def __init__(self, deployment: _Deployment):
        self._deployment = deployment

    def validate_host_public_key(self, host, addr, port, key) -> bool:
        self._deployment.seen_key = _openssh_line(key)
        return False


async def _tail(stream, limit: int) -> str:
    """Read a stream to its end, keeping only its last ``limit`` characters."""
    kept = ""
    while chunk := await stream.read(8192):
        kept = (kept + chunk)[-limit:] if limit else ""
    return kept


def _printable(text: str) -> str:
    """Control characters (terminal escapes, NULs) as "?", for a reason shown on a page."""
    return "".join(char if char.isprintable() else "?" for char in text)


def _openssh_line(key: asyncssh.SSHKey) -> str:
    fields = key.export_public_key("openssh").decode().split()
    return f"{fields[0]} {fields[1]}"


def _same_key(line: str, other: str) -> bool:
    return line.split()[:2] == other.split()[:2]


def _sftp_words(exc: asyncssh.SFTPError) -> str:
    if isinstance(exc, asyncssh.SFTPPermissionDenied):
        return "permission denied"
    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return "no such file or directory"
    return _server_words(exc.reason).rstrip(".").lower() or "the server refused"


def _plain_error(exc: BaseException) -> str:
    """Plain words for a connection error (never the exception's repr)."""
    if isinstance(exc, SshFailure):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, asyncssh.ConnectionLost):
        return "the connection was lost"
    if isinstance(exc, asyncssh.DisconnectError):
        words = _server_words(exc.reason)
        return (
            f"the server closed the connection ({words})"
            if words
            else ("the server closed the connection")
        )
    if isinstance(exc, asyncssh.ChannelOpenError):
        return f"the server refused a session ({_server_words(exc.reason)})"
    if isinstance(exc, asyncssh.SFTPError):
        return _sftp_words(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "the connection failed"


def _server_words(text: str | None) -> str:
    """A message the server chose, made safe to show: printable and short."""
    return _printable((text or "").strip()[:MAX_STDERR_LINE_CHARS])
