# The overview's search box matches the certificate name or any domain with
# icontains, which Django writes on PostgreSQL as UPPER(column) LIKE UPPER('%term%').
# A B-tree cannot serve a LIKE with a leading wildcard; a trigram GIN index on
# the same UPPER(...) expression can. PostgreSQL only (pg_trgm is one of its
# extensions); on other databases this migration does nothing. The indexes are
# not declared on the model, so Django's model state and makemigrations ignore
# them. CONCURRENTLY keeps writes going while a large table is indexed, which
# needs a migration outside a transaction.

from django.db import migrations

INDEXES = {
    "cert_name_trgm": "name",
    "cert_domains_trgm": "domains",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON certificates_certificate "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("certificates", "0005_overview_counts_index"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
