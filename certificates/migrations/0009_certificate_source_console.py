from django.db import migrations, models


def rename_source(apps, old: str, new: str) -> None:
    Certificate = apps.get_model("certificates", "Certificate")
    Certificate.objects.filter(source=old).update(source=new)


def forwards(apps, schema_editor):
    # "issued" was also a status; the source of a certificate the console's CA signed is "console".
    rename_source(apps, "issued", "console")


def backwards(apps, schema_editor):
    rename_source(apps, "console", "issued")


class Migration(migrations.Migration):
    dependencies = [("certificates", "0008_operators_group")]

    operations = [
        migrations.AlterField(
            model_name="certificate",
            name="source",
            field=models.CharField(
                choices=[("console", "Issued by the console"), ("uploaded", "Uploaded")],
                default="console",
                max_length=10,
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
