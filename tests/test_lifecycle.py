import ast
import threading
from pathlib import Path

import pytest
from django.db import connection, connections

from certificates.lifecycle import (
    CERTIFICATE_TRANSITIONS,
    REVOCATION_TRANSITIONS,
    CertificateStatus,
    RevocationStatus,
    TransitionNotAllowed,
    transition,
)
from certificates.models import AuditEvent, Certificate, RevocationRequest
from tests.factories import make_certificate

ALL_CERTIFICATE_PAIRS = [(a, b) for a in CertificateStatus for b in CertificateStatus]
ALL_REVOCATION_PAIRS = [(a, b) for a in RevocationStatus for b in RevocationStatus]

# The oracle: the transitions the design allows, written out here rather than read
# from certificates.lifecycle, so a wrong entry there fails the tests below.
EXPECTED_CERTIFICATE_TRANSITIONS: dict[str, set[str]] = {
    # Submitting an application; withdrawing one before issuance.
    "pending_application": {"validating"},
    "validating": {"issued", "check_fail", "pending_application"},
    # A failed check or rejected review: corrected and resubmitted, or withdrawn.
    "check_fail": {"validating", "pending_application"},
    # A reissue whose domain checks are too old goes back to validation.
    "issued": {"revoking", "expired", "validating"},
    # Completed; rejected or cancelled (issued again, or run out meanwhile).
    "revoking": {"revoked", "issued", "expired"},
    "revoked": set(),
    "expired": set(),
}
EXPECTED_REVOCATION_TRANSITIONS: dict[str, set[str]] = {
    # OV/EV requests wait for the emailed link; DV ones start with the CA.
    "awaiting_confirmation": {"pending", "cancelled"},
    "pending": {"completed", "rejected"},
    "completed": set(),
    "rejected": set(),
    "cancelled": set(),
}


def test_every_status_has_a_row_in_the_table():
    assert set(CERTIFICATE_TRANSITIONS) == set(CertificateStatus)
    assert set(REVOCATION_TRANSITIONS) == set(RevocationStatus)


def test_the_tables_are_the_ones_the_design_allows():
    assert {
        str(status): {str(target) for target in targets}
        for status, targets in CERTIFICATE_TRANSITIONS.items()
    } == EXPECTED_CERTIFICATE_TRANSITIONS
    assert {
        str(status): {str(target) for target in targets}
        for status, targets in REVOCATION_TRANSITIONS.items()
    } == EXPECTED_REVOCATION_TRANSITIONS


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_CERTIFICATE_PAIRS)
def test_certificate_transition_follows_the_table(customer, current, target):
    certificate = make_certificate(customer, status=current)

    if target in EXPECTED_CERTIFICATE_TRANSITIONS[current]:
        transition(certificate, target, actor=customer)
        assert Certificate.objects.get(pk=certificate.pk).status == target
        event = AuditEvent.objects.get()
        assert event.action == "certificate.status"
        assert event.actor == customer
        assert event.object_id == str(certificate.pk)
        assert event.details == {"from": current, "to": target}
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            transition(certificate, target, actor=customer)
        assert refused.value.message == (
            f"A certificate that is {current.label} cannot become {target.label}."
        )
        assert Certificate.objects.get(pk=certificate.pk).status == current
        assert certificate.status == current
        assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_REVOCATION_PAIRS)
def test_revocation_transition_follows_the_table(customer, current, target):
    request = RevocationRequest.objects.create(
        certificate=make_certificate(customer, status=CertificateStatus.REVOKING),
        requested_by=customer,
        reason=1,
        status=current,
    )

    if target in EXPECTED_REVOCATION_TRANSITIONS[current]:
        transition(request, target, actor=customer)
        assert RevocationRequest.objects.get(pk=request.pk).status == target
        assert AuditEvent.objects.get().action == "revocationrequest.status"
    else:
        with pytest.raises(TransitionNotAllowed):
            transition(request, target, actor=customer)
        assert RevocationRequest.objects.get(pk=request.pk).status == current
        assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_transition_applies_other_changes_with_the_status(customer):
    certificate = make_certificate(customer, status=CertificateStatus.VALIDATING, days_left=None)

    transition(certificate, CertificateStatus.ISSUED, changes={"serial": "0A1B"})

    stored = Certificate.objects.get(pk=certificate.pk)
    assert (stored.status, stored.serial) == (CertificateStatus.ISSUED, "0A1B")
    assert AuditEvent.objects.get().actor_name == "system"


