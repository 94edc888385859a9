"""Deployment over SSH against a real SSH server on loopback (tests/deployments/ssh_server.py).

The server's SFTP is rooted in the test's temporary directory, so the remote "/chain.pem" is
``root / "chain.pem"``, and its reload commands run there as real shell commands.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import shutil
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from deployments.ssh import SshFailure, SshTarget, deploy_over_ssh, host_key_fingerprint
from tests.deployments.ssh_server import LoopbackSSHServer

OLD_CHAIN = "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n"
NEW_CHAIN = (
    "-----BEGIN CERTIFICATE-----\nNEW leaf\n-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\nNEW intermediate\n-----END CERTIFICATE-----\n"
)
OLD_KEY = "-----BEGIN PRIVATE KEY-----\nOLD\n-----END PRIVATE KEY-----\n"
# Copies the chain to served.pem (what "the server serves"); fails while the new one is there.
RELOAD_FAILING_ON_NEW = (
    "cat chain.pem > served.pem; "
    "if grep -q NEW chain.pem; then "
    "for n in 1 2 3 4 5 6; do echo nginx: error line $n >&2; done; exit 1; fi"
)


def _ed25519_pair(private_format=serialization.PrivateFormat.OpenSSH) -> tuple[str, str]:
    """A client key as the deploy core makes it: private PEM, public OpenSSH line."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public


def _deployed_key_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _secret_lines(*pems: str) -> list[str]:
    return [line for pem in pems for line in pem.splitlines() if "-----" not in line]


@pytest.fixture(scope="session")
def host_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture(scope="session")
def client_key() -> tuple[str, str]:
    return _ed25519_pair()


