"""What each ACME challenge checks (RFC 8555 8.3 and 8.4), through the console's own
domain checks: the same address policy and deadline as the file and DNS methods."""

import hashlib

import josepy as jose

from acme_server.models import AcmeChallenge
from acme_server.protocol import key_thumbprint, problem_json
from certificates import domain_checks


def key_authorization(challenge: AcmeChallenge) -> str:
    account_key = jose.JWK.from_json(challenge.authorization.order.account.jwk)
    return f"{challenge.token}.{key_thumbprint(account_key)}"


def dns_txt_value(challenge: AcmeChallenge) -> str:
    digest = hashlib.sha256(key_authorization(challenge).encode()).digest()
    return jose.b64encode(digest).decode()


def check(
    challenge: AcmeChallenge,
    *,
    nameservers: tuple[str, ...],
    dns_port: int,
    http_port: int,
    timeout: float,
    allowed_networks: tuple[str, ...],
) -> domain_checks.CheckResult:
    resolver = domain_checks.Resolver(nameservers=nameservers, port=dns_port, timeout=timeout)
    domain = challenge.authorization.domain
    if challenge.type == AcmeChallenge.Type.DNS_01:
        return domain_checks.check_dns_txt(
            domain,
            dns_txt_value(challenge),
            resolver=resolver,
            prefix=domain_checks.ACME_DNS_RECORD_PREFIX,
        )
    return domain_checks.check_http_file(
        domain,
        key_authorization(challenge),
        resolver=resolver,
        port=http_port,
        timeout=timeout,
        allowed_networks=allowed_networks,
        path=domain_checks.ACME_CHALLENGE_PATH + challenge.token,
    )


def error_for(challenge: AcmeChallenge, detail: str) -> dict:
    """The problem document a failed challenge carries."""
    typ = "dns" if challenge.type == AcmeChallenge.Type.DNS_01 else "incorrectResponse"
    name = challenge.authorization.name
    return problem_json(typ, detail, identifier={"type": "dns", "value": name})
