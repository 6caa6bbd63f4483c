"""Database: models, engine and the session dependency."""
