"""Issuing a certificate with the local CA, and building each server type's download zip."""

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bench.report import Row, median, ms, timed, verdict
from certificates.pki import bundles, ca, csr, lint

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
    rows += _lint_rows(issuing, keys["ECC P-256"], domains, repeat)
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


LINT_TARGET_SECONDS = 0.010
SUBJECT = ca.SubjectInfo(
    organization="Example Shop Ltd",
    country="CN",
    city="Hangzhou",
    business_category="Private Organization",
    jurisdiction_country="CN",
    registration_number="91330100MA27X",
)


def _lint_rows(issuing: ca.Authority, key, domains: list[str], repeat: int) -> list[Row]:
    """What the issuance gate adds per certificate: the throw-away signature and pkilint's
    lint, once the validator is built (once per process)."""
    throwaway = lint.throwaway_key(lint.key_kind(issuing.private_key))
    rows = []
    for validation_type in ("DV", "OV", "EV"):
        builder = ca.build_certificate(
            issuing,
            csr_public_key=key.public_key(),
            domains=domains,
            validation_type=validation_type,
            subject=None if validation_type == "DV" else SUBJECT,
            now=datetime.now(UTC),
            validity_days=199,
            base_url=BASE_URL,
            ca_slug="bench",
        )

        def lint_once(builder=builder, validation_type=validation_type) -> None:
            findings = lint.errors(ca.sign_certificate(builder, throwaway), validation_type)
            if findings:
                raise AssertionError(f"The bench certificate has lint errors: {findings}")

        lint_once()  # builds the validator
        seconds = median(timed(lint_once, repeat))
        rows.append(
            Row(
                "issuance",
                f"lint before signing ({validation_type}): per certificate, median",
                ms(seconds),
                f"< {LINT_TARGET_SECONDS * 1000:.0f} ms",
                verdict(seconds < LINT_TARGET_SECONDS),
            )
        )
    return rows
