"""The templates ask the models, never compare raw status or source strings.

A template that says `status == "issued"` keeps its own copy of a rule the model
already has (and would miss that an issued certificate past its end date shows as
expired): it asks a property such as `certificate.can_revoke` or compares with an
enum the view passes.
"""

import re
from pathlib import Path

from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import DomainScope, Source, ValidationType

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RULE_VALUES = frozenset(
    str(value)
    for choices in (CertificateStatus, RevocationStatus, Source, ValidationType, DomainScope)
    for value in choices.values
)
# `== "value"` or `!= 'value'`, and the same with the string on the left.
COMPARISON = re.compile(
    r"""(?:==|!=)\s*(["'])(?P<right>[^"']*)\1|(["'])(?P<left>[^"']*)\3\s*(?:==|!=)"""
)


def raw_comparisons(text: str) -> list[str]:
    return [
        match.group(0)
        for match in COMPARISON.finditer(text)
        if (match.group("right") or match.group("left")) in RULE_VALUES
    ]


def test_the_scan_finds_a_comparison_with_a_status_or_source_string():
    snippet = """
        {% if certificate.status == "check_fail" %}{% endif %}
        <span class="{% if shown == 'expired' %}text-danger{% endif %}"></span>
        {% if "uploaded" != certificate.source %}{% endif %}
        {% if revocation.status != 'awaiting_confirmation' %}{% endif %}
    """
    assert raw_comparisons(snippet) == [
        '== "check_fail"',
        "== 'expired'",
        '"uploaded" !=',
        "!= 'awaiting_confirmation'",
    ]


def test_the_scan_leaves_other_comparisons_and_class_names_alone():
    snippet = """
        {% if request.resolver_match.url_name == 'purchase' %}{% endif %}
        <span class="status status-{{ shown }}"></span>
        {% if tab.key == status %}active{% endif %}
        {% if revocation.status == revocation_statuses.PENDING %}{% endif %}
    """
    assert raw_comparisons(snippet) == []


def test_no_template_compares_a_status_or_source_string():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}: {comparison}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for comparison in raw_comparisons(line)
    ]
    assert offenders == []
