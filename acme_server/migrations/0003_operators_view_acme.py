# Operators read the ACME server's records in the admin (view only: customers and the
# protocol change them).
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Operators"
CODENAMES = [
    "view_acmecredential",
    "view_acmeaccount",
    "view_acmeorder",
    "view_acmeauthorization",
    "view_acmechallenge",
]


def let_operators_view_acme(apps, schema_editor):
    app_config = apps.get_app_config("acme_server")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="acme_server", codename__in=CODENAMES)
    )


def take_it_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*group.permissions.filter(codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("acme_server", "0002_acme_names"),
        ("certificates", "0008_operators_group"),
    ]

    operations = [migrations.RunPython(let_operators_view_acme, take_it_back)]
