"""Brands: the ones listed, the ones on sale, and the one an uploaded certificate's issuer names."""

from django.db.models import QuerySet

from certificates.models import Brand


def brands() -> QuerySet[Brand]:
    return Brand.objects.all()


def brands_on_sale() -> QuerySet[Brand]:
    return Brand.objects.filter(is_active=True)


def brand_for_issuer(issuer_organization: str, issuer_common_name: str) -> Brand | None:
    """The known brand an issuer names, e.g. "DigiCert Inc" -> DigiCert."""
    issuer = f"{issuer_organization} {issuer_common_name}".lower()
    for brand in Brand.objects.exclude(issuer_match=""):
        if brand.issuer_match.lower() in issuer:
            return brand
    return None
