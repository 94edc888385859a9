"""Which domain names a publicly trusted certificate may carry.

csr.normalize_domain checks that a name is well formed; this module checks that a public
certificate authority may issue for it at all: not an IP address, not under a special-use or
reserved top-level name, under a top-level name that exists, and not a wildcard directly on a
public suffix (CA/Browser Forum Baseline Requirements 3.2.2.6).
"""

from __future__ import annotations

import functools
import ipaddress

from publicsuffixlist import PublicSuffixList

from certificates.pki.errors import InvalidDomainError
from certificates.pki.i18n import N_

# Top-level names that never belong to a registrant, so no CA may certify names under them:
# IANA's "Special-Use Domain Names" registry (RFC 6761 section 6: test, localhost, invalid,
# example; RFC 6762: local; RFC 7686: onion; RFC 8375: home.arpa, covered by arpa; RFC 9476:
# alt), plus "internal", which ICANN reserved for private use (2024), and "arpa", the
# infrastructure domain (RFC 3172) that also holds in-addr.arpa and ip6.arpa.
SPECIAL_USE_TOP_LEVEL_NAMES = frozenset(
    {
        "alt",
        "arpa",
        "example",
        "internal",
        "invalid",
        "local",
        "localhost",
        "onion",
        "test",
    }
)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    # Parsing the list takes a moment: once per process, on first use. accept_unknown=False
    # so that a name under a top-level name missing from the list has no public suffix.
    return PublicSuffixList(accept_unknown=False)


def check_ip_address(text: str) -> None:
    """Raise InvalidDomainError if text is an IPv4 or IPv6 address (brackets allowed)."""
    value = text.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return
    raise InvalidDomainError(
        N_('"%(text)s" is an IP address. Certificates here are for domain names only.'),
        text=text.strip(),
    )


def check_issuable(name: str) -> None:
    """Raise InvalidDomainError unless a public CA may issue for this normalized name.

    The name is what csr.normalize_domain returns: lowercase ASCII, maybe starting "*.".
    """
    wildcard = name.startswith("*.")
    base = name[2:] if wildcard else name
    top_level = base.rsplit(".", 1)[-1]
    if top_level in SPECIAL_USE_TOP_LEVEL_NAMES:
        raise InvalidDomainError(
            N_(
                '"%(name)s" is under ".%(top_level)s", a reserved name that is not on the public '
                "internet, so no public certificate authority can issue for it."
            ),
            name=name,
            top_level=top_level,
        )
    suffixes = _public_suffixes()
    if suffixes.publicsuffix(base) is None:
        raise InvalidDomainError(
            N_(
                '"%(name)s" does not end in a known top-level domain (".%(top_level)s"). Check its '
                "spelling."
            ),
            name=name,
            top_level=top_level,
        )
    if wildcard and suffixes.is_public(base):
        raise InvalidDomainError(
            N_(
                '"%(name)s" is a wildcard on "%(base)s", a public suffix under which anyone can '
                "register names. A wildcard must be on a domain you own, as in *.example.com."
            ),
            name=name,
            base=base,
        )
