"""Alembic migrations of the product's database; `db.schema` runs them (no alembic.ini needed)."""
