"""The public PKI URLs (under /pki/), as certificates.pki.ca names them in certificates."""

from django.urls import path

from certificates import pki_views

app_name = "pki"

urlpatterns = [
    path("<slug:slug>/crl.der", pki_views.crl, name="crl"),
    # One shard of the partitioned CRL (certificates.pki.ca.crl_shard_url).
    path("<slug:slug>/crl/<int:shard>.der", pki_views.crl_shard, name="crl_shard"),
    path("<slug:slug>/root-crl.der", pki_views.root_crl, name="root_crl"),
    path("<slug:slug>/ca.der", pki_views.ca_certificate, name="ca_certificate"),
    path("<slug:slug>/root.der", pki_views.root_certificate, name="root_certificate"),
    # POST the request to .../ocsp, or GET it base64-encoded after it (RFC 6960 A.1).
    path("<slug:slug>/ocsp", pki_views.ocsp, name="ocsp"),
    path("<slug:slug>/ocsp/", pki_views.ocsp),
    path("<slug:slug>/ocsp/<path:encoded>", pki_views.ocsp, name="ocsp_get"),
]
