import io
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.utils import timezone

from certificates import expiry_warnings
from certificates.expiry_warnings import notify_expiring
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import ExpiryNotice
from tests.factories import make_certificate, make_certificates, make_user
from tests.test_expire_certificates import postgresql_only, run_in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _console_settings(settings):
    settings.CERTIFICATES_EXPIRY_WARNING_DAYS = (30, 15, 7, 1)
    settings.CONSOLE_BASE_URL = "https://certs.example.com"


@pytest.fixture
def alice(db):
    return make_user("alice", email="alice@example.com")


@pytest.fixture
def bob(db):
    return make_user("bob", email="bob@example.com")


def ending_in(owner, days: int, **fields):
    """An issued certificate with `days` whole days left (and half a day more)."""
    return make_certificate(
        owner,
        status=Status.ISSUED,
        not_after=timezone.now() + timedelta(days=days, hours=12),
        **fields,
    )


def html_of(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def notices() -> dict[tuple[int, int], bool]:
    """(certificate, threshold) -> whether it was recorded as sent."""
    return {
        (certificate_id, days): sent_at is not None
        for certificate_id, days, sent_at in ExpiryNotice.objects.values_list(
            "certificate_id", "threshold_days", "sent_at"
        )
    }


def test_notify_expiring_sends_one_email_per_customer_listing_their_certificates(alice, bob):
    shop = ending_in(alice, 20, domain="shop.example.com")
    blog = ending_in(alice, 3, domain="blog.example.com")
    api = ending_in(bob, 10, domain="api.example.net")

    result = notify_expiring()

    assert (result.emails, result.certificates) == (2, 3)
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert set(by_recipient) == {("alice@example.com",), ("bob@example.com",)}
    to_alice = by_recipient[("alice@example.com",)]
    assert to_alice.subject == "2 of your SSL certificates expire soon"
    assert "shop.example.com" in to_alice.body and "blog.example.com" in to_alice.body
    assert "api.example.net" not in to_alice.body + html_of(to_alice)
    to_bob = by_recipient[("bob@example.com",)]
    assert to_bob.subject == "Your SSL certificate api.example.net expires in 10 days"
    assert "shop.example.com" not in to_bob.body + html_of(to_bob)
    assert {pk for pk, _ in notices()} == {shop.pk, blog.pk, api.pk}


def test_each_email_links_every_certificate_in_its_text_and_html_parts(alice):
    certificates = [ending_in(alice, 5), ending_in(alice, 25)]

    notify_expiring()

    [message] = mail.outbox
    for certificate in certificates:
        link = f"https://certs.example.com/certificates/{certificate.pk}/"
        assert link in message.body
        assert f'href="{link}"' in html_of(message)


def test_a_certificate_and_threshold_are_notified_once_across_reruns(alice):
    certificate = ending_in(alice, 20)

    notify_expiring()
    notify_expiring()

    assert len(mail.outbox) == 1
    assert notices() == {(certificate.pk, 30): True}


def test_the_next_threshold_crossed_sends_a_new_warning(alice):
    certificate = ending_in(alice, 20)
    notify_expiring()

    notify_expiring(now=timezone.now() + timedelta(days=6))  # now 14 days left
    notify_expiring(now=timezone.now() + timedelta(days=7))

    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.endswith("expires in 14 days")
    assert notices() == {(certificate.pk, 30): True, (certificate.pk, 15): True}


def test_only_the_smallest_crossed_threshold_is_sent_and_the_larger_ones_count_as_done(alice):
    certificate = ending_in(alice, 5)

    notify_expiring()
    notify_expiring(now=timezone.now() + timedelta(days=1))  # 4 days left: still the 7-day one

    [message] = mail.outbox
    assert message.subject == "Your SSL certificate " + certificate.common_name + (
        " expires in 5 days"
    )
    assert notices() == {
        (certificate.pk, 7): True,
        (certificate.pk, 15): True,
        (certificate.pk, 30): True,
    }


def test_certificates_that_owe_no_warning_are_left_out(alice, bob):
    wanted = ending_in(alice, 10)
    left_out = [
        ending_in(alice, 10, expiry_warnings_enabled=False),
        ending_in(alice, 10, deleted_at=timezone.now()),
        ending_in(alice, 45),  # beyond the largest threshold
        ending_in(alice, -1),  # already ended
        make_certificate(alice, status=Status.REVOKING, days_left=10),
        make_certificate(alice, status=Status.EXPIRED, days_left=10),
        make_certificate(alice, status=Status.PENDING_APPLICATION, days_left=None),
    ]
    other = ending_in(bob, 10)

    notify_expiring()

    to_alice = [message for message in mail.outbox if message.to == ["alice@example.com"]]
    assert len(to_alice) == 1
    for certificate in left_out + [other]:
        assert f"/certificates/{certificate.pk}/" not in to_alice[0].body
    assert f"/certificates/{wanted.pk}/" in to_alice[0].body
    assert {pk for pk, _ in notices()} == {wanted.pk, other.pk}


def test_customers_without_an_email_address_are_warned_once_they_have_one(alice):
    nobody = make_user("nobody")
    certificate = ending_in(nobody, 10)

    notify_expiring()
    assert mail.outbox == [] and notices() == {}

    nobody.email = "nobody@example.com"
    nobody.save()
    notify_expiring()
    assert [message.to for message in mail.outbox] == [["nobody@example.com"]]
    assert (certificate.pk, 15) in notices()


def test_a_warning_that_failed_to_send_is_tried_again_on_the_next_run(alice, bob, monkeypatch):
    ending_in(alice, 10)
    bobs = ending_in(bob, 10)
    real_send = expiry_warnings.EmailMultiAlternatives.send

    def refuse_alice(message, *args, **kwargs):
        if message.to == ["alice@example.com"]:
            raise ConnectionRefusedError("mail server down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(expiry_warnings.EmailMultiAlternatives, "send", refuse_alice)
    result = notify_expiring()

    assert result.failed_customers == ["alice"]
    assert [message.to for message in mail.outbox] == [["bob@example.com"]]
    assert {pk for pk, _ in notices()} == {bobs.pk}

    monkeypatch.undo()
    notify_expiring()
    assert [message.to for message in mail.outbox] == [["bob@example.com"], ["alice@example.com"]]


def test_a_run_dying_between_claim_and_send_never_sends_that_warning(alice, monkeypatch):
    """The documented choice: maybe not sent, never sent twice."""
    certificate = ending_in(alice, 10)

    def die(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(expiry_warnings, "_message", die)
    with pytest.raises(KeyboardInterrupt):
        notify_expiring()
    monkeypatch.undo()
    notify_expiring()

    assert mail.outbox == []
    assert notices() == {(certificate.pk, 15): False, (certificate.pk, 30): False}


# manage.py closes every connection when it ends, as cron runs it; no test
# transaction may be open around it then (the pool would roll it back).
@pytest.mark.django_db(transaction=True)
def test_notify_expiring_command_prints_a_summary_and_exits_zero(alice, capsys):
    ending_in(alice, 10)
    ending_in(alice, 12)

    ManagementUtility(["manage.py", "notify_expiring"]).execute()

    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Sent 1 email about 2 certificates \(thresholds: 30, 15, 7, 1 days\) in \d+\.\ds\.\n", out
    )


def test_notify_expiring_command_fails_nonzero_when_an_email_could_not_be_sent(alice, monkeypatch):
    ending_in(alice, 10)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(expiry_warnings.EmailMultiAlternatives, "send", refuse)
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"Could not send 1 email \(to alice\)"):
        call_command("notify_expiring", stdout=out)
    assert out.getvalue().startswith("Sent 0 emails about 0 certificates")


def test_customers_are_paged_without_losing_any(monkeypatch):
    monkeypatch.setattr(expiry_warnings, "CUSTOMERS_PER_PAGE", 2)
    customers = [make_user(email=f"c{n}@example.com") for n in range(5)]
    for customer in customers:
        make_certificates(customer, 2, status=Status.ISSUED, days_left=9)

    result = notify_expiring()

    assert (result.emails, result.certificates) == (5, 10)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(c.email for c in customers)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_warning_once():
    customers = [make_user(email=f"c{n}@example.com") for n in range(40)]
    certificates = [
        certificate
        for customer in customers
        for certificate in make_certificates(customer, 3, status=Status.ISSUED, days_left=9)
    ]

    results = run_in_threads(notify_expiring, 3)

    assert sum(result.certificates for result in results) == len(certificates)
    listed = Counter(
        int(pk)
        for message in mail.outbox
        for pk in re.findall(r"/certificates/(\d+)/", message.body)
    )
    assert listed == Counter({certificate.pk: 1 for certificate in certificates})
    assert len(notices()) == 2 * len(certificates)  # the 15- and 30-day notices
    assert all(notices().values())


def acme_certificate(owner, days: int, domain: str):
    """An issued ACME certificate of `owner`'s, ordered through an ACME account of theirs."""
    from acme_server.models import AcmeAccount, AcmeOrder
    from tests.factories import make_brand

    certificate = ending_in(owner, days, domain=domain, source="acme")
    account, _ = AcmeAccount.objects.get_or_create(
        owner=owner,
        defaults={"brand": make_brand(), "jwk": {}, "thumbprint": f"thumb-{owner.pk}"},
    )
    AcmeOrder.objects.create(
        account=account,
        identifiers=[domain],
        expires_at=timezone.now() + timedelta(days=7),
        certificate=certificate,
    )
    return certificate


def test_an_acme_certificates_warning_says_its_client_renews_it(alice):
    acme_certificate(alice, 10, "acme.example.com")
    ending_in(alice, 12, domain="manual.example.com")

    notify_expiring()

    [message] = mail.outbox
    entries = message.body.split("\n- ")[1:]
    acme_entry = next(entry for entry in entries if "acme.example.com" in entry)
    manual_entry = next(entry for entry in entries if "manual.example.com" in entry)
    assert "Renewed by your ACME client" in acme_entry
    assert "Renewed by your ACME client" not in manual_entry
    assert "https://certs.example.com/acme-credentials/" in message.body
    assert html_of(message).count("Renewed by your ACME client") == 1


def test_an_acme_account_can_turn_off_the_warnings_of_its_certificates(alice, client):
    from acme_server.models import AcmeAccount
    from certificates.models import AuditEvent

    acme_certificate(alice, 10, "acme.example.com")
    ending_in(alice, 12, domain="manual.example.com")
    account = AcmeAccount.objects.get(owner=alice)
    client.force_login(alice)

    response = client.post(f"/acme-credentials/accounts/{account.pk}/expiry-warnings/")

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.expiry_warnings is False
    assert AuditEvent.objects.filter(action="acme_account.expiry_warnings").count() == 1
    notify_expiring()
    [message] = mail.outbox
    assert "manual.example.com" in message.body
    assert "acme.example.com" not in message.body + html_of(message)
    # Turned on again, the next run warns about it.
    client.post(f"/acme-credentials/accounts/{account.pk}/expiry-warnings/", {"enabled": "on"})
    notify_expiring()
    assert "acme.example.com" in mail.outbox[-1].body


def test_another_customers_acme_account_switch_is_not_found(alice, bob, client):
    from acme_server.models import AcmeAccount

    acme_certificate(bob, 10, "bob.example.com")
    account = AcmeAccount.objects.get(owner=bob)
    client.force_login(alice)

    response = client.post(f"/acme-credentials/accounts/{account.pk}/expiry-warnings/")

    assert response.status_code == 404
    account.refresh_from_db()
    assert account.expiry_warnings is True
