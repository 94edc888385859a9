"""pkilint's CA/Browser Forum server-auth lint of a certificate about to be signed.

The issuance gate builds the certificate, signs it with a throw-away key of the issuing
CA's type (`throwaway_key`), and lints that; only a certificate without ERROR or FATAL
findings is signed for real. The validators are built once per process and type: building
them costs far more than using them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkilint import finding_filter, loader
from pkilint.cabf import serverauth
from pkilint.cabf.serverauth.serverauth_constants import CertificateType
from pkilint.pkix import certificate as pkix_certificate
from pkilint.validation import ValidationFindingSeverity

CERTIFICATE_TYPES: dict[str, CertificateType] = {
    "DV": CertificateType.DV_FINAL_CERTIFICATE,
    "OV": CertificateType.OV_FINAL_CERTIFICATE,
    "EV": CertificateType.EV_FINAL_CERTIFICATE,
}


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    message: str
    path: str

    def __str__(self) -> str:
        message = f": {self.message}" if self.message else ""
        return f"{self.severity} {self.code}{message} (at {self.path})"


@functools.cache
def _validator(certificate_type: CertificateType):
    validator = pkix_certificate.create_pkix_certificate_validator_container(
        serverauth.create_decoding_validators(),
        serverauth.create_validators(certificate_type),
    )
    return validator, serverauth.create_serverauth_finding_filters(certificate_type)


def errors(
    certificate: x509.Certificate, validation_type: str, *, own_host: str = ""
) -> list[Finding]:
    """The ERROR and FATAL findings of pkilint's lint for the validation type (DV, OV, EV).

    `own_host` is the host of the CA's own CRL and OCSP URLs: when it is an internal name
    (a development setup on 127.0.0.1), pkilint's internal-name finding about it is the
    operator's configuration, not this certificate's profile, and is left out.
    """
    validator, filters = _validator(CERTIFICATE_TYPES[validation_type])
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(
        certificate.public_bytes(serialization.Encoding.DER), "certificate"
    )
    results, _ = finding_filter.filter_results(filters, validator.validate(document.root))
    return [
        Finding(
            severity=description.finding.severity.name,
            code=description.finding.code,
            message=description.message or "",
            path=result.node.path,
        )
        for result in results
        for description in result.finding_descriptions
        # FATAL is the more severe of the two: the linter could not even finish.
        if description.finding.severity <= ValidationFindingSeverity.ERROR
        and not (
            own_host
            and description.finding.code == "cabf.internal_domain_name"
            and description.message == f'Internal domain name: "{own_host}"'
        )
    ]


@functools.cache
def throwaway_key(kind: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """A throw-away key per process of the CA key's kind ("secp256r1", "rsa2048", ...)."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    return _curve_key(kind)


def _curve_key(name: str) -> ec.EllipticCurvePrivateKey:
    curves = {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}
    return ec.generate_private_key(curves[name]())


def key_kind(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    """What throwaway_key needs to make a key of the same type as `key`."""
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    return key.curve.name
