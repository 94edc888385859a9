"""The console's choices come from the tables of the code that acts on them.

The model keeps the values stored in the database; these tests hold the forms to what
the core can do with each choice.
"""

from datetime import UTC, datetime

from certificates import domain_checks
from certificates.forms import ApplicationForm, RevokeForm
from certificates.models import Certificate
from certificates.pki.csr import KEY_TYPES
from certificates.pki.revocation import RevokedEntry, SerialState


def dv_form() -> ApplicationForm:
    certificate = Certificate(validation_type="DV", domain_scope="single")
    return ApplicationForm(certificate=certificate, submit=False)


def test_the_apply_form_offers_exactly_the_keys_the_console_generates():
    assert dict(dv_form().fields["key_type"].choices) == KEY_TYPES


def test_the_apply_form_offers_exactly_the_domain_checks_there_are():
    offered = [value for value, _ in dv_form().fields["validation_method"].choices]
    assert offered == list(domain_checks.ValidationMethod)


def test_every_reason_a_customer_can_choose_goes_on_the_crl_and_in_ocsp():
    revoked_at = datetime(2026, 5, 1, tzinfo=UTC)
    for reason, _ in RevokeForm().fields["reason"].choices:
        assert RevokedEntry(serial=1, revoked_at=revoked_at, reason=reason).reason == reason
        assert SerialState.revoked(revoked_at, reason=reason).reason == reason
