"""CAA records (RFC 8659) and their ACME parameters (RFC 8657): may this CA issue for a name?

Pure: the caller looks the records up (climbing the tree to the first name that has any)
and passes them in; `refusal` says why the relevant record set forbids the issuance, or
returns None when it allows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from certificates.pki.i18n import N_, render

# The tags this CA understands (RFC 8659 4, RFC 9495 issuemail, and the contact tags of
# the Baseline Requirements 3.2.2.4.13/14); an unknown tag with the critical flag refuses.
KNOWN_TAGS = frozenset({"issue", "issuewild", "iodef", "issuemail", "contactemail", "contactphone"})
CRITICAL_FLAG = 128

_PARAMETER_KEY = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class CAARecord:
    """One CAA resource record: flags, tag and value as published."""

    flags: int
    tag: str
    value: str

    def __str__(self) -> str:
        return f'{self.flags} {self.tag} "{self.value}"'

    @property
    def critical(self) -> bool:
        return bool(self.flags & CRITICAL_FLAG)


@dataclass(frozen=True)
class IssueValue:
    """An issue or issuewild value: the CA's domain (empty: no CA) and its parameters."""

    issuer: str
    parameters: dict[str, str] = field(default_factory=dict)


def parse_issue_value(value: str) -> IssueValue | None:
    """Read `issuer-domain-name *(";" key "=" value)` (RFC 8659 4.2); None when malformed."""
    issuer, *parts = value.split(";")
    issuer = issuer.strip().lower().rstrip(".")
    if issuer and not re.fullmatch(
        r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", issuer
    ):
        return None
    parameters: dict[str, str] = {}
    for part in parts:
        part = part.strip()
        if not part:
            continue
        key, equals, parameter = part.partition("=")
        key = key.strip()
        if not equals or not _PARAMETER_KEY.match(key):
            return None
        parameters[key.lower()] = parameter.strip()
    return IssueValue(issuer=issuer, parameters=parameters)


def refusal(
    records: Sequence[CAARecord],
    *,
    domain: str,
    owner: str,
    identities: Iterable[str],
    account_uri: str | None = None,
    validation_method: str | None = None,
) -> str | None:
    """Why the relevant record set at `owner` forbids issuing for `domain`, or None.

    `domain` starts with "*." for a wildcard: then issuewild records decide when there
    are any, else issue records (RFC 8659 4.3). `account_uri` and `validation_method` are
    the ACME account and challenge type (or the console's method) for RFC 8657's
    accounturi and validationmethods; a record naming this CA with a parameter the
    issuance doesn't satisfy does not authorize it.
    """
    identities = {identity.lower().rstrip(".") for identity in identities}
    for record in records:
        if record.critical and record.tag.lower() not in KNOWN_TAGS:
            return render(
                N_(
                    "The CAA record at %(owner)s (%(record)s) has the critical flag on a property "
                    "this CA does not understand, so it may not issue for %(domain)s."
                ),
                {"owner": owner, "record": record, "domain": domain},
            )
    wildcard = domain.startswith("*.")
    issuewild = [record for record in records if record.tag.lower() == "issuewild"]
    relevant = issuewild if wildcard and issuewild else None
    if relevant is None:
        relevant = [record for record in records if record.tag.lower() == "issue"]
    if not relevant:
        return None
    for record in relevant:
        value = parse_issue_value(record.value)
        if value is None or value.issuer not in identities:
            continue
        if _parameters_allow(value.parameters, account_uri, validation_method):
            return None
    names = " ".join(str(record) for record in relevant)
    who = sorted(identities)[0] if identities else render(N_("this CA"), {})
    params = {"owner": owner, "names": names, "who": who, "domain": domain}
    if wildcard and issuewild:
        return render(
            N_(
                "The CAA records at %(owner)s (%(names)s) do not allow this CA (%(who)s) to issue "
                "a wildcard certificate for %(domain)s. Add a CAA record such as %(owner)s CAA 0 "
                'issuewild "%(who)s", or ask the domain\'s owner to.'
            ),
            params,
        )
    return render(
        N_(
            "The CAA records at %(owner)s (%(names)s) do not allow this CA (%(who)s) to issue a "
            'certificate for %(domain)s. Add a CAA record such as %(owner)s CAA 0 issue "%(who)s", '
            "or ask the domain's owner to."
        ),
        params,
    )


def _parameters_allow(
    parameters: dict[str, str], account_uri: str | None, validation_method: str | None
) -> bool:
    if "accounturi" in parameters and parameters["accounturi"] != account_uri:
        return False
    if "validationmethods" in parameters:
        allowed = {method.strip() for method in parameters["validationmethods"].split(",")}
        if validation_method not in allowed:
            return False
    return True
