"""The console's use cases, one module per use case.

Each public service is a keyword-only function that runs in one transaction; the
views, the admin, the batch jobs (and the API and ACME) call exactly these. A
refusal because the action is not allowed now is certificates.errors.ActionNotAllowed,
with a message for the customer; nothing was changed when it is raised.

purchase: pay and create the certificates. applications: save, submit, withdraw,
verify domains, approve and reject. issuance: sign, issue, reissue. uploads: keep a
certificate bought elsewhere. downloads: the zip per server type. deletion: delete.
preferences: expiry warnings. revocation: request, confirm, cancel, complete, reject,
revoke for key compromise. key_compromise: the public report of a compromised key.
publication: the CRL and OCSP answers; ocsp_answers: OCSP answers signed ahead.
account: the customer's profile and defaults.
"""

from certificates.services.account import set_language, update_profile
from certificates.services.applications import (
    approve_application,
    reject_application,
    request_verification,
    run_verification,
    save_application,
    verify_domains,
    withdraw_application,
)
from certificates.services.deletion import delete_certificate
from certificates.services.downloads import Download, download_bundle
from certificates.services.issuance import (
    issue_certificate,
    record_issued_serial,
    reissue_certificate,
)
from certificates.services.key_compromise import (
    CHALLENGE_VALIDITY,
    is_live_challenge,
    new_challenge,
    report_compromised_key,
)
from certificates.services.ocsp_answers import refresh_ocsp_answers, store_ocsp_answer
from certificates.services.preferences import set_expiry_warnings
from certificates.services.publication import (
    answer_ocsp,
    current_crl,
    current_crl_shard,
    publish_crl_shards,
)
from certificates.services.purchase import purchase, subscription_end
from certificates.services.revocation import (
    cancel_revocation,
    complete_revocation,
    confirm_revocation,
    reject_revocation,
    request_revocation,
    revocation_confirmation_token,
    revocation_for_token,
    revoke_for_key_compromise,
)
from certificates.services.uploads import upload_certificate

__all__ = [
    "CHALLENGE_VALIDITY",
    "Download",
    "answer_ocsp",
    "approve_application",
    "cancel_revocation",
    "complete_revocation",
    "confirm_revocation",
    "current_crl",
    "current_crl_shard",
    "delete_certificate",
    "download_bundle",
    "is_live_challenge",
    "issue_certificate",
    "new_challenge",
    "purchase",
    "record_issued_serial",
    "publish_crl_shards",
    "refresh_ocsp_answers",
    "reissue_certificate",
    "reject_application",
    "report_compromised_key",
    "reject_revocation",
    "request_revocation",
    "request_verification",
    "revocation_confirmation_token",
    "revocation_for_token",
    "revoke_for_key_compromise",
    "run_verification",
    "save_application",
    "set_expiry_warnings",
    "store_ocsp_answer",
    "subscription_end",
    "set_language",
    "update_profile",
    "upload_certificate",
    "verify_domains",
    "withdraw_application",
]
