"""Each door's refusals come out in Simplified Chinese for a Chinese reader: a form's
error, a page's message, the API's problem documents, the admin's action messages, the
emails (written in their recipient's language) and the pure core's messages."""

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from certificates import domain_checks, expiry_warnings, forms
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import CustomerSettings
from certificates.pki import bundles
from certificates.pki import errors as pki_errors
from certificates.pki.i18n import N_, Message
from certificates.translation import check_detail, language_of, stored_message
from tests.admin_support import messages_of, post_action
from tests.factories import make_certificate, make_user
from tests.test_admin import application_of, wrong_status_for_review

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [ROOT / app / "locale" for app in ("certificates", "api", "acme_server")]

# Asked for in both ways a Chinese reader's request says it: the header, and the
# language active while the request is handled (this branch may run without the
# locale middleware).
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogues():
    """The apps' catalogues as .mo files, built from the current .po (make builds them too)."""
    for locale in CATALOGUES:
        for po in locale.glob("*/LC_MESSAGES/django.po"):
            subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    trans_real._translations = {}
    trans_real._default = None
    yield
    trans_real._translations = {}


@pytest.fixture
def in_chinese():
    with translation.override("zh-hans"):
        yield


def test_the_cores_message_is_read_in_the_active_language():
    error = pki_errors.NotPEMError()
    assert error.message.startswith("This is not PEM text.")
    with translation.override("zh-hans"):
        assert error.message.startswith("这不是 PEM 文本。")
        assert str(error) == error.message


def test_a_cores_message_with_parameters_keeps_them_in_chinese(in_chinese):
    error = pki_errors.WeakKeyError(key_size=1024)
    assert error.message == "RSA 密钥只有 1024 位。请使用至少 2048 位的 RSA 密钥或 ECC 密钥。"


def test_an_upload_form_error_comes_out_in_chinese(customer, in_chinese):
    form = forms.UploadCertificateForm(
        data={"name": "shop", "certificate": "not a certificate", "key": "not a key"},
        owner=customer,
    )
    assert not form.is_valid()
    assert form.errors["certificate"][0].startswith("未找到证书。请粘贴 PEM 格式的证书")


def test_a_purchase_form_refusal_comes_out_in_chinese(in_chinese):
    form = forms.PurchaseForm(data={"brand": ""}, brands=[])
    assert not form.is_valid()
    assert form.errors["brand"] == ["请选择品牌。"]


def test_a_page_refusal_comes_out_in_chinese(customer, customer_client, in_chinese):
    live = make_certificate(customer, status=Status.ISSUED)
    response = customer_client.get(
        reverse("certificates:delete", args=[live.pk]), HTTP_HX_REQUEST="true", **CHINESE
    )
    assert "此证书已签发且仍有效：请先吊销，再删除。" in response.content.decode()


def test_a_page_message_comes_out_in_chinese(customer, customer_client, in_chinese):
    uploaded = make_certificate(customer, status=Status.ISSUED, source="uploaded", name="shop")
    response = customer_client.post(
        reverse("certificates:delete", args=[uploaded.pk]), follow=True, **CHINESE
    )
    assert "证书 shop 已删除。" in [str(message) for message in response.context["messages"]]


def test_an_api_problem_document_follows_accept_language(db):
    response = Client().get("/api/v1/counters", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    problem = response.json()
    assert problem["type"] == "/api/v1/problems/unauthorized"
    assert problem["title"] == "需要有效的 API 令牌"
    assert problem["detail"] == "请以 `Authorization: Bearer <token>` 发送有效的 API 令牌。"


def test_an_api_problem_document_stays_english_without_accept_language(db):
    problem = Client().get("/api/v1/counters").json()
    assert problem["title"] == "A valid API token is needed"


def test_an_admin_action_refusal_comes_out_in_chinese(customer, operator_client):
    certificate = wrong_status_for_review(customer, "dv")
    # The operator's browser asks for Chinese, on the action and on the page it leads to.
    operator_client.defaults.update(CHINESE)
    response = post_action(
        operator_client,
        "application",
        "approve",
        [application_of(certificate)],
        query="?queue=all",
    )
    [line] = messages_of(response)
    assert "：未通过：" in line
    assert "域名型(DV)证书在域名验证通过后自动签发。" in line


def _choose_language(customer, language: str, monkeypatch) -> None:
    CustomerSettings.objects.update_or_create(customer=customer, defaults={"language": language})


def test_a_customers_language_is_their_profiles_else_the_default(db, monkeypatch, settings):
    customer = make_user("li", email="li@example.com")
    assert language_of(customer) == settings.LANGUAGE_CODE
    _choose_language(customer, "zh-hans", monkeypatch)
    assert language_of(customer) == "zh-hans"


def test_an_email_is_written_in_its_recipients_language(db, monkeypatch, settings):
    settings.CERTIFICATES_EXPIRY_WARNING_DAYS = (30,)
    customer = make_user("li", email="li@example.com")
    _choose_language(customer, "zh-hans", monkeypatch)
    make_certificate(customer, status=Status.ISSUED, days_left=10)
    rendered_in = []
    render = expiry_warnings.render_to_string

    def recording(*args, **kwargs):
        rendered_in.append(translation.get_language())
        return render(*args, **kwargs)

    monkeypatch.setattr(expiry_warnings, "render_to_string", recording)

    expiry_warnings.notify_expiring()

    assert [message.to for message in mail.outbox] == [["li@example.com"]]
    assert rendered_in and set(rendered_in) == {"zh-hans"}
    # The job's own language is left as it was.
    assert translation.get_language() != "zh-hans"


def test_a_domain_checks_finding_is_shown_in_its_readers_language():
    finding = Message(N_("The domain %(host)s has no A or AAAA record"), host="shop.example.com")
    result = domain_checks.CheckResult(domain="shop.example.com", ok=False, detail=finding)
    stored = {"ok": False, "detail": result.detail, **stored_message(result.message)}

    assert result.detail == "The domain shop.example.com has no A or AAAA record"
    assert check_detail(stored) == result.detail
    with translation.override("zh-hans"):
        assert check_detail(stored) == "域名 shop.example.com 没有 A 或 AAAA 记录"


def test_the_download_zips_readme_is_in_the_readers_language(rsa_leaf, intermediate_ca):
    def readme() -> str:
        data = bundles.build_bundle(
            "nginx",
            name="www.example.com",
            certificate=rsa_leaf.cert,
            chain=[intermediate_ca.cert],
            private_key=rsa_leaf.key,
            password="correct-horse",
        )
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read("README.txt").decode()

    assert readme().startswith("SSL certificate for www.example.com: files for Nginx")
    with translation.override("zh-hans"):
        chinese = readme()
    assert chinese.startswith("www.example.com 的 SSL 证书：适用于 Nginx 的文件")
    assert "请妥善保管 www.example.com.key" in chinese
    assert "ssl_certificate     /etc/nginx/ssl/www.example.com.pem;" in chinese
