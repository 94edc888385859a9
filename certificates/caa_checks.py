"""CAA lookups at issuance (RFC 8659 3): climb from each name to the first that has CAA records.

No Django import: the issuance gate passes the resolver (the domain checks' settings) and the
CA's identities. A DNS error other than "no records" (SERVFAIL, a timeout) refuses, as the
Baseline Requirements (3.2.2.8) want; the customer is told to retry. Every name of a request
shares one deadline, and a parent looked up once serves every name under it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence

import dns.exception
import dns.name
import dns.resolver

from certificates.domain_checks import Resolver
from certificates.pki.caa import CAARecord, refusal
from certificates.pki.i18n import N_, render

# Each lookup failure is one sentence and this advice.


class _Lookup:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.deadline = time.monotonic() + resolver.timeout
        self.cache: dict[str, list[CAARecord] | str] = {}

    def records(self, name: str) -> list[CAARecord] | str:
        """The CAA records at exactly `name` (empty: none), or a DNS error's description."""
        if name not in self.cache:
            self.cache[name] = self._query(name)
        return self.cache[name]

    def _query(self, name: str) -> list[CAARecord] | str:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return render(
                N_(
                    "The CAA lookup for %(name)s did not finish in time. Try again in a few "
                    "minutes; if it keeps failing, check the domain's DNS servers."
                ),
                {"name": name},
            )
        resolver = dataclasses.replace(self.resolver, timeout=remaining).build()
        try:
            answer = resolver.resolve(dns.name.from_text(name), "CAA")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            return render(
                N_(
                    "The CAA lookup for %(name)s timed out. Try again in a few minutes; if it "
                    "keeps failing, check the domain's DNS servers."
                ),
                {"name": name},
            )
        except dns.exception.DNSException:
            return render(
                N_(
                    "The DNS servers of %(name)s failed to answer the CAA lookup (SERVFAIL or "
                    "refused). Try again in a few minutes; if it keeps failing, check the "
                    "domain's DNS servers."
                ),
                {"name": name},
            )
        return [
            CAARecord(
                flags=rdata.flags,
                tag=rdata.tag.decode("ascii", errors="replace"),
                value=rdata.value.decode("utf-8", errors="replace"),
            )
            for rdata in answer
        ]


def check_caa(
    domains: Sequence[str],
    *,
    resolver: Resolver,
    identities: Iterable[str],
    account_uri: str | None = None,
    validation_method: str | None = None,
) -> list[str]:
    """Why CAA forbids issuing for each name that it forbids; empty when all may be issued."""
    identities = tuple(identities)
    lookup = _Lookup(resolver)
    reasons = []
    for domain in domains:
        for owner in _climb(domain.removeprefix("*.")):
            records = lookup.records(owner)
            if isinstance(records, str):
                reasons.append(records)
                break
            if records:
                reason = refusal(
                    records,
                    domain=domain,
                    owner=owner,
                    identities=identities,
                    account_uri=account_uri,
                    validation_method=validation_method,
                )
                if reason:
                    reasons.append(reason)
                break
    return reasons


def _climb(name: str) -> list[str]:
    """The name, then each parent up to the top-level domain (RFC 8659 3)."""
    labels = name.split(".")
    return [".".join(labels[index:]) for index in range(len(labels))]
