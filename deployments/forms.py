"""The Deployment page's forms: a target (its kind's settings), and Deploy."""

import ipaddress
import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate
from deployments import credentials
from deployments.credentials import CredentialChoice
from deployments.models import Target

_HOST_NAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$"
)
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_MODE = re.compile(r"0?[0-7]{3}$")


def parse_host(value: str) -> str:
    """A host name or an IP address (IPv6 without brackets), lower case."""
    host = value.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode()
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or not _HOST_NAME.match(ascii_host):
        raise ValidationError(_("Enter a host name or an IP address."), code="host")
    return ascii_host.rstrip(".")


def parse_host_port(value: str) -> tuple[str, int]:
    """`host:port` (`[IPv6]:port`) as (host, port)."""
    text = value.strip()
    match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", text)
    if not match:
        raise ValidationError(
            _("Enter host:port, e.g. www.example.com:443 or [2001:db8::1]:443."), code="host_port"
        )
    host, port = (match[1], match[2]) if match[1] else (match[3], match[4])
    port_number = int(port)
    if not 1 <= port_number <= 65535:
        raise ValidationError(_("The port must be between 1 and 65535."), code="port")
    return parse_host(host), port_number


def parse_mode(value: str) -> int:
    text = value.strip()
    if not _MODE.fullmatch(text):
        raise ValidationError(_("Enter a file mode in octal, e.g. 0644 or 0600."), code="mode")
    return int(text, 8)


def _check_remote_path(value: str) -> str:
    path = value.strip()
    if not path.startswith("/") or any(ch in path for ch in "\x00\n\r"):
        raise ValidationError(_("Enter an absolute path, e.g. /etc/nginx/certs/site.pem."))
    return path


