"""Errors raised by the PKI core.

Each error carries a ``message`` that can be shown to the customer as is: an English
template (marked with ``N_``) and its named parameters, read in the active language
(certificates.pki.i18n). ``template`` and ``params`` let an error be raised again as
another type with the same message.
"""

from typing import Any

from certificates.pki.i18n import N_, Message, render


class PKIError(Exception):
    """Base class for every problem with an uploaded certificate, key or file."""

    default_message = N_("The certificate or private key could not be read.")

    def __init__(self, message: str | None = None, /, **params: Any) -> None:
        self.template = message or self.default_message
        self.params = params
        super().__init__(self.template)

    @property
    def message(self) -> str:
        return render(self.template, self.params)

    def __str__(self) -> str:
        return self.message


class NotPEMError(PKIError):
    default_message = N_(
        "This is not PEM text. If you have a DER, PKCS#7 (.p7b) or PKCS#12 (.pfx/.p12) file, "
        "convert it to PEM first with the converter."
    )


class DamagedPEMError(PKIError):
    default_message = N_(
        "A PEM block is damaged: its content is not valid. "
        "Copy it again from the original file, including the BEGIN and END lines."
    )


class NoCertificateError(PKIError):
    default_message = N_(
        "No certificate was found. Paste the certificate in PEM format: "
        "it starts with -----BEGIN CERTIFICATE-----."
    )


class NoKeyError(PKIError):
    default_message = N_(
        "No private key was found. Paste the private key in PEM format: it starts with "
        "-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- "
        "or -----BEGIN EC PRIVATE KEY-----."
    )


class EncryptedKeyError(PKIError):
    default_message = N_(
        "The private key is encrypted (password-protected). Upload the key without a password."
    )


class KeyMismatchError(PKIError):
    default_message = N_(
        "The private key does not match any of the certificates. "
        "Check that you uploaded the key that was used to request this certificate."
    )


class WeakKeyError(PKIError):
    default_message = N_("The key is too weak. Use an RSA key of at least 2048 bits or an ECC key.")

    def __init__(
        self, message: str | None = None, /, *, key_size: int | None = None, **params: Any
    ) -> None:
        self.key_size = key_size
        if message is None and key_size is not None:
            message = N_(
                "The RSA key is only %(key_size)s bits. "
                "Use an RSA key of at least 2048 bits or an ECC key."
            )
            params["key_size"] = key_size
        super().__init__(message, **params)


class UnsupportedKeyError(PKIError):
    default_message = N_(
        "This type of key is not supported. Use an RSA (2048 bits or more), "
        "ECC (P-256, P-384 or P-521) or Ed25519 key."
    )


class BrokenChainError(PKIError):
    default_message = N_(
        "The certificates do not form a chain: each certificate must be signed by the next one."
    )


class NotAServerCertificateError(PKIError):
    """The certificate to upload is one a server can't present: a CA's, or with names
    that are neither DNS names nor IP addresses."""


class MultipleKeysError(PKIError):
    default_message = N_(
        "The text contains more than one private key. Upload only one private key."
    )


class ConversionError(PKIError):
    default_message = N_(
        "The file could not be read. Upload a DER, PKCS#7 (.p7b), PKCS#12 (.pfx/.p12) or PEM file."
    )


class WrongPasswordError(ConversionError):
    default_message = N_(
        "Wrong password for this PKCS#12 (.pfx/.p12) file, or the file is damaged. "
        "Enter the password that was set when the file was exported."
    )


class TooManyIterationsError(ConversionError):
    """A password-protected file asks for more password hashing than the console allows."""

    default_message = N_(
        "This file asks for more iterations of password hashing than the console allows. "
        "Export it again with the usual settings."
    )


# --- Certificate requests, domains and subjects (the certificate authority) ------------


class InvalidCSRError(PKIError):
    default_message = N_(
        "This is not a valid certificate signing request (CSR). Paste the CSR in PEM format: "
        "it starts with -----BEGIN CERTIFICATE REQUEST-----."
    )


class CSRSignatureError(PKIError):
    default_message = N_(
        "The CSR's signature is not valid: the request was changed after it was signed, or it "
        "was damaged when copied. Generate the CSR again and paste it unchanged."
    )


class CSRSignedWithSHA1Error(PKIError):
    default_message = N_(
        "The CSR is signed with SHA-1, which certificate authorities no longer accept "
        "(Baseline Requirements 7.1.3). Generate the CSR again with SHA-256."
    )


class CSRDomainMismatchError(PKIError):
    """The CSR names other domains than the application; `missing` and `extra` say which."""

    default_message = N_("The domain names in the CSR are not the domains of this application.")

    def __init__(
        self,
        message: str | None = None,
        *,
        missing: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
    ) -> None:
        self.missing = missing
        self.extra = extra
        params: dict[str, str] = {}
        if message is None and (missing or extra):
            message = _domain_mismatch_template(bool(missing), bool(extra))
            params = {"missing": ", ".join(missing), "extra": ", ".join(extra)}
        super().__init__(message, **params)


def _domain_mismatch_template(missing: bool, extra: bool) -> str:
    if missing and extra:
        return N_(
            "The domain names in the CSR (its common name and subject alternative names) "
            "must be exactly the domains of this application. Missing from the CSR: "
            "%(missing)s. In the CSR but not in the application: %(extra)s. Generate a CSR "
            "for exactly these domains, or change the domains."
        )
    if missing:
        return N_(
            "The domain names in the CSR (its common name and subject alternative names) "
            "must be exactly the domains of this application. Missing from the CSR: "
            "%(missing)s. Generate a CSR for exactly these domains, or change the domains."
        )
    return N_(
        "The domain names in the CSR (its common name and subject alternative names) "
        "must be exactly the domains of this application. In the CSR but not in the "
        "application: %(extra)s. Generate a CSR for exactly these domains, or change the "
        "domains."
    )


class InvalidDomainError(PKIError):
    default_message = N_("This is not a valid domain name.")


class InvalidSubjectError(PKIError):
    """The organization details of an OV or EV application are missing or not valid.

    `problems` says what is wrong with each field of the SubjectInfo concerned ("country":
    "The country must be ...", each a Message read in the active language); `field` is
    the first of them, whose problem is the message. Both are empty when the details are
    missing altogether.
    """

    default_message = N_("The organization details are incomplete.")

    def __init__(
        self,
        message: str | None = None,
        /,
        *,
        problems: dict[str, Message] | None = None,
        **params: Any,
    ):
        self.problems = dict(problems or {})
        self.field = next(iter(self.problems), "")
        if message is None and self.problems:
            first = self.problems[self.field]
            message, params = first.template, first.params
        super().__init__(message, **params)
