import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from acme_server import selectors
from acme_server.services import accounts


class Command(BaseCommand):
    help = "Create ACME credentials (External Account Binding) for a customer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="What the credential is for.")
        parser.add_argument(
            "--json", action="store_true", help='Print {"kid", "hmac", "directory"} as JSON.'
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user is named {options['username']!r}.")
        credential, hmac_key = accounts.create_credential(owner=user, label=options["label"])
        values = {"kid": credential.kid, "hmac": hmac_key, "directory": selectors.directory_url()}
        if options["json"]:
            self.stdout.write(json.dumps(values))
        else:
            for name, value in values.items():
                self.stdout.write(f"{name}: {value}")
