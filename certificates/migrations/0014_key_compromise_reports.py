# A revocation request may come from nobody signed in: someone who proved possession
# of the certificate's key on the public key-compromise page. And operators read the
# compromised-key list (view only: only revocations and reports write it).

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP = "Operators"


def let_operators_view_compromised_keys(apps, schema_editor):
    app_config = apps.get_app_config("certificates")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="certificates", codename="view_compromisedkey"
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


def take_it_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*group.permissions.filter(codename="view_compromisedkey"))


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0013_field_labels_in_words"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="revocationrequest",
            name="requested_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(let_operators_view_compromised_keys, take_it_back),
    ]
