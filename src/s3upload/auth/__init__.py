"""Authentication (JWT) and the current-user dependency."""
