"""Settings refuse to start the service in an unsafe or impossible configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from s3upload.settings import DEFAULT_JWT_SECRET, AuthSettings, S3Settings, Settings


def test_production_refuses_default_secret():
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET"):
        Settings(environment="production", auth=AuthSettings(jwt_secret=DEFAULT_JWT_SECRET))


def test_production_refuses_short_secret():
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(environment="production", auth=AuthSettings(jwt_secret="short"))


def test_development_accepts_default_secret():
    assert Settings(environment="development").auth.jwt_secret == DEFAULT_JWT_SECRET


def test_production_from_environment(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("S3_BUCKET", "prod-bucket")
    monkeypatch.setenv("PROFILES", '{"default": {}, "avatars": {"allowed_types": ["image/*"]}}')
    settings = Settings()
    assert settings.s3.bucket == "prod-bucket"
    assert settings.profiles["avatars"].allowed_types == ["image/*"]


def test_default_profile_required():
    with pytest.raises(ValidationError, match="default"):
        Settings(environment="development", profiles={})


def test_unknown_checksum_algorithm():
    with pytest.raises(ValidationError, match="checksum"):
        Settings(environment="development", s3=S3Settings(checksum_algorithms=["MD4"]))


def test_path_style_defaults():
    assert S3Settings(endpoint_url=None).use_path_style is False
    assert S3Settings(endpoint_url="http://127.0.0.1:7480").use_path_style is True
    assert S3Settings(endpoint_url="http://x", path_style=False).use_path_style is False
    s3 = S3Settings(endpoint_url="http://internal:7480", public_endpoint_url="https://cdn.example")
    assert s3.signing_endpoint == "https://cdn.example"


def test_database_down_classification():
    from sqlalchemy import exc as sa_exc

    from s3upload.error_handlers import database_down

    class InternalClientError(Exception):
        pass

    class UniqueViolationError(Exception):
        pass

    broken = InternalClientError("cannot switch to state 12")
    assert database_down(sa_exc.InternalError("UPDATE", {}, broken))
    assert database_down(sa_exc.OperationalError("SELECT", {}, ConnectionRefusedError()))
    assert database_down(sa_exc.TimeoutError())
    assert not database_down(sa_exc.IntegrityError("INSERT", {}, UniqueViolationError()))
    assert not database_down(ValueError("bug"))


def test_production_refuses_jwks_without_audience_and_issuer():
    jwks = {"jwt_secret": "s" * 40, "jwks_url": "https://idp.example/jwks"}
    with pytest.raises(ValidationError, match="AUTH_AUDIENCE and AUTH_ISSUER"):
        Settings(environment="production", auth=AuthSettings(**jwks))
    with pytest.raises(ValidationError, match="without AUTH_ISSUER"):
        Settings(environment="production", auth=AuthSettings(**jwks, audience="uploads"))
    both = AuthSettings(**jwks, audience="uploads", issuer="https://idp.example/")
    assert Settings(environment="production", auth=both).auth.audience == "uploads"
    assert Settings(environment="development", auth=AuthSettings(**jwks)).auth.jwks_url
