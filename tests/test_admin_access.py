"""Who reaches the admin and what it never shows: the Operators group's permissions,
customers kept out, an audit log nobody can edit, and no private key on any page."""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, reverse

from certificates import key_encryption, services
from certificates.models import AuditEvent, Certificate, CertificateAuthority
from certificates.pki.parsing import parse_bundle
from tests.admin_support import changelist_url, post_action
from tests.factories import make_user
from tests.issuance import issue_real_certificate, submit_application

pytestmark = pytest.mark.django_db


def test_the_operators_group_has_exactly_the_permissions_the_work_needs():
    group = Group.objects.get(name="Operators")

    permissions = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }

    assert permissions == {
        "certificates.add_brand",
        "certificates.change_brand",
        "certificates.view_brand",
        "certificates.add_product",
        "certificates.change_product",
        "certificates.view_product",
        "certificates.change_application",
        "certificates.view_application",
        "certificates.change_revocationrequest",
        "certificates.view_revocationrequest",
        "certificates.view_certificate",
        "certificates.view_issuedserial",
        "certificates.view_expirynotice",
        "certificates.view_order",
        "certificates.view_certificateauthority",
        "certificates.view_auditevent",
        "certificates.view_compromisedkey",
        "acme_server.view_acmecredential",
        "acme_server.view_acmeaccount",
        "acme_server.view_acmeorder",
        "acme_server.view_acmeauthorization",
        "acme_server.view_acmechallenge",
    }


def test_operators_are_staff_but_not_superusers_and_see_no_accounts(operator, operator_client):
    assert operator.is_staff and not operator.is_superuser
    assert operator_client.get(reverse("admin:index")).status_code == 200
    assert operator_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert operator_client.get(reverse("admin:auth_group_changelist")).status_code == 403


# --- a world with every kind of row, keys included -------------------------------------------


@pytest.fixture
def world(customer, other_customer, operator, operator_client):
    """Real certificates with keys (console-made and uploaded), a CA with its key, an
    application waiting, a revocation, audit events and admin history."""
    issued = issue_real_certificate(customer, "DV", domain="issued.example.com")
    revoking = issue_real_certificate(customer, "DV", domain="revoking.example.com")
    services.request_revocation(certificate=revoking, reason=4, actor=customer)
    waiting = submit_application(customer, "OV", domain="waiting.example.com")
    approved = submit_application(customer, "EV", domain="approved.example.com")
    key_pem = key_encryption.decrypt_private_key(issued.private_key_encrypted)
    services.upload_certificate(
        owner=other_customer,
        name="uploaded",
        bundle=parse_bundle(issued.certificate_pem + issued.chain_pem, key_pem),
    )
    # Admin history (LogEntry) of a decision, for the history pages.
    post_action(operator_client, "application", "approve", [approved.application])
    return {"issued": issued, "waiting": waiting, "key_pem": key_pem}


def admin_paths() -> list[str]:
    """Every admin URL, with a real object's id wherever one goes."""
    objects = {
        (model._meta.app_label, model._meta.model_name): model._default_manager.order_by(
            "pk"
        ).first()
        for model in admin.site._registry
    }
    certificate = Certificate.objects.first()
    content_type = ContentType.objects.get_for_model(Certificate)
    paths = ["/admin/certificates/", "/admin/auth/", "/admin/no-such-page/"]
    for pattern in admin.site.get_urls():
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            app_label, model_name = route.strip("/").split("/")
            obj = objects[(app_label, model_name)]
            for sub in pattern.url_patterns:
                sub_route = str(sub.pattern)
                if "<" in sub_route and obj is None:
                    continue
                sub_route = sub_route.replace("<path:object_id>", str(obj.pk) if obj else "")
                paths.append(f"/admin/{route}{sub_route.replace('<id>', str(obj and obj.pk))}")
        elif not route.startswith("^") and "(?P" not in route:
            route = route.replace("<path:content_type_id>", str(content_type.pk))
            paths.append(f"/admin/{route.replace('<path:object_id>', str(certificate.pk))}")
    assert all("<" not in path for path in paths), paths
    return paths


def test_a_customer_gets_no_admin_page(world, customer):
    client = Client()
    client.force_login(customer)
    login = reverse("admin:login")
    paths = admin_paths()
    assert len(paths) > 50

    for path in paths:
        response = client.get(path)
        if path == login:
            # The sign-in form, saying this account may not use the admin.
            assert "not authorized to access this page" in response.content.decode()
            continue
        assert response.status_code == 302, path
        assert response["Location"].startswith((login, reverse("admin:index"))), path
        assert not response.content, path


def test_anonymous_visitors_get_the_admin_sign_in_only(world):
    client = Client()
    for path in admin_paths():
        response = client.get(path)
        if path != reverse("admin:login"):
            # The console's sign-in (LoginRequiredMiddleware) or the admin's, nothing else.
            assert response.status_code == 302, path
            assert response["Location"].startswith((reverse("admin:login"), reverse("login")))
            assert not response.content, path


