"""The console's benchmark suite: `python -m bench` (or `make bench ARGS="--quick"`).

It makes a scratch database of its own (an SQLite file in a temporary
directory, or with DATABASE_URL a database `<name>_bench` on that server),
fills it with bulk inserts, measures, prints a table and drops the database.
Targets are printed beside the figures, never asserted.
"""
