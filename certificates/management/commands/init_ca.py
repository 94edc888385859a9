from django.core.management.base import BaseCommand

from certificates import authority
from certificates.models import Brand


class Command(BaseCommand):
    help = "Create the local root and issuing CA of every active brand that has none yet."

    def handle(self, *args, **options) -> None:
        for brand in Brand.objects.filter(is_active=True):
            issuing = authority.issuing_authority(brand)
            self.stdout.write(f"{brand.name}: {issuing.slug} ({authority.load(issuing).name})")
