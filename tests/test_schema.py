"""The schema the migrations make, held word for word (`tests/schema.sql`): applied migrations are
history, so a change to one that alters a table or an index of a new database fails here. A new
migration adds to the file: regenerate it with

    .venv/bin/python -c "import tests.test_schema as t; print(t.schema_of_a_new_database())" > tests/schema.sql
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sync.db.migrations import migrate

EXPECTED = Path(__file__).with_name("schema.sql")


def schema_of_a_new_database() -> str:
    conn = sqlite3.connect(":memory:")
    try:
        migrate(conn)
        rows = conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name")
        return "\n".join(sql + ";" for (sql,) in rows)
    finally:
        conn.close()


def test_the_migrations_make_the_schema_on_record():
    assert schema_of_a_new_database() == EXPECTED.read_text(encoding="utf-8").rstrip("\n")


def test_the_migrations_run_again_change_nothing():
    conn = sqlite3.connect(":memory:")
    try:
        migrate(conn)
        before = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        migrate(conn)
        assert conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == before
    finally:
        conn.close()
