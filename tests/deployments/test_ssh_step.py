"""The SSH deployment journey, end to end: a customer's SSH target with a key the console
generated, its public line authorized on the loopback SSH server (tests/deployments/
ssh_server.py), a certificate deployed through `deployments.services` and its step run by the
worker's task, with the real transport (deployments/ssh.py).

The SSH server's SFTP is rooted in the test's `root` ("/certs/shop.pem" is
``root / "certs" / "shop.pem"``), and its reload command, a real shell command, copies the
files to "served.pem" and "served.key": what the "verify at" TLS server presents at each
handshake. So the console's check passes only when the files really arrived and were reloaded.
"""

import asyncssh
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from django.urls import reverse

from certificates.key_encryption import decrypt_private_key
from certificates.pki.parsing import load_certificates
from deployments import services
from deployments.models import DeploymentStep, Target
from deployments.services.jobs import full_chain_pem, leaf_fingerprint
from deployments.verification import fingerprint
from tests.deployments.fixtures import deploy_settings, issued
from tests.deployments.servers import FilesTLSServer
from tests.deployments.ssh_server import LoopbackSSHServer
from tests.http_server import unused_port
from tests.issuance import issue_real_certificate

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued"]

pytestmark = pytest.mark.django_db

Status = DeploymentStep.Status

# What the server's reload does: load the deployed files (here, copy them to where the TLS
# server reads them).
RELOAD = "cp certs/shop.pem served.pem && cp certs/shop.key served.key"
# The reload refusing the certificate given to `refusing` (as `nginx -t` refuses a bad one).
REFUSAL = "nginx: [emerg] cannot load certificate"


def refusing(certificate) -> str:
    marker = certificate.certificate_pem.splitlines()[3]
    return f"if grep -qF {marker} certs/shop.pem; then echo '{REFUSAL}' >&2; exit 1; fi; {RELOAD}"


@pytest.fixture(autouse=True)
def ssh_settings(deploy_settings):
    deploy_settings.DEPLOY_SSH_TIMEOUT = 5.0
    return deploy_settings


@pytest.fixture(scope="session")
def host_keys() -> tuple[asyncssh.SSHKey, asyncssh.SSHKey]:
    """The server's host key, and the one it has after a rebuild."""
    return asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key(
        "ssh-ed25519"
    )


@pytest.fixture
def root(tmp_path, rsa_leaf, intermediate_ca):
    """The server's files before the deployment: an older certificate, loaded and served."""
    remote = tmp_path / "remote"
    (remote / "certs").mkdir(parents=True)
    old_chain = rsa_leaf.cert_pem + intermediate_ca.cert_pem
    for name, contents, mode in [
        ("certs/shop.pem", old_chain, 0o640),
        ("certs/shop.key", rsa_leaf.key_pem, 0o400),
        ("served.pem", old_chain, 0o644),
        ("served.key", rsa_leaf.key_pem, 0o600),
    ]:
        (remote / name).write_text(contents)
        (remote / name).chmod(mode)
    return remote


@pytest.fixture
def tls_server(root):
    server = FilesTLSServer(root / "served.pem", root / "served.key")
    yield server
    server.stop()


@pytest.fixture
def ssh_port() -> int:
    return unused_port()


@pytest.fixture
def ssh_target(customer, tls_server, ssh_port):
    cleaned = {
        "name": "nginx",
        "kind": Target.Kind.SSH,
        "redeploy_automatically": False,
        "verify_host": "127.0.0.1",
        "verify_port": tls_server.port,
        "verify_server_name": "shop.example.com",
        "ssh_host": "127.0.0.1",
        "ssh_port": ssh_port,
        "ssh_user": "deploy",
        "chain_path": "/certs/shop.pem",
        "chain_mode": 0o644,
        "key_path": "/certs/shop.key",
        "key_mode": 0o600,
        "reload_command": RELOAD,
        "ssh_key_choice": "generate",
    }
    saved = services.save_target(owner=customer, target=None, cleaned=cleaned, actor=customer)
    assert saved.public_key == saved.target.ssh_public_key  # shown once, to be authorized
    return saved.target


def start_server(target, root, host_key) -> LoopbackSSHServer:
    """The customer's server, with the console's public line in its authorized keys."""
    return LoopbackSSHServer(
        host_key=host_key, authorized_key=target.ssh_public_key, root=root, port=target.ssh_port
    ).start()


@pytest.fixture
def ssh_server(ssh_target, root, host_keys):
    server = start_server(ssh_target, root, host_keys[0])
    yield server
    server.stop()


def deploy(customer, certificate, target, capture) -> DeploymentStep:
    """Deploy as the customer does; the step runs as the worker runs it (its task)."""
    with capture(execute=True):
        job = services.deploy(
            owner=customer, certificates=[certificate], targets=[target], actor=customer
        )
    step = job.steps.get()
    step.refresh_from_db()
    return step


def set_reload_command(customer, target, command) -> None:
    """The customer edits the target's reload command (keeping its key)."""
    target.refresh_from_db()
    fields = [
        "name",
        "kind",
        "redeploy_automatically",
        "verify_host",
        "verify_port",
        "verify_server_name",
        "ssh_host",
        "ssh_port",
        "ssh_user",
        "chain_path",
        "chain_mode",
        "key_path",
        "key_mode",
    ]
    cleaned = {name: getattr(target, name) for name in fields}
    cleaned |= {"reload_command": command, "ssh_key_choice": "keep"}
    services.save_target(owner=customer, target=target, cleaned=cleaned, actor=customer)