def test_a_customer_cannot_run_admin_actions(world, customer):
    client = Client()
    client.force_login(customer)
    waiting = world["waiting"]

    response = client.post(
        changelist_url("application"),
        {"action": "approve", "_selected_action": [waiting.application.pk]},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert Certificate.objects.get(pk=waiting.pk).status == "validating"


# --- the audit log: read-only for everyone -----------------------------------------------------


@pytest.fixture(params=["operator", "superuser"])
def staff_client(request, world, operator_client):
    if request.param == "operator":
        return operator_client
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_nobody_can_add_change_or_delete_audit_events(world, staff_client):
    event = AuditEvent.objects.first()
    before = list(AuditEvent.objects.order_by("pk").values())
    change = reverse("admin:certificates_auditevent_change", args=[event.pk])

    listing = staff_client.get(changelist_url("auditevent"))
    view = staff_client.get(change)
    add = staff_client.get(reverse("admin:certificates_auditevent_add"))
    edit = staff_client.post(change, {"action": "edited", "actor_name": "someone"})
    delete = staff_client.get(reverse("admin:certificates_auditevent_delete", args=[event.pk]))
    confirm_delete = staff_client.post(
        reverse("admin:certificates_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    bulk_delete = post_action(staff_client, "auditevent", "delete_selected", [event], post="yes")

    assert listing.status_code == view.status_code == 200
    assert 'name="action"' not in listing.content.decode()  # no actions at all
    assert 'name="_save"' not in view.content.decode()
    assert add.status_code == edit.status_code == 403
    assert delete.status_code == confirm_delete.status_code == 403
    assert bulk_delete.status_code == 200  # the list again: there is no action to run
    assert list(AuditEvent.objects.order_by("pk").values()) == before


def test_the_audit_log_lists_who_did_what_to_which_object(world, operator, operator_client):
    response = operator_client.get(changelist_url("auditevent"), {"q": "olga"})
    text = response.content.decode()
    approved = AuditEvent.objects.filter(actor=operator, details__to="issued").get()

    assert approved.pk in [row.pk for row in response.context["cl"].result_list]
    assert "certificate.status" in text
    assert reverse("admin:certificates_certificate_change", args=[approved.object_id]) in text
    by_system = operator_client.get(changelist_url("auditevent"), {"who": "system"})
    assert all(row.actor_name == "system" for row in by_system.context["cl"].result_list)
    uploads = operator_client.get(changelist_url("auditevent"), {"action": "certificate.upload"})
    assert {row.action for row in uploads.context["cl"].result_list} == {"certificate.upload"}


# --- no private key anywhere ------------------------------------------------------------------


def pages_of_every_registered_model() -> list[str]:
    """Each registered model's list, add page, and every object's change and history pages."""
    paths = [reverse("admin:index"), "/admin/certificates/", "/admin/auth/"]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        paths += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        for pk in model._default_manager.values_list("pk", flat=True):
            paths += [reverse(f"{name}_change", args=[pk]), reverse(f"{name}_history", args=[pk])]
    paths.append(changelist_url("application") + "?queue=all")
    return paths


def test_no_admin_page_shows_a_private_key(world, staff_client):
    secrets = [world["key_pem"].splitlines()[1]]
    secrets += [
        c.private_key_encrypted for c in Certificate.objects.exclude(private_key_encrypted="")
    ]
    secrets += list(CertificateAuthority.objects.values_list("private_key_encrypted", flat=True))
    assert len(secrets) >= 6
    # The customer's and the CA's key, as the decrypted PEM would show them.
    for authority in CertificateAuthority.objects.all():
        secrets.append(
            key_encryption.decrypt_private_key(authority.private_key_encrypted).splitlines()[1]
        )
    seen = 0

    for path in pages_of_every_registered_model():
        response = staff_client.get(path)
        # 404: the auth app's index for operators, who have nothing in it.
        assert response.status_code in (200, 403, 404), path
        html = response.content.decode()
        assert "PRIVATE KEY" not in html, path
        for secret in secrets:
            assert secret not in html, path
        seen += response.status_code == 200

    assert seen > 40
    assert LogEntry.objects.exists()  # the history pages had something to show


def test_operators_can_view_every_certificates_page(world, operator_client):
    for path in pages_of_every_registered_model():
        if path.startswith("/admin/certificates/") and not path.endswith("/add/"):
            assert operator_client.get(path).status_code == 200, path


@pytest.mark.parametrize("model", ["certificate", "order", "certificateauthority", "auditevent"])
def test_records_are_read_only_for_operators_and_superusers(world, staff_client, model):
    obj = admin.site._registry
    row = next(m for m in obj if m._meta.model_name == model)._default_manager.first()
    change = reverse(f"admin:certificates_{model}_change", args=[row.pk])

    assert staff_client.get(change).status_code == 200
    assert staff_client.post(change, {}).status_code == 403
    assert staff_client.get(reverse(f"admin:certificates_{model}_add")).status_code == 403
    assert (
        staff_client.get(reverse(f"admin:certificates_{model}_delete", args=[row.pk])).status_code
        == 403
    )
