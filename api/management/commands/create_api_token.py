import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api import tokens
from api.models import ApiToken


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--scope", choices=["read", "write"], default="read")
        parser.add_argument("--label", default="", help="Default: cli-<n>.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help='Print {"token": ...} only.'
        )

    def handle(
        self, *args, username: str, scope: str, label: str, as_json: bool, **options
    ) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if not label:
            label = f"cli-{ApiToken.objects.filter(owner=user).count() + 1}"
        try:
            token, secret = tokens.create_api_token(owner=user, label=label, scope=scope)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if as_json:
            self.stdout.write(json.dumps({"token": secret, "label": token.label, "scope": scope}))
        else:
            self.stdout.write(f"Token {token.label} ({token.get_scope_display()}): {secret}")
            self.stdout.write("It is shown only this once; it is stored as a hash.")
