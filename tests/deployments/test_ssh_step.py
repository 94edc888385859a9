"""The SSH step as the deploy core runs it, against a stand-in for deployments/ssh.py with
the shared contract (the transport itself is tested with its module, against asyncssh)."""

import sys
import types
from dataclasses import dataclass

import pytest

import deployments
from deployments import services
from deployments.models import DeploymentStep, Target
from tests.deployments.fixtures import (
    deploy_settings,
    issued,
    receiver,
    tls_server,
    webhook_target,
)

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]

pytestmark = pytest.mark.django_db

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@dataclass(frozen=True)
class SshTarget:
    address: str
    port: int
    username: str
    client_key_pem: str
    pinned_host_key: str | None
    chain_path: str
    chain_mode: int
    key_path: str | None
    key_mode: int
    reload_command: str
    timeout: float = 30.0


@dataclass(frozen=True)
class SshOutcome:
    host_key: str
    fingerprint: str


class SshFailure(Exception):
    def __init__(self, reason, *, rolled_back=False, host_key=None):
        super().__init__(reason)
        self.reason = reason
        self.rolled_back = rolled_back
        self.host_key = host_key


class FakeServer:
    """Writes the files into the TLS server (as a reload would), then runs verify."""

    def __init__(self, tls_server, host_key=HOST_KEY):
        self.tls_server = tls_server
        self.host_key = host_key
        self.calls = []
        self.write_files = True

    def deploy_over_ssh(self, target, *, chain_pem, key_pem, verify):
        self.calls.append((target, chain_pem, key_pem))
        if target.pinned_host_key and target.pinned_host_key != self.host_key:
            raise SshFailure("host key changed (expected SHA256:old, got SHA256:new)")
        if self.write_files and key_pem:
            self.tls_server.present(chain_pem, key_pem)
        try:
            verify()
        except Exception as error:
            raise SshFailure(
                f"{error}; the previous files were put back",
                rolled_back=True,
                host_key=self.host_key,
            ) from None
        return SshOutcome(self.host_key, "SHA256:fake-fingerprint")


@pytest.fixture
def fake_ssh(monkeypatch, tls_server):
    server = FakeServer(tls_server)
    module = types.ModuleType("deployments.ssh")
    module.SshTarget, module.SshOutcome, module.SshFailure = SshTarget, SshOutcome, SshFailure
    module.deploy_over_ssh = server.deploy_over_ssh
    module.host_key_fingerprint = lambda line: "SHA256:from-line"
    monkeypatch.setitem(sys.modules, "deployments.ssh", module)
    monkeypatch.setattr(deployments, "ssh", module, raising=False)
    return server


@pytest.fixture
def ssh_target(customer, tls_server):
    cleaned = {
        "name": "nginx",
        "kind": Target.Kind.SSH,
        "redeploy_automatically": False,
        "verify_host": "127.0.0.1",
        "verify_port": tls_server.port,
        "verify_server_name": "shop.example.com",
        "ssh_host": "127.0.0.1",
        "ssh_port": 2222,
        "ssh_user": "deploy",
        "chain_path": "/etc/nginx/shop.pem",
        "chain_mode": 0o644,
        "key_path": "/etc/nginx/shop.key",
        "key_mode": 0o600,
        "reload_command": "sudo systemctl reload nginx",
        "ssh_key_choice": "generate",
    }
    return services.save_target(owner=customer, target=None, cleaned=cleaned, actor=customer).target


def run(customer, certificate, target):
    job = services.deploy(owner=customer, certificates=[certificate], targets=[target], actor=None)
    step = job.steps.get()
    services.run_step(step_id=step.pk)
    step.refresh_from_db()
    return step


def test_an_ssh_step_writes_the_files_checks_and_pins_the_host_key(
    customer, issued, ssh_target, fake_ssh
):
    step = run(customer, issued, ssh_target)

    assert step.status == DeploymentStep.Status.SUCCEEDED, step.reason
    [(target, chain_pem, key_pem)] = fake_ssh.calls
    assert (target.address, target.port, target.username) == ("127.0.0.1", 2222, "deploy")
    assert target.pinned_host_key is None
    assert (target.chain_mode, target.key_mode) == (0o644, 0o600)
    assert "OPENSSH PRIVATE KEY" in target.client_key_pem
    assert chain_pem.count("BEGIN CERTIFICATE") >= 2
    assert "PRIVATE KEY" in key_pem
    ssh_target.refresh_from_db()
    assert ssh_target.ssh_host_key == HOST_KEY
    assert ssh_target.ssh_host_key_fingerprint == "SHA256:fake-fingerprint"


def test_a_pinned_host_key_is_sent_and_a_changed_one_fails_the_step(
    customer, issued, ssh_target, fake_ssh
):
    Target.objects.filter(pk=ssh_target.pk).update(
        ssh_host_key="ssh-ed25519 AAAAother", ssh_host_key_fingerprint="SHA256:old"
    )
    ssh_target.refresh_from_db()
    step = run(customer, issued, ssh_target)

    assert step.status == DeploymentStep.Status.FAILED
    assert step.reason.startswith("host key changed")
    assert fake_ssh.calls[0][0].pinned_host_key == "ssh-ed25519 AAAAother"
    ssh_target.refresh_from_db()
    assert ssh_target.ssh_host_key == "ssh-ed25519 AAAAother"


def test_a_failed_check_is_rolled_back_with_its_reason(customer, issued, ssh_target, fake_ssh):
    fake_ssh.write_files = False
    step = run(customer, issued, ssh_target)

    assert step.status == DeploymentStep.Status.FAILED
    assert step.reason.startswith("the server presents a different certificate (SHA-256 ")
    assert step.reason.endswith("; the previous files were put back")
    ssh_target.refresh_from_db()
    assert ssh_target.ssh_host_key_fingerprint == "SHA256:from-line"  # pinned on first use


def test_without_a_key_path_no_key_is_sent(customer, issued, ssh_target, fake_ssh):
    Target.objects.filter(pk=ssh_target.pk).update(key_path="")
    ssh_target.refresh_from_db()
    fake_ssh.write_files = False
    run(customer, issued, ssh_target)
    [(target, _, key_pem)] = fake_ssh.calls
    assert target.key_path is None and key_pem is None
