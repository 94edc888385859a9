"""OV/EV applications prove domain control too: those submitted as "review" wait for the
DNS TXT record, the method they were shown instructions for."""

from django.db import migrations


def review_to_dns(apps, schema_editor):
    Application = apps.get_model("certificates", "Application")
    Application.objects.filter(validation_method="review").update(validation_method="dns")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0015_serials_with_leading_zeros")]

    operations = [migrations.RunPython(review_to_dns, migrations.RunPython.noop)]