class TargetForm(forms.ModelForm):
    """Add or edit a target. The service stores what it cleans; credentials are encrypted."""

    verify_at = forms.CharField(
        label=_("Verify at (host:port)"),
        required=False,
        max_length=300,
        help_text=_("The TLS address that should present the certificate afterwards."),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        required=False,
        max_length=2000,
        validators=[URLValidator(schemes=["http", "https"])],
        assume_scheme="https",
    )
    webhook_secret_choice = forms.ChoiceField(
        label=_("Signing secret"),
        required=False,
        widget=forms.RadioSelect,
    )
    webhook_secret = forms.CharField(
        label=_("Paste a signing secret"),
        required=False,
        max_length=256,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
    )
    ssh_key_choice = forms.ChoiceField(
        label=_("SSH private key"),
        required=False,
        widget=forms.RadioSelect,
    )
    ssh_private_key = forms.CharField(
        label=_("Paste a private key"),
        required=False,
        max_length=credentials.MAX_KEY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("OpenSSH or PEM, unencrypted. It is encrypted at rest and never shown."),
    )
    chain_mode = forms.CharField(label=_("Chain file mode"), required=False, initial="0644")
    key_mode = forms.CharField(label=_("Key file mode"), required=False, initial="0600")

    class Meta:
        model = Target
        fields = [
            "name",
            "kind",
            "verify_server_name",
            "redeploy_automatically",
            "webhook_url",
            "ssh_host",
            "ssh_port",
            "ssh_user",
            "chain_path",
            "key_path",
            "reload_command",
            "kubernetes_namespace",
            "kubernetes_secret_name",
        ]
        labels = {
            "name": _("Name"),
            "kind": _("Kind"),
            "verify_server_name": _("SNI name"),
            "redeploy_automatically": _("Redeploy automatically when a certificate is renewed"),
            "ssh_host": _("SSH host"),
            "ssh_port": _("SSH port"),
            "ssh_user": _("SSH user"),
            "chain_path": _("Chain path (leaf and intermediates)"),
            "key_path": _("Key path (empty: no key is written)"),
            "reload_command": _("Reload command"),
            "kubernetes_namespace": _("Namespace"),
            "kubernetes_secret_name": _("Secret name"),
        }
        help_texts = {
            "verify_server_name": _("The name asked for in TLS (SNI); the host when empty."),
            "reload_command": _(
                "Run after the files are written, e.g. sudo systemctl reload nginx."
            ),
        }

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        editing = self.instance.pk is not None
        choices = [
            (CredentialChoice.GENERATE, _("Generate one (shown once)")),
            (CredentialChoice.PASTE, _("Paste one")),
        ]
        if editing and self.instance.webhook_secret_encrypted:
            secret_choices = [(CredentialChoice.KEEP, _("Keep the current one")), *choices]
        else:
            secret_choices = choices
        if editing and self.instance.ssh_private_key_encrypted:
            key_choices = [(CredentialChoice.KEEP, _("Keep the current one")), *choices]
        else:
            key_choices = choices
        self.fields["webhook_secret_choice"].choices = secret_choices
        self.fields["webhook_secret_choice"].initial = secret_choices[0][0]
        self.fields["ssh_key_choice"].choices = key_choices
        self.fields["ssh_key_choice"].initial = key_choices[0][0]
        # static/js/console.js shows the settings of the kind chosen only.
        self.fields["kind"].widget.attrs["data-kind-select"] = ""
        for name in ("ssh_port", "kubernetes_namespace"):
            self.fields[name].required = False
        if editing:
            self.initial["verify_at"] = self.instance.verify_at
            self.initial["chain_mode"] = self.instance.chain_mode_octal
            self.initial["key_mode"] = self.instance.key_mode_octal

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Target.objects.filter(owner=self.owner, name=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(_("You already have a target of this name."))
        return name

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Target.Kind.WEBHOOK, Target.Kind.SSH):
            self._clean_verify_at(data)
        if kind == Target.Kind.WEBHOOK:
            self._clean_webhook(data)
        elif kind == Target.Kind.SSH:
            self._clean_ssh(data)
        elif kind == Target.Kind.KUBERNETES:
            self._clean_kubernetes(data)
        return data

    def _required(self, data, name: str) -> bool:
        if not data.get(name):
            if name not in self.errors:
                self.add_error(name, ValidationError(_("This field is required."), "required"))
            return False
        return True

    def _clean_verify_at(self, data) -> None:
        if not self._required(data, "verify_at"):
            return
        try:
            data["verify_host"], data["verify_port"] = parse_host_port(data["verify_at"])
        except ValidationError as error:
            self.add_error("verify_at", error)
        server_name = data.get("verify_server_name", "").strip()
        if server_name:
            try:
                data["verify_server_name"] = parse_host(server_name)
            except ValidationError as error:
                self.add_error("verify_server_name", error)

    def _clean_webhook(self, data) -> None:
        self._required(data, "webhook_url")
        choice = data.get("webhook_secret_choice") or self.fields["webhook_secret_choice"].initial
        data["webhook_secret_choice"] = choice
        if choice == CredentialChoice.PASTE:
            try:
                data["webhook_secret"] = credentials.check_webhook_secret(
                    data.get("webhook_secret", "")
                )
            except credentials.CredentialError as error:
                self.add_error("webhook_secret", str(error))

    def _clean_ssh(self, data) -> None:
        if self._required(data, "ssh_host"):
            try:
                data["ssh_host"] = parse_host(data["ssh_host"])
            except ValidationError as error:
                self.add_error("ssh_host", error)
        port = data.get("ssh_port") or 22
        if not 1 <= port <= 65535:
            self.add_error("ssh_port", _("The port must be between 1 and 65535."))
        data["ssh_port"] = port
        self._required(data, "ssh_user")
        if self._required(data, "chain_path"):
            try:
                data["chain_path"] = _check_remote_path(data["chain_path"])
            except ValidationError as error:
                self.add_error("chain_path", error)
        if data.get("key_path"):
            try:
                data["key_path"] = _check_remote_path(data["key_path"])
            except ValidationError as error:
                self.add_error("key_path", error)
        for name, default in (("chain_mode", 0o644), ("key_mode", 0o600)):
            text = data.get(name) or ""
            try:
                data[name] = parse_mode(text) if text.strip() else default
            except ValidationError as error:
                self.add_error(name, error)
        self._required(data, "reload_command")
        if any(ch in data.get("reload_command", "") for ch in "\x00\n\r"):
            self.add_error("reload_command", _("The reload command must be one line."))
        choice = data.get("ssh_key_choice") or self.fields["ssh_key_choice"].initial
        data["ssh_key_choice"] = choice
        if choice == CredentialChoice.PASTE:
            try:
                data["ssh_key"] = credentials.read_ssh_key(data.get("ssh_private_key", ""))
            except credentials.CredentialError as error:
                self.add_error("ssh_private_key", str(error))

    def _clean_kubernetes(self, data) -> None:
        namespace = (data.get("kubernetes_namespace") or "default").strip()
        if not _DNS_LABEL.match(namespace):
            self.add_error(
                "kubernetes_namespace",
                _("A namespace is lower-case letters, digits and '-', at most 63 characters."),
            )
        data["kubernetes_namespace"] = namespace
        if self._required(data, "kubernetes_secret_name"):
            name = data["kubernetes_secret_name"].strip()
            if not _DNS_SUBDOMAIN.match(name):
                self.add_error(
                    "kubernetes_secret_name",
                    _("A Secret name is lower-case letters, digits, '-' and '.'."),
                )
            data["kubernetes_secret_name"] = name

    def _post_clean(self):
        # The service stores the target; the model's own checks run there.
        pass


class DeployForm(forms.Form):
    """Deploy: certificates to targets. One form view, one job, however often it is sent."""

    certificates = forms.ModelMultipleChoiceField(
        label=_("Certificates"), queryset=Certificate.objects.none()
    )
    targets = forms.ModelMultipleChoiceField(
        label=_("Targets"), queryset=Target.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, owner, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)
        self.fields["certificates"].queryset = Certificate.objects.owned_by(owner)
        self.fields["targets"].queryset = Target.objects.filter(
            owner=owner, kind__in=[Target.Kind.WEBHOOK, Target.Kind.SSH]
        )