@pytest.fixture
def root(tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    return remote


@pytest.fixture
def ssh_server(host_key, client_key, root):
    with LoopbackSSHServer(host_key=host_key, authorized_key=client_key[1], root=root) as server:
        yield server


def _host_key_line(key: asyncssh.SSHKey) -> str:
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def _target(server: LoopbackSSHServer, client_key: tuple[str, str], **changes) -> SshTarget:
    settings = {
        "address": server.host,
        "port": server.port,
        "username": "deploy",
        "client_key_pem": client_key[0],
        "pinned_host_key": _host_key_line(server.host_key),
        "chain_path": "/chain.pem",
        "chain_mode": 0o644,
        "key_path": "/key.pem",
        "key_mode": 0o600,
        "reload_command": "cat chain.pem > served.pem",
        "timeout": 5.0,
    } | changes
    return SshTarget(**settings)


def _put_previous_files(root) -> None:
    (root / "chain.pem").write_text(OLD_CHAIN)
    (root / "chain.pem").chmod(0o640)
    (root / "key.pem").write_text(OLD_KEY)
    (root / "key.pem").chmod(0o400)
    (root / "served.pem").write_text(OLD_CHAIN)


def _mode(path) -> int:
    return path.stat().st_mode & 0o7777


def _no_temporary_files(root) -> bool:
    return not [path.name for path in root.iterdir() if path.name.endswith(".tmp")]


def _never_called() -> None:
    raise AssertionError("verify() must not be called")


def test_files_are_written_with_their_contents_and_modes_and_the_reload_command_run(
    ssh_server, client_key, root
):
    _put_previous_files(root)
    key_pem = _deployed_key_pem()
    verified = []

    reload = "test -f chain.pem && test -f key.pem && cat chain.pem > served.pem"

    outcome = deploy_over_ssh(
        _target(ssh_server, client_key, reload_command=reload),
        chain_pem=NEW_CHAIN,
        key_pem=key_pem,
        verify=lambda: verified.append((root / "served.pem").read_text()),
    )

    assert (root / "chain.pem").read_text() == NEW_CHAIN
    assert (root / "key.pem").read_text() == key_pem
    assert _mode(root / "chain.pem") == 0o644
    assert _mode(root / "key.pem") == 0o600
    assert ssh_server.commands == [reload]
    # verify() ran once, after the reload.
    assert verified == [NEW_CHAIN]
    assert _no_temporary_files(root)
    assert outcome.host_key == _host_key_line(ssh_server.host_key)


def test_a_caller_with_a_running_event_loop_is_served_from_a_thread(ssh_server, client_key, root):
    reload = "cat chain.pem > served.pem"

    async def deploy_from_a_coroutine():
        return deploy_over_ssh(
            _target(ssh_server, client_key, reload_command=reload),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=lambda: None,
        )

    # In a thread of its own: this one may already run a loop (Playwright's, in the suite).
    with ThreadPoolExecutor(max_workers=1) as pool:
        outcome = pool.submit(asyncio.run, deploy_from_a_coroutine()).result()

    assert (root / "served.pem").read_text() == NEW_CHAIN
    assert outcome.host_key == _host_key_line(ssh_server.host_key)


def test_files_go_into_a_directory_of_the_remote_tree(ssh_server, client_key, root):
    (root / "etc" / "nginx").mkdir(parents=True)

    deploy_over_ssh(
        _target(
            ssh_server,
            client_key,
            chain_path="/etc/nginx/fullchain.pem",
            key_path=None,
            reload_command="cat etc/nginx/fullchain.pem > served.pem",
        ),
        chain_pem=NEW_CHAIN,
        key_pem=None,
        verify=lambda: None,
    )

    assert (root / "etc" / "nginx" / "fullchain.pem").read_text() == NEW_CHAIN
    assert (root / "served.pem").read_text() == NEW_CHAIN
    assert sorted(path.name for path in (root / "etc" / "nginx").iterdir()) == ["fullchain.pem"]


def test_a_pkcs8_client_key_is_accepted(host_key, root):
    private, public = _ed25519_pair(serialization.PrivateFormat.PKCS8)
    with LoopbackSSHServer(host_key=host_key, authorized_key=public, root=root) as server:
        deploy_over_ssh(
            _target(server, (private, public), key_path=None, reload_command="true"),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=lambda: None,
        )

    assert (root / "chain.pem").read_text() == NEW_CHAIN


def test_the_host_key_is_reported_on_first_use_with_its_ssh_keygen_fingerprint(
    ssh_server, client_key, root, tmp_path
):
    outcome = deploy_over_ssh(
        _target(ssh_server, client_key, pinned_host_key=None),
        chain_pem=NEW_CHAIN,
        key_pem=None,
        verify=lambda: None,
    )

    assert outcome.host_key == _host_key_line(ssh_server.host_key)
    # The fingerprint worked out independently: SHA-256 of the SSH wire blob of the key
    # (string "ssh-ed25519", string <32 raw bytes>, RFC 8709), base64 without padding.
    raw = ssh_server.host_key.pyca_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    blob = b"".join(struct.pack(">I", len(part)) + part for part in (b"ssh-ed25519", raw))
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert outcome.fingerprint == expected
    assert host_key_fingerprint(outcome.host_key) == expected
    if shutil.which("ssh-keygen"):
        public_file = tmp_path / "host_key.pub"
        public_file.write_text(outcome.host_key + " host\n")
        shown = subprocess.run(
            ["ssh-keygen", "-lf", str(public_file)], capture_output=True, text=True, check=True
        ).stdout
        assert shown.split()[1] == expected


def test_a_pinned_host_key_that_differs_is_refused_before_any_file_is_written(
    ssh_server, client_key, root
):
    _put_previous_files(root)
    other = _host_key_line(asyncssh.generate_private_key("ssh-ed25519"))

    with pytest.raises(SshFailure) as refused:
        deploy_over_ssh(
            _target(ssh_server, client_key, pinned_host_key=other),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=_never_called,
        )

    seen = _host_key_line(ssh_server.host_key)
    assert refused.value.reason == (
        f"host key changed (expected {host_key_fingerprint(other)}, "
        f"got {host_key_fingerprint(seen)})"
    )
    assert refused.value.host_key == seen
    assert refused.value.rolled_back is False
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert (root / "key.pem").read_text() == OLD_KEY
    assert ssh_server.commands == []


def test_a_pinned_key_of_another_algorithm_than_the_servers_is_refused_as_changed(
    ssh_server, client_key, root
):
    other = _host_key_line(asyncssh.generate_private_key("ecdsa-sha2-nistp256"))

    with pytest.raises(SshFailure) as refused:
        deploy_over_ssh(
            _target(ssh_server, client_key, pinned_host_key=other),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    seen = _host_key_line(ssh_server.host_key)
    assert refused.value.reason == (
        f"host key changed (expected {host_key_fingerprint(other)}, "
        f"got {host_key_fingerprint(seen)})"
    )
    assert refused.value.host_key == seen
    assert not (root / "chain.pem").exists()


def test_a_failing_reload_puts_the_previous_files_back_and_reloads_again(
    ssh_server, client_key, root
):
    _put_previous_files(root)

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command=RELOAD_FAILING_ON_NEW),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=_never_called,
        )

    assert failed.value.reason == (
        "reload exited 1: nginx: error line 2 / nginx: error line 3 / nginx: error line 4 / "
        "nginx: error line 5 / nginx: error line 6; the previous files were put back"
    )
    assert failed.value.rolled_back is True
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert (root / "key.pem").read_text() == OLD_KEY
    assert _mode(root / "chain.pem") == 0o640
    assert _mode(root / "key.pem") == 0o400
    # The reload ran again, with the previous files.
    assert ssh_server.commands == [RELOAD_FAILING_ON_NEW, RELOAD_FAILING_ON_NEW]
    assert (root / "served.pem").read_text() == OLD_CHAIN
    assert _no_temporary_files(root)