def files(root) -> dict[str, tuple[str, int]]:
    """Every file under the server's root: contents and mode."""
    return {
        str(path.relative_to(root)): (path.read_text(), path.stat().st_mode & 0o7777)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def key_pem_of(certificate) -> str:
    return decrypt_private_key(certificate.private_key_encrypted)


def short(issued_certificate) -> str:
    """The start of a certificate's fingerprint, as a reason shows it."""
    return fingerprint(issued_certificate.cert.public_bytes(Encoding.DER)).lower()[:11]


def test_the_first_deployment_pins_the_host_key_writes_the_files_and_succeeds(
    customer,
    customer_client,
    issued,
    ssh_target,
    ssh_server,
    host_keys,
    root,
    django_capture_on_commit_callbacks,
):
    step = deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks)

    assert step.status == Status.SUCCEEDED, step.reason
    assert step.reason == ""
    assert step.attempts == 1
    assert step.deployed_fingerprint == leaf_fingerprint(issued)
    chain, key = root / "certs" / "shop.pem", root / "certs" / "shop.key"
    assert chain.read_text() == full_chain_pem(issued)
    assert chain.read_text().count("BEGIN CERTIFICATE") >= 2
    assert chain.stat().st_mode & 0o7777 == 0o644
    assert key.read_text() == key_pem_of(issued)
    assert key.stat().st_mode & 0o7777 == 0o600
    leaf = load_certificates(issued.certificate_pem)[0]
    assert load_pem_private_key(key.read_bytes(), None).public_key() == leaf.public_key()
    assert (root / "served.pem").read_text() == chain.read_text()
    assert ssh_server.commands == [RELOAD]
    assert not [path for path in root.rglob("*.tmp")]

    ssh_target.refresh_from_db()
    host_key = host_keys[0]
    shown = host_key.get_fingerprint("sha256")
    assert ssh_target.ssh_host_key.split() == host_key.export_public_key().decode().split()[:2]
    assert ssh_target.ssh_host_key_fingerprint == shown
    page = customer_client.get(reverse("deployments:edit_target", args=[ssh_target.pk]))
    assert shown in page.content.decode()


def test_a_reload_exiting_1_fails_the_step_and_puts_the_previous_files_back(
    customer, issued, ssh_target, ssh_server, host_keys, root, django_capture_on_commit_callbacks
):
    set_reload_command(customer, ssh_target, refusing(issued))
    before = files(root)

    step = deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks)

    assert step.status == Status.FAILED
    assert step.reason == f"reload exited 1: {REFUSAL}; the previous files were put back"
    assert files(root) == before  # contents and modes (0640, 0400), nothing left over
    # The reload ran again on the previous files.
    assert ssh_server.commands == [refusing(issued)] * 2
    ssh_target.refresh_from_db()
    # Pinned on first use all the same, with its fingerprint.
    assert ssh_target.ssh_host_key_fingerprint == host_keys[0].get_fingerprint("sha256")


def test_a_changed_host_key_fails_the_step_before_anything_is_written(
    customer, issued, ssh_target, ssh_server, host_keys, root, django_capture_on_commit_callbacks
):
    assert deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks).status == (
        Status.SUCCEEDED
    )
    ssh_target.refresh_from_db()
    pinned = ssh_target.ssh_host_key
    old, new = (key.get_fingerprint("sha256") for key in host_keys)
    # The server is rebuilt with another host key; then the certificate is renewed.
    ssh_server.stop()
    rebuilt = start_server(ssh_target, root, host_keys[1])
    try:
        renewed = issue_real_certificate(customer, "DV", domain="shop.example.com")
        before = files(root)

        step = deploy(customer, renewed, ssh_target, django_capture_on_commit_callbacks)

        assert step.status == Status.FAILED
        assert step.reason == f"host key changed (expected {old}, got {new})"
        assert files(root) == before
        assert rebuilt.commands == []
    finally:
        rebuilt.stop()
    ssh_target.refresh_from_db()
    assert ssh_target.ssh_host_key == pinned
    assert ssh_target.ssh_host_key_fingerprint == old


def test_a_server_still_presenting_the_old_certificate_fails_the_step_and_is_rolled_back(
    customer, issued, ssh_target, ssh_server, root, rsa_leaf, django_capture_on_commit_callbacks
):
    # A reload command that does not reload the server: it keeps its old certificate.
    set_reload_command(customer, ssh_target, "true")
    before = files(root)

    step = deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks)

    assert step.status == Status.FAILED
    assert step.reason == (
        f"the server presents a different certificate (SHA-256 {short(rsa_leaf)}...); "
        "the previous files were put back"
    )
    assert files(root) == before
    assert ssh_server.commands == ["true", "true"]


def test_a_failed_step_retried_after_fixing_the_reload_command_succeeds(
    customer, issued, ssh_target, ssh_server, root, django_capture_on_commit_callbacks
):
    set_reload_command(customer, ssh_target, refusing(issued))
    step = deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks)
    assert step.status == Status.FAILED, step.reason

    set_reload_command(customer, ssh_target, RELOAD)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_step(step=step, actor=customer)
    step.refresh_from_db()

    assert step.status == Status.SUCCEEDED, step.reason
    assert step.attempts == 2
    assert (root / "certs" / "shop.pem").read_text() == full_chain_pem(issued)
    assert (root / "served.key").read_text() == key_pem_of(issued)
    assert ssh_server.commands[-1] == RELOAD


def test_a_loopback_ssh_host_is_refused_without_the_allowed_networks(
    customer, issued, ssh_target, ssh_server, root, settings, django_capture_on_commit_callbacks
):
    settings.DEPLOY_ALLOWED_NETWORKS = []
    before = files(root)

    step = deploy(customer, issued, ssh_target, django_capture_on_commit_callbacks)

    assert step.status == Status.FAILED
    assert "not public" in step.reason
    assert ssh_server.connections == []
    assert files(root) == before
    ssh_target.refresh_from_db()
    assert ssh_target.ssh_host_key == ""
