"""Running Alembic from code (the `migrate` command and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    """An Alembic config for the packaged migrations against `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", "s3upload:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at `url`."""
    command.downgrade(alembic_config(url), revision)
