"""Alembic migrations, shipped inside the package so `s3upload migrate` works anywhere."""
