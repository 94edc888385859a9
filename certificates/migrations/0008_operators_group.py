# The "Operators" group: the staff who run the certificate service in the Django
# admin (review applications, process revocations as the CA, look up orders and the
# audit log, keep the brand table). Put an operator in it and leave is_staff on;
# they are not superusers.
#
# The permissions, and why each is (or is not) there:
#
# - Brands and products: add, change and view. The brand table and what is on sale
#   are the operators' to keep. No delete: orders and certificates point at them
#   (PROTECT), and is_active withdraws one from sale.
# - Applications and revocation requests: view, and "change", which in this admin
#   is the right to decide: the approve/reject and complete/reject actions, which
#   go through certificates.services. The rows themselves are read-only in the
#   admin; no add (customers make them) and no delete (the record of a decision).
# - Certificates, their issued serials and expiry notices, orders and certificate
#   authorities: view only. A status changes only through certificates.lifecycle,
#   a refund only by completing a revocation, and a CA's key never leaves it.
# - Audit events: view only. Nobody edits or deletes the audit log; the admin
#   refuses it to superusers too.
# - No users, groups or permissions: operators don't manage accounts.
#
# The list is frozen here, as data migrations should be; a later model that
# operators need gets its permissions in a migration of its own.

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Operators"

PERMISSIONS = {
    "brand": ("add", "change", "view"),
    "product": ("add", "change", "view"),
    "application": ("change", "view"),
    "revocationrequest": ("change", "view"),
    "certificate": ("view",),
    "issuedserial": ("view",),
    "expirynotice": ("view",),
    "order": ("view",),
    "certificateauthority": ("view",),
    "auditevent": ("view",),
}


def create_operators_group(apps, schema_editor):
    # On a new database the permissions are only made after all migrations have
    # run (post_migrate); make this app's now so the group can have them.
    app_config = apps.get_app_config("certificates")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [
        f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions
    ]
    permissions = list(
        Permission.objects.filter(content_type__app_label="certificates", codename__in=codenames)
    )
    missing = set(codenames) - {permission.codename for permission in permissions}
    if missing:
        raise RuntimeError(f"Permissions missing for the Operators group: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(permissions)


def remove_operators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("certificates", "0007_revocation_publication"),
    ]

    operations = [
        migrations.RunPython(create_operators_group, remove_operators_group),
    ]
