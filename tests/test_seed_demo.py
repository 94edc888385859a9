from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from certificates.models import AuditEvent, Certificate
from certificates.selectors import certificate_counters


@pytest.mark.django_db
def test_seed_demo_builds_the_demo_overview_and_is_idempotent(django_user_model):
    call_command("seed_demo", stdout=StringIO())
    demo = authenticate(username="demo", password="demo")
    operator = authenticate(username="operator", password="operator")

    assert demo is not None and not demo.is_staff
    assert operator is not None and operator.is_staff
    assert certificate_counters(owner=demo) == {
        "total": 901,
        "issued": 745,
        "pending_application": 74,
        "will_expire": 2,
        "check_fail": 50,
        "expired": 17,
    }
    assert set(Certificate.objects.values_list("status", flat=True)) >= {
        "validating",
        "revoking",
        "revoked",
    }
    assert Certificate.objects.values("brand").distinct().count() >= 4

    def row_counts():
        return [model.objects.count() for model in (Certificate, AuditEvent, django_user_model)]

    rows = row_counts()
    call_command("seed_demo", stdout=StringIO())
    assert row_counts() == rows