def test_a_reload_failing_with_the_previous_files_too_says_so(ssh_server, client_key, root):
    _put_previous_files(root)

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command="echo broken >&2; exit 3"),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    assert failed.value.reason == (
        "reload exited 3: broken; the previous files were put back, "
        "but reload exited 3: broken again"
    )
    assert failed.value.rolled_back is True
    assert (root / "chain.pem").read_text() == OLD_CHAIN


def test_verify_raising_rolls_back_with_its_reason(ssh_server, client_key, root):
    _put_previous_files(root)
    seen_while_verifying = []

    def verify():
        seen_while_verifying.append((root / "served.pem").read_text())
        raise RuntimeError("the server presents SHA256:ab12, not the deployed certificate")

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command="cat chain.pem > served.pem"),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=verify,
        )

    assert failed.value.reason == (
        "the server presents SHA256:ab12, not the deployed certificate; "
        "the previous files were put back"
    )
    assert failed.value.rolled_back is True
    assert failed.value.host_key == _host_key_line(ssh_server.host_key)
    assert seen_while_verifying == [NEW_CHAIN]
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert (root / "key.pem").read_text() == OLD_KEY
    assert ssh_server.commands == ["cat chain.pem > served.pem"] * 2
    assert (root / "served.pem").read_text() == OLD_CHAIN


def test_a_connection_lost_while_verifying_is_made_again_to_roll_back(ssh_server, client_key, root):
    _put_previous_files(root)

    def verify():
        ssh_server.drop_connections()
        raise RuntimeError("the server presents the old certificate")

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=verify,
        )

    assert failed.value.reason == (
        "the server presents the old certificate; the previous files were put back"
    )
    assert failed.value.rolled_back is True
    assert len(ssh_server.connections) == 2
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert (root / "key.pem").read_text() == OLD_KEY
    assert (root / "served.pem").read_text() == OLD_CHAIN


def test_a_file_that_did_not_exist_before_is_removed_on_rollback(ssh_server, client_key, root):
    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command=RELOAD_FAILING_ON_NEW),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=_never_called,
        )

    assert failed.value.rolled_back is True
    assert not (root / "chain.pem").exists()
    assert not (root / "key.pem").exists()
    assert sorted(path.name for path in root.iterdir()) == ["served.pem"]


def test_a_write_that_fails_puts_back_the_files_already_written(ssh_server, client_key, root):
    _put_previous_files(root)

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, key_path="/missing/key.pem"),
            chain_pem=NEW_CHAIN,
            key_pem=_deployed_key_pem(),
            verify=_never_called,
        )

    assert failed.value.reason == (
        "could not write /missing/key.pem: no such file or directory; "
        "the previous files were put back"
    )
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert _no_temporary_files(root)


def test_connection_refused_is_a_plain_reason(client_key):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = SshTarget(
        address="127.0.0.1",
        port=port,
        username="deploy",
        client_key_pem=client_key[0],
        pinned_host_key=None,
        chain_path="/chain.pem",
        chain_mode=0o644,
        key_path=None,
        key_mode=0o600,
        reload_command="true",
    )

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(target, chain_pem=NEW_CHAIN, key_pem=None, verify=_never_called)

    assert failed.value.reason == "connection refused"
    assert failed.value.rolled_back is False
    assert failed.value.host_key is None


def test_a_wrong_client_key_is_authentication_failed(ssh_server, client_key, root):
    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, _ed25519_pair()),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    assert failed.value.reason == "authentication failed"
    assert not (root / "chain.pem").exists()


def test_a_reload_that_outlasts_the_timeout_times_out_and_is_rolled_back(
    ssh_server, client_key, root
):
    _put_previous_files(root)
    reload = "if grep -q NEW chain.pem; then sleep 30; fi; cat chain.pem > served.pem"
    started = time.monotonic()

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command=reload, timeout=1.5),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    # 1.5 s for the deployment, then the rollback's own quick reload.
    assert time.monotonic() - started < 5
    assert failed.value.reason == "timed out after 1.5 s; the previous files were put back"
    assert failed.value.rolled_back is True
    assert (root / "chain.pem").read_text() == OLD_CHAIN
    assert (root / "served.pem").read_text() == OLD_CHAIN


