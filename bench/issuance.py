"""Issuing a certificate with the local CA, and building each server type's download zip."""

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bench.report import Row, median, ms, timed
from certificates.pki import bundles, ca, csr

BASE_URL = "http://pki.example.com"


def _authorities() -> ca.Authority:
    names = ca.local_ca_names("Bench")
    now = datetime.now(UTC)
    root = ca.create_root_ca(
        common_name=names.root_common_name, organization=names.organization, now=now, country="CN"
    )
    return ca.create_issuing_ca(
        root,
        common_name=names.issuing_common_name,
        organization=names.organization,
        now=now,
        base_url=BASE_URL,
        slug="bench",
        country="CN",
    )


def measure(*, repeat: int) -> list[Row]:
    issuing = _authorities()
    keys = {
        "RSA 2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ECC P-256": ec.generate_private_key(ec.SECP256R1()),
    }
    domains = ["shop.example.com", "www.shop.example.com"]

    def issue(key) -> object:
        # What the console does per certificate: check the CSR, then sign.
        request = csr.build_csr(key, domains)
        csr.check_csr(request, domains)
        return ca.issue_certificate(
            issuing,
            csr_public_key=request.public_key(),
            domains=domains,
            validation_type="DV",
            subject=None,
            now=datetime.now(UTC),
            validity_days=199,
            base_url=BASE_URL,
            ca_slug="bench",
        )

    rows = [
        Row(
            "issuance",
            f"{label}: CSR check and signing, median",
            ms(median(timed(lambda k=key: issue(k), repeat))),
        )
        for label, key in keys.items()
    ]
    leaf = issue(keys["RSA 2048"])
    for server_type in bundles.SERVER_TYPES:
        seconds = median(
            timed(
                lambda s=server_type: bundles.build_bundle(
                    s,
                    name="shop.example.com",
                    certificate=leaf,
                    chain=[issuing.certificate],
                    private_key=keys["RSA 2048"],
                ),
                repeat,
            )
        )
        rows.append(Row("download", f"{server_type} zip (RSA 2048): median", ms(seconds)))
    return rows
