"""Errors raised by the PKI core.

Each error carries a plain-English ``message`` that can be shown to the customer as is.
"""


class PKIError(Exception):
    """Base class for every problem with an uploaded certificate, key or file."""

    default_message = "The certificate or private key could not be read."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotPEMError(PKIError):
    default_message = (
        "This is not PEM text. If you have a DER, PKCS#7 (.p7b) or PKCS#12 (.pfx/.p12) file, "
        "convert it to PEM first with the converter."
    )


class DamagedPEMError(PKIError):
    default_message = (
        "A PEM block is damaged: its content is not valid. "
        "Copy it again from the original file, including the BEGIN and END lines."
    )


class NoCertificateError(PKIError):
    default_message = (
        "No certificate was found. Paste the certificate in PEM format: "
        "it starts with -----BEGIN CERTIFICATE-----."
    )


class NoKeyError(PKIError):
    default_message = (
        "No private key was found. Paste the private key in PEM format: it starts with "
        "-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- "
        "or -----BEGIN EC PRIVATE KEY-----."
    )


class EncryptedKeyError(PKIError):
    default_message = (
        "The private key is encrypted (password-protected). Upload the key without a password."
    )


class KeyMismatchError(PKIError):
    default_message = (
        "The private key does not match any of the certificates. "
        "Check that you uploaded the key that was used to request this certificate."
    )


class WeakKeyError(PKIError):
    default_message = "The key is too weak. Use an RSA key of at least 2048 bits or an ECC key."

    def __init__(self, message: str | None = None, *, key_size: int | None = None) -> None:
        self.key_size = key_size
        if message is None and key_size is not None:
            message = (
                f"The RSA key is only {key_size} bits. "
                "Use an RSA key of at least 2048 bits or an ECC key."
            )
        super().__init__(message)


class UnsupportedKeyError(PKIError):
    default_message = (
        "This type of key is not supported. Use an RSA (2048 bits or more), "
        "ECC (P-256, P-384 or P-521) or Ed25519 key."
    )


class BrokenChainError(PKIError):
    default_message = (
        "The certificates do not form a chain: each certificate must be signed by the next one."
    )


class NotAServerCertificateError(PKIError):
    """The certificate to upload is one a server can't present: a CA's, or with names
    that are neither DNS names nor IP addresses."""


class MultipleKeysError(PKIError):
    default_message = "The text contains more than one private key. Upload only one private key."


class ConversionError(PKIError):
    default_message = (
        "The file could not be read. Upload a DER, PKCS#7 (.p7b), PKCS#12 (.pfx/.p12) or PEM file."
    )


class WrongPasswordError(ConversionError):
    default_message = (
        "Wrong password for this PKCS#12 (.pfx/.p12) file, or the file is damaged. "
        "Enter the password that was set when the file was exported."
    )


class TooManyIterationsError(ConversionError):
    """A password-protected file asks for more password hashing than the console allows."""

    default_message = (
        "This file asks for more iterations of password hashing than the console allows. "
        "Export it again with the usual settings."
    )


# --- Certificate requests, domains and subjects (the certificate authority) ------------


class InvalidCSRError(PKIError):
    default_message = (
        "This is not a valid certificate signing request (CSR). Paste the CSR in PEM format: "
        "it starts with -----BEGIN CERTIFICATE REQUEST-----."
    )


class CSRSignatureError(PKIError):
    default_message = (
        "The CSR's signature is not valid: the request was changed after it was signed, or it "
        "was damaged when copied. Generate the CSR again and paste it unchanged."
    )


class CSRDomainMismatchError(PKIError):
    """The CSR names other domains than the application; `missing` and `extra` say which."""

    default_message = "The domain names in the CSR are not the domains of this application."

    def __init__(
        self,
        message: str | None = None,
        *,
        missing: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
    ) -> None:
        self.missing = missing
        self.extra = extra
        if message is None and (missing or extra):
            message = _domain_mismatch_message(missing, extra)
        super().__init__(message)


def _domain_mismatch_message(missing: tuple[str, ...], extra: tuple[str, ...]) -> str:
    parts = ["The domain names in the CSR (its common name and subject alternative names) "]
    parts.append("must be exactly the domains of this application.")
    if missing:
        parts.append(f" Missing from the CSR: {', '.join(missing)}.")
    if extra:
        parts.append(f" In the CSR but not in the application: {', '.join(extra)}.")
    parts.append(" Generate a CSR for exactly these domains, or change the domains.")
    return "".join(parts)


class InvalidDomainError(PKIError):
    default_message = "This is not a valid domain name."


class InvalidSubjectError(PKIError):
    """The organization details of an OV or EV application are missing or not valid.

    `problems` says what is wrong with each field of the SubjectInfo concerned ("country":
    "The country must be ..."); `field` is the first of them, whose problem is the message.
    Both are empty when the details are missing altogether.
    """

    default_message = "The organization details are incomplete."

    def __init__(self, message: str | None = None, *, problems: dict[str, str] | None = None):
        self.problems = dict(problems or {})
        self.field = next(iter(self.problems), "")
        if message is None and self.problems:
            message = self.problems[self.field]
        super().__init__(message)