def test_a_server_that_never_answers_times_out(client_key):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts; nothing ever speaks SSH
        target = SshTarget(
            address="127.0.0.1",
            port=silent.getsockname()[1],
            username="deploy",
            client_key_pem=client_key[0],
            pinned_host_key=None,
            chain_path="/chain.pem",
            chain_mode=0o644,
            key_path=None,
            key_mode=0o600,
            reload_command="true",
            timeout=0.5,
        )
        started = time.monotonic()

        with pytest.raises(SshFailure) as failed:
            deploy_over_ssh(target, chain_pem=NEW_CHAIN, key_pem=None, verify=_never_called)

    assert time.monotonic() - started < 3
    assert failed.value.reason == "timed out after 0.5 s"
    assert failed.value.rolled_back is False


def test_key_material_never_appears_in_reasons_or_log_records(ssh_server, client_key, root, caplog):
    caplog.set_level(logging.DEBUG)
    key_pem = _deployed_key_pem()
    reasons = []
    # A reload that shows the key on its stderr, one that fails after the key is written,
    # a verification naming nothing secret, a rejected client key, and a success.
    attempts = [
        (_target(ssh_server, client_key, reload_command="cat key.pem >&2; exit 1"), None),
        (_target(ssh_server, client_key, reload_command="cat /dev/null"), RuntimeError("no")),
        (_target(ssh_server, _ed25519_pair()), None),
        (_target(ssh_server, client_key, pinned_host_key=None), None),
    ]
    for target, verify_error in attempts:

        def verify(error=verify_error):
            if error:
                raise error

        try:
            deploy_over_ssh(target, chain_pem=NEW_CHAIN, key_pem=key_pem, verify=verify)
        except SshFailure as failure:
            reasons.append(failure.reason)

    assert reasons == [
        "reload exited 1: [key material removed]; the previous files were put back, "
        "but reload exited 1: cat: key.pem: No such file or directory again",
        "no; the previous files were put back",
        "authentication failed",
    ]
    logged = "\n".join([record.getMessage() for record in caplog.records] + [caplog.text] + reasons)
    assert caplog.records
    for line in _secret_lines(key_pem, client_key[0]):
        assert line not in logged
    assert "PRIVATE KEY" not in logged


def test_a_key_without_a_path_on_the_target_is_refused_before_connecting(client_key):
    target = SshTarget(
        address="127.0.0.1",
        port=9,
        username="deploy",
        client_key_pem=client_key[0],
        pinned_host_key=None,
        chain_path="/chain.pem",
        chain_mode=0o644,
        key_path=None,
        key_mode=0o600,
        reload_command="true",
    )

    with pytest.raises(SshFailure) as refused:
        deploy_over_ssh(
            target, chain_pem=NEW_CHAIN, key_pem=_deployed_key_pem(), verify=_never_called
        )

    assert refused.value.reason == "the target has no path for the private key"


def test_a_host_key_fingerprint_needs_an_openssh_line():
    with pytest.raises(ValueError):
        host_key_fingerprint("not a key")
    with pytest.raises(ValueError):
        host_key_fingerprint("ssh-ed25519 !!!")


def test_the_ssh_transport_imports_no_django():
    script = (
        "import sys, deployments.ssh\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    root = Path(__file__).resolve().parent.parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_reload_writing_much_to_stderr_gives_a_bounded_reason(ssh_server, client_key, root):
    reload = (
        "head -c 3000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo '\x01\x1b[31mbad' >&2; exit 2"
    )

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, client_key, reload_command=reload),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    assert failed.value.reason.startswith("reload exited 2: xxx")
    assert len(failed.value.reason) < 1000
    # Control characters from the command are not passed on.
    assert "\x1b" not in failed.value.reason and "\x01" not in failed.value.reason
    assert " / ??[31mbad;" in failed.value.reason


def test_a_current_file_larger_than_a_mebibyte_is_not_replaced(ssh_server, client_key, root):
    (root / "chain.pem").write_bytes(b"x" * (1024 * 1024 + 1))

    with pytest.raises(SshFailure) as refused:
        deploy_over_ssh(
            _target(ssh_server, client_key),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    assert refused.value.reason == "/chain.pem is larger than 1 MiB; not replacing it"
    assert refused.value.rolled_back is False
    assert (root / "chain.pem").stat().st_size == 1024 * 1024 + 1
    assert ssh_server.commands == []


def test_an_unreadable_client_key_is_a_plain_reason(ssh_server, client_key, root):
    lines = client_key[0].splitlines()
    damaged = "\n".join([lines[0], lines[1][:20], lines[-1]]) + "\n"  # cut short

    with pytest.raises(SshFailure) as failed:
        deploy_over_ssh(
            _target(ssh_server, (damaged, client_key[1])),
            chain_pem=NEW_CHAIN,
            key_pem=None,
            verify=_never_called,
        )

    assert failed.value.reason == "the client key could not be read"
    assert not (root / "chain.pem").exists()
