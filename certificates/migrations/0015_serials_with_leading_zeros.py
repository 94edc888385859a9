# Serial numbers are kept as the hex of their DER INTEGER, leading zeros included
# (certificates.pki.parsing.serial_hex). The console's own CA makes serials whose first
# hex digit is never 0, so only uploaded certificates can change.

from django.db import migrations

from certificates.pki.parsing import load_certificates, serial_hex


def keep_leading_zeros(apps, schema_editor):
    Certificate = apps.get_model("certificates", "Certificate")
    rows = (
        Certificate.objects.filter(source="uploaded")
        .exclude(certificate_pem="")
        .only("id", "serial", "certificate_pem")
    )
    for row in rows.iterator(chunk_size=500):
        serial = serial_hex(load_certificates(row.certificate_pem)[0].serial_number)
        if serial != row.serial:
            Certificate.objects.filter(pk=row.pk).update(serial=serial)


class Migration(migrations.Migration):
    dependencies = [("certificates", "0014_key_compromise_reports")]

    operations = [migrations.RunPython(keep_leading_zeros, migrations.RunPython.noop)]