@pytest.mark.django_db
def test_transition_checks_the_stored_status_not_a_stale_copy(customer):
    certificate = make_certificate(customer, status=CertificateStatus.ISSUED)
    stale = Certificate.objects.get(pk=certificate.pk)
    transition(certificate, CertificateStatus.EXPIRED)

    with pytest.raises(TransitionNotAllowed):
        transition(stale, CertificateStatus.REVOKING)
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.EXPIRED


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)
def test_concurrent_transitions_of_one_certificate_let_only_one_win(customer):
    certificate = make_certificate(customer, status=CertificateStatus.ISSUED)
    barrier = threading.Barrier(2)
    outcomes = []

    def race():
        try:
            barrier.wait()
            transition(Certificate.objects.get(pk=certificate.pk), CertificateStatus.REVOKING)
            outcomes.append("moved")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["moved", "refused"]
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.REVOKING
    assert AuditEvent.objects.count() == 1


def status_writes(source: str) -> list[int]:
    """The lines of `source` that write a status without lifecycle.transition.

    Parsed, not matched line by line, so a call spread over several lines is seen
    whole: assigning to `.status` (also augmented or unpacked), `.update(status=...)`
    (also `**{"status": ...}`), `bulk_update(...)` naming "status" among its fields,
    and `setattr(..., "status", ...)`.
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_assigns_status(target) for target in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and _call_writes_status(node):
            lines.append(node.lineno)
    return sorted(lines)


def _assigns_status(target: ast.expr) -> bool:
    if isinstance(target, ast.Tuple | ast.List):
        return any(_assigns_status(element) for element in target.elts)
    if isinstance(target, ast.Starred):
        return _assigns_status(target.value)
    return isinstance(target, ast.Attribute) and target.attr == "status"


def _call_writes_status(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name == "update":
        return any(
            keyword.arg == "status"
            or (
                keyword.arg is None
                and isinstance(keyword.value, ast.Dict)
                and any(key is not None and _is_status(key) for key in keyword.value.keys)
            )
            for keyword in call.keywords
        )
    if name == "bulk_update":
        # The fields: any argument after the objects, by position or by keyword.
        fields = [*call.args[1:], *(keyword.value for keyword in call.keywords)]
        return any(_is_status(node) for argument in fields for node in ast.walk(argument))
    if name == "setattr":
        return len(call.args) >= 2 and _is_status(call.args[1])
    return False


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


@pytest.mark.parametrize(
    "snippet",
    [
        "certificate.status = 'issued'",
        "certificate.status: str = 'issued'",
        "certificate.status += '!'",
        "name, certificate.status = 'x', 'issued'",
        "[name, *certificate.status] = 'x', 'issued'",
        "Certificate.objects.filter(pk=1).update(status='issued')",
        "Certificate.objects.filter(pk=1).update(\n    name='x',\n    status='issued',\n)",
        "Certificate.objects.filter(\n    pk=1,\n).update(**{'status': 'issued'})",
        "Certificate.objects.bulk_update(certificates, ['name', 'status'])",
        "Certificate.objects.bulk_update(\n    certificates,\n    fields=('status',),\n)",
        "setattr(certificate, 'status', 'issued')",
    ],
)
def test_the_guard_catches_each_way_of_writing_a_status(snippet):
    assert status_writes(f"def change(certificate, certificates):\n    {snippet}\n") != []


@pytest.mark.parametrize(
    "snippet",
    [
        "certificate.status == 'issued'",
        "counts[certificate.status] = 1",
        "Certificate.objects.filter(status='issued').update(name='x')",
        "Certificate.objects.create(status='issued')",
        "Certificate.objects.bulk_update(certificates, ['name'])",
        "setattr(certificate, 'name', 'x')",
        "render(request, 'page.html', status=404)",
    ],
)
def test_the_guard_lets_reading_and_other_writes_pass(snippet):
    assert status_writes(f"def read(certificate, certificates):\n    {snippet}\n") == []


def test_the_guard_reports_the_line_a_multi_line_call_starts_on():
    source = "x = 1\nCertificate.objects.filter(pk=1).update(\n    status='issued',\n)\n"
    assert status_writes(source) == [2]


def test_no_module_but_lifecycle_writes_a_status():
    """A guard for the rule: statuses change only through lifecycle.transition."""
    root = Path(__file__).resolve().parent.parent / "certificates"
    # Every module, in packages too (services becomes one); migrations are history.
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path != root / "lifecycle.py" and "migrations" not in path.parts
        for number in status_writes(path.read_text())
    ]
    assert offenders == []


CREATING_METHODS = frozenset({"create", "bulk_create", "get_or_create", "update_or_create"})


def certificate_creations(source: str) -> list[int]:
    """The lines of `source` that create certificate rows without lifecycle.create_certificates.

    A manager method that creates, called on anything reached from the name
    `Certificate` (`Certificate.objects.create`, `Certificate._default_manager
    .bulk_create`, ...), and `.save()` on a `Certificate(...)` made in the same
    function (or on the call itself).
    """
    lines = []
    for scope in ast.walk(ast.parse(source)):
        if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        made = {
            target.id
            for node in ast.walk(scope)
            if isinstance(node, ast.Assign) and _makes_certificate(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(scope):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver, method = node.func.value, node.func.attr
            creates = method in CREATING_METHODS and _mentions_certificate(receiver)
            saves_new = method == "save" and (
                _makes_certificate(receiver)
                or (isinstance(receiver, ast.Name) and receiver.id in made)
            )
            if creates or saves_new:
                lines.append(node.lineno)
    return sorted(set(lines))


def _makes_certificate(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Certificate"


def _mentions_certificate(node: ast.expr) -> bool:
    return any(isinstance(part, ast.Name) and part.id == "Certificate" for part in ast.walk(node))


@pytest.mark.parametrize(
    "snippet",
    [
        "Certificate.objects.create(owner=owner)",
        "Certificate.objects.bulk_create([Certificate(owner=owner)])",
        "Certificate._default_manager.get_or_create(owner=owner)",
        "Certificate.objects.filter(owner=owner).update_or_create(\n    name='x',\n)",
        "certificate = Certificate(owner=owner)\n    certificate.save()",
        "Certificate(owner=owner).save()",
    ],
)
def test_the_creation_guard_catches_each_way_of_making_a_certificate(snippet):
    assert certificate_creations(f"def make(owner):\n    {snippet}\n") != []


@pytest.mark.parametrize(
    "snippet",
    [
        "create_certificates([Certificate(owner=owner)])",
        "certificate = Certificate(owner=owner)\n    start_uploaded(certificate)",
        "certificate = Certificate.objects.get(pk=1)\n    certificate.save()",
        "Order.objects.create(customer=owner)",
        "IssuedSerial.objects.create(certificate=certificate)",
    ],
)
def test_the_creation_guard_lets_other_creations_and_saves_pass(snippet):
    assert certificate_creations(f"def make(owner, certificate):\n    {snippet}\n") == []


def test_no_module_but_lifecycle_creates_certificates():
    """A guard for the rule: certificates come into being through lifecycle.create_certificates,
    which counts them, so the overview's counts cannot miss one."""
    root = Path(__file__).resolve().parent.parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for package in ("certificates", "console", "acme_server", "api")
        for path in sorted((root / package).rglob("*.py"))
        if path != root / "certificates" / "lifecycle.py" and "migrations" not in path.parts
        for number in certificate_creations(path.read_text())
    ]
    assert offenders == []
