"""Settings: one validated object, read from the environment (and `.env`) at start-up."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A scope is `<type>/<id>`: the application's kind of thing and its id.
SCOPE_TYPE = r"[a-z][a-z0-9_-]{0,31}"
SCOPE_ID = r"[A-Za-z0-9._-]{1,128}"
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4
DEFAULT_JWT_SECRET = "development-secret-do-not-use-in-production"  # noqa: S105


class Variant(BaseModel):
    """A derived version of an image: its box, how the image fits it, and its format."""

    model_config = ConfigDict(extra="forbid")

    width: int | None = Field(default=None, ge=1, le=16384)
    height: int | None = Field(default=None, ge=1, le=16384)
    fit: Literal["cover", "inside"] = Field(
        default="inside",
        description="`inside`: the whole image within the box; `cover`: the box filled, "
        "the overflow cropped (around the most interesting part).",
    )
    format: Literal["webp", "jpeg", "png", "avif"] = "webp"
    quality: int = Field(default=80, ge=1, le=100)

    @model_validator(mode="after")
    def _a_box(self) -> Variant:
        if self.width is None and self.height is None:
            raise ValueError("a variant needs a width, a height or both")
        if self.fit == "cover" and (self.width is None or self.height is None):
            raise ValueError("fit 'cover' needs both width and height")
        return self


class Profile(BaseModel):
    """A named upload policy: what may be uploaded, how big, under which prefix."""

    allowed_types: list[str] = Field(
        default_factory=lambda: ["*/*"],
        description="Allowed content types; `image/*` and `*/*` wildcards work.",
    )
    max_size: int = Field(default=5 * TiB, gt=0, le=5 * TiB, description="Largest file, bytes.")
    key_prefix: str = Field(default="uploads", pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
    url_expires: int = Field(default=3600, ge=60, le=604800, description="Signed URL lifetime, s.")
    cache_control: str | None = Field(default=None, max_length=200)
    required_role: str | None = None
    metadata_keys: list[str] | None = Field(
        default=None, description="Allowed metadata keys; null allows any well-formed key."
    )
    metadata_required: list[str] = Field(
        default_factory=list, description="Metadata keys every upload must carry (e.g. `title`)."
    )
    scope_types: list[str] | None = Field(
        default=None,
        description="Scope types this profile takes; when set, every upload names a scope of "
        "one of them. Null: a scope is optional, of any type.",
    )
    access: Literal["owner", "claims", "hook"] = Field(
        default="owner",
        description="Who may read, delete and upload in a scope: the owner alone, grants in "
        "the token, or the application's authorization hook.",
    )
    claim_within: int | None = Field(
        default=None,
        ge=1,
        description="Seconds a finished upload waits to be claimed (POST /files/{id}/claim) "
        "before the sweeper removes it; null: nothing to claim.",
    )
    sniff: bool | None = Field(
        default=None,
        description="Read the object's first bytes at verification and fail it if its real "
        "type is not the declared one. Default: on when every allowed type is `image/*`.",
    )
    variants: dict[str, Variant] = Field(
        default_factory=dict,
        description="Derived images by name (`thumb`, `large`): files of this profile go "
        "`processing` then `completed` once every variant is written.",
    )
    rasterize_svg: bool = Field(
        default=False,
        description="Make variants of SVG images; off, an SVG of a profile with variants fails.",
    )
    public: bool = Field(
        default=False,
        description="Finished files and their variants are served to anyone from "
        "PUBLIC_BASE_URL (`bucket setup` grants anonymous reads on this profile's prefix).",
    )

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, value: dict[str, Variant]) -> dict[str, Variant]:
        bad = [n for n in value if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", n)]
        if bad:
            raise ValueError(f"variant names are 1-32 of a-z, 0-9, '-', '_': {bad}")
        return value

    @property
    def sniffs(self) -> bool:
        """Whether the real bytes are checked against the declared type."""
        if self.sniff is not None:
            return self.sniff
        return all(t.lower().startswith("image/") for t in self.allowed_types)

    @field_validator("scope_types")
    @classmethod
    def _scope_types(cls, value: list[str] | None) -> list[str] | None:
        bad = [t for t in value or [] if not re.fullmatch(SCOPE_TYPE, t)]
        if bad:
            raise ValueError(f"scope types must match {SCOPE_TYPE}: {bad}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.access != "owner" and not self.scope_types:
            raise ValueError(f"access '{self.access}' decides per scope: set scope_types")
        if self.metadata_keys is not None:
            missing = sorted(set(self.metadata_required) - set(self.metadata_keys))
            if missing:
                raise ValueError(f"metadata_required keys not in metadata_keys: {missing}")
        return self

    @field_validator("key_prefix")
    @classmethod
    def _no_dot_segments(cls, value: str) -> str:
        if ".." in value.split("/") or value.endswith("/"):
            raise ValueError("key_prefix must not contain '..' segments or end with '/'")
        return value


class DatabaseSettings(BaseModel):
    """Where the records live."""

    model_config = ConfigDict(extra="ignore")

    url: str = "sqlite+aiosqlite:///./s3upload.db"
    pool_size: int = 10
    pool_timeout: float = Field(default=5.0, description="Seconds to wait for a connection.")
    pre_ping: bool = Field(
        default=True,
        description="Check each pooled connection before use (a ping if it sat idle over 10 s); "
        "off, a request on a connection the database dropped fails with 503 once.",
    )
    write_batch: int = Field(
        default=256,
        ge=1,
        description="Most new uploads written in one transaction when creates arrive "
        "together; 1 writes each alone.",
    )
    echo: bool = False


class S3Settings(BaseModel):
    """The object store. Credentials come from the standard AWS chain, never from here."""

    model_config = ConfigDict(extra="ignore")

    endpoint_url: str | None = Field(default=None, description="Null means AWS S3.")
    public_endpoint_url: str | None = Field(
        default=None, description="Endpoint clients reach; URLs are signed for it."
    )
    region: str = "us-east-1"
    bucket: str = "s3upload"
    path_style: bool | None = Field(
        default=None, description="Path-style addressing; default on for non-AWS endpoints."
    )
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_attempts: int = 2
    health_ttl: float = Field(
        default=1.0, ge=0, description="Seconds a successful bucket check is trusted."
    )
    checksum_algorithms: list[str] = Field(
        default_factory=lambda: ["MD5", "SHA256", "SHA1", "CRC32", "CRC32C"],
        description="Checksums clients may declare; limit to MD5 on stores without "
        "flexible checksums (Ceph RGW before Reef).",
    )
    object_acl: Literal["private", "none"] | None = Field(
        default=None,
        description="Canned ACL signed into every upload, so a client cannot send another: "
        "`private`, or `none` for buckets with ACLs disabled. Default: `private` on custom "
        "endpoints (RGW, MinIO honour an unsigned x-amz-acl), `none` on AWS (which refuses "
        "unsigned x-amz-* headers, and whose buckets have ACLs disabled by default).",
    )
    single_part_max: int = Field(default=5 * GiB, gt=0, le=5 * GiB)
    abort_incomplete_days: int = Field(
        default=2, ge=1, description="Lifecycle rule: abort unfinished multipart uploads after."
    )

    @property
    def signing_endpoint(self) -> str | None:
        """The endpoint signed URLs point at."""
        return self.public_endpoint_url or self.endpoint_url

    @property
    def signed_acl(self) -> str | None:
        """The `x-amz-acl` value signed into upload URLs, if any."""
        if self.object_acl is not None:
            return None if self.object_acl == "none" else self.object_acl
        return "private" if self.endpoint_url else None

    @property
    def use_path_style(self) -> bool:
        """Path-style unless told otherwise or talking to AWS."""
        if self.path_style is not None:
            return self.path_style
        return self.endpoint_url is not None


class AuthSettings(BaseModel):
    """JWT verification."""

    model_config = ConfigDict(extra="ignore")

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_algorithms: list[str] = Field(
        default_factory=lambda: ["HS256"],
        description='Accepted algorithms, e.g. ["RS256", "ES256"] with a JWKS URL.',
    )
    jwks_url: str | None = Field(default=None, description="Where the issuer publishes its keys.")
    jwks_ttl: float = Field(default=300, ge=10, description="Seconds JWKS keys are cached.")
    issuer: str | None = None
    audience: str | None = None
    owner_claim: str = "sub"
    roles_claim: str = "roles"
    scopes_claim: str = Field(
        default="scopes",
        description='Claim of grants for `access: claims` profiles: ["event/1234:read", …].',
    )
    leeway: int = Field(default=30, ge=0, le=300, description="Clock skew allowed, seconds.")


class UploadSettings(BaseModel):
    """How uploads are split and how long they may take."""

    model_config = ConfigDict(extra="ignore")

    multipart_threshold: int = Field(
        default=100 * MiB, ge=5 * MiB, description="Files above this size go multipart."
    )
    part_size: int = Field(
        default=64 * MiB, ge=5 * MiB, le=5 * GiB, description="Preferred part size."
    )
    first_batch: int = Field(
        default=100, ge=0, le=10000, description="Part URLs signed with the create answer."
    )
    window: int = Field(
        default=86400, ge=60, description="Seconds a multipart upload may stay pending."
    )
    download_expires: int = Field(
        default=300, ge=10, le=604800, description="Lifetime of signed download URLs, s."
    )


class EventsSettings(BaseModel):
    """Store event notifications: the webhook's guard, SNS checks, SQS, and bucket wiring."""

    model_config = ConfigDict(extra="ignore")

    secret: str | None = Field(
        default=None, description="Shared secret of POST /events/s3 (header or `secret` query)."
    )
    sns_origin_pattern: str = Field(
        default=r"https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?",
        description="Origins (scheme://host) SNS certificates and subscription URLs may have.",
    )
    sns_topics: list[str] = Field(
        default_factory=list, description="Accepted SNS topic ARNs; empty accepts any."
    )
    queue_url: str | None = Field(default=None, description="SQS queue the worker reads.")
    sqs_endpoint_url: str | None = Field(
        default=None, description="SQS endpoint, if not AWS's (local queues)."
    )
    sqs_region: str | None = Field(default=None, description="SQS region; default S3_REGION.")
    webhook_url: str | None = Field(
        default=None,
        description="Where RGW pushes events (bucket setup makes an RGW topic for it).",
    )
    topic_arn: str | None = Field(default=None, description="SNS topic for bucket events (AWS).")
    queue_arn: str | None = Field(
        default=None, description="SQS queue (AWS) or MinIO target ARN for bucket events."
    )


class LimitsSettings(BaseModel):
    """Abuse limits: request rates (per owner and per IP) and per-owner quotas."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = True
    create_per_owner: str = Field(default="120/minute", description="Uploads created.")
    create_per_ip: str = "600/minute"
    sign_per_owner: str = Field(default="600/minute", description="Part-signing requests.")
    sign_per_ip: str = "3000/minute"
    max_pending: int = Field(
        default=1000, ge=0, description="Uploads one owner may have pending at once; 0 = any."
    )
    bytes_per_day: int = Field(
        default=10 * TiB, ge=0, description="Bytes one owner may declare per 24 h; 0 = any."
    )

    @field_validator("create_per_owner", "create_per_ip", "sign_per_owner", "sign_per_ip")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        parse(value)
        return value


class SweepSettings(BaseModel):
    """Reconciling uploads that stayed pending past their window."""

    model_config = ConfigDict(extra="ignore")

    interval: float = Field(
        default=0, ge=0, description="Seconds between sweeps in the app; 0 off."
    )
    grace: int = Field(
        default=3600, ge=0, description="Seconds past the window before an upload is swept."
    )
    batch: int = Field(default=100, ge=1, le=10000, description="Uploads swept per run.")


def _check_whsec(secret: str) -> None:
    """A Standard Webhooks secret: `whsec_` and base64 of at least 16 bytes."""
    raw = secret.removeprefix("whsec_")
    try:
        ok = secret.startswith("whsec_") and len(base64.b64decode(raw, validate=True)) >= 16
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        raise ValueError("a signing secret is whsec_ followed by base64 of 16+ bytes")


class AuthzSettings(BaseModel):
    """The application's authorization hook, asked by profiles with `access: hook`."""

    model_config = ConfigDict(extra="ignore")

    hook_url: str | None = Field(
        default=None, description="Where the service POSTs each question; redirects are refused."
    )
    hook_secret: str | None = Field(
        default=None, description="`whsec_<base64>`: questions are signed like webhooks."
    )
    hook_timeout: float = Field(
        default=2.0, gt=0, le=30, description="Seconds the hook may take; then 503."
    )
    cache_ttl: float = Field(
        default=30,
        ge=0,
        description="Seconds an allow is reused per (subject, scope, action); 0 never. A "
        "revoked grant takes effect within this time.",
    )

    @field_validator("hook_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"AUTHZ_HOOK_URL must be http(s)://host/..., not {value!r}")
        return value

    @field_validator("hook_secret")
    @classmethod
    def _whsec(cls, value: str | None) -> str | None:
        if value is not None:
            _check_whsec(value)
        return value


WEBHOOK_EVENTS = (
    "upload.uploaded",
    "upload.processing",
    "upload.completed",
    "upload.failed",
    "upload.deleted",
    "upload.expired",
    "upload.aborted",
)


class WebhookEndpoint(BaseModel):
    """Where the service tells the application what happened (Standard Webhooks)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http(s) URL; redirects are not followed.")
    secret: str | list[str] = Field(
        description="`whsec_<base64>`, or two while rotating (each signature is sent)."
    )
    events: list[str] = Field(
        default_factory=lambda: ["upload.*"], description="Event types; `upload.*` is all."
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"webhook url must be http(s)://host/..., not {value!r}")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: str | list[str]) -> str | list[str]:
        for secret in [value] if isinstance(value, str) else value:
            _check_whsec(secret)
        if isinstance(value, list) and not 1 <= len(value) <= 2:
            raise ValueError("one secret, or two while rotating")
        return value

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e != "upload.*" and e not in WEBHOOK_EVENTS]
        if unknown:
            raise ValueError(f"unknown webhook events {unknown}; known: {list(WEBHOOK_EVENTS)}")
        return value

    @property
    def secrets(self) -> list[str]:
        """Every secret to sign with."""
        return [self.secret] if isinstance(self.secret, str) else list(self.secret)

    def wants(self, event_type: str) -> bool:
        """Whether this endpoint takes events of this type."""
        return "upload.*" in self.events or event_type in self.events


class ProcessSettings(BaseModel):
    """Processing: checked bytes and image variants, in the service or `s3upload process`."""

    model_config = ConfigDict(extra="ignore")

    in_app: bool = Field(default=True, description="Process in the service's own task.")
    concurrency: int = Field(default=2, ge=1, le=64, description="Files processed at once.")
    lease: float = Field(
        default=300, ge=10, description="Seconds a claimed file is held before another takes it."
    )
    poll: float = Field(default=1.0, gt=0, le=60, description="Seconds between looks for work.")
    attempts: int = Field(
        default=5, ge=1, le=50, description="Tries on store errors before the file fails."
    )
    retry_after: float = Field(
        default=30, ge=0, description="Seconds before a file whose store call failed is retried."
    )
    max_pixels: int = Field(
        default=100_000_000,
        ge=1,
        description="Images with more pixels (all frames) fail instead of being decoded.",
    )
    derived_prefix: str = Field(
        default="derived",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$",
        description="Variants go to `<this>/<profile prefix>/<upload id>/<name>.<ext>`.",
    )


class DeliverySettings(BaseModel):
    """Delivering webhooks: in the service and in `s3upload webhooks deliver` processes."""

    model_config = ConfigDict(extra="ignore")

    in_app: bool = Field(default=True, description="Deliver from the service's own task.")
    timeout: float = Field(default=10, gt=0, le=60, description="Seconds a receiver may take.")
    lease: float = Field(
        default=60, gt=0, description="Seconds a claimed delivery is held before another takes it."
    )
    poll: float = Field(default=0.5, gt=0, le=60, description="Seconds between looks for work.")
    batch: int = Field(default=100, ge=1, le=10_000, description="Deliveries claimed at once.")
    concurrency: int = Field(default=16, ge=1, le=256, description="Requests in flight at once.")
    backoff: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        min_length=1,
        description="Seconds before each retry; after the last, the delivery is `failed`.",
    )
    retention_days: float = Field(
        default=7, gt=0, description="Delivered events older than this are pruned."
    )

    @model_validator(mode="after")
    def _lease_outlives_a_request(self) -> DeliverySettings:
        if self.lease <= self.timeout:
            raise ValueError("DELIVERY_LEASE must be longer than DELIVERY_TIMEOUT")
        return self


class Settings(BaseSettings):
    """Everything the service is configured with."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # Sections read `<SECTION>_<FIELD>` (S3_BUCKET, AUTH_JWT_SECRET), from the environment
        # and from .env alike: only the root BaseSettings reads .env, so sections are models.
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    environment: Literal["development", "test", "production"] = "production"
    redis_url: str | None = Field(
        default=None, description="redis://… to share rate limits between instances."
    )
    metrics_token: str | None = Field(
        default=None,
        description="If set, GET /metrics needs `Authorization: Bearer <it>`; in production "
        "/metrics answers 404 until it is set.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body the API reads (413 `body_too_large` beyond); bodies "
        "are read only after the bearer token is verified.",
    )
    log_level: str = "INFO"
    cors_origins: list[str] = Field(default_factory=list)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    authz: AuthzSettings = Field(default_factory=AuthzSettings)
    process: ProcessSettings = Field(default_factory=ProcessSettings)
    public_base_url: str | None = Field(
        default=None,
        description="Where public profiles' files are served from (a CDN such as CloudFront); "
        "default: the bucket's own URL on the public endpoint.",
    )
    webhooks: list[WebhookEndpoint] = Field(
        default_factory=list, description='JSON: [{"url", "secret", "events"?}], Standard Webhooks.'
    )
    profiles: dict[str, Profile] = Field(default_factory=lambda: {"default": Profile()})

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if "default" not in self.profiles:
            raise ValueError("profiles must define a 'default' profile")
        self._check_access()
        self._check_public()
        if "none" in (a.lower() for a in self.auth.jwt_algorithms):
            raise ValueError("AUTH_JWT_ALGORITHMS must not allow 'none'")
        asymmetric = [a for a in self.auth.jwt_algorithms if not a.startswith("HS")]
        if asymmetric and not self.auth.jwks_url:
            raise ValueError(f"AUTH_JWKS_URL is needed to verify {', '.join(asymmetric)} tokens")
        if self.environment != "development":
            secret = self.auth.jwt_secret
            if any(a.startswith("HS") for a in self.auth.jwt_algorithms) and (
                secret == DEFAULT_JWT_SECRET or len(secret) < 32
            ):
                raise ValueError(
                    "AUTH_JWT_SECRET is the development default or shorter than 32 characters;"
                    " set a real secret or ENVIRONMENT=development"
                )
        if self.environment == "production" and self.auth.jwks_url:
            # Without both, a token the same identity provider issued to any other
            # application would be accepted here.
            lacking = [
                name
                for name, value in (
                    ("AUTH_AUDIENCE", self.auth.audience),
                    ("AUTH_ISSUER", self.auth.issuer),
                )
                if not value
            ]
            if lacking:
                raise ValueError(
                    f"AUTH_JWKS_URL is set without {' and '.join(lacking)}: tokens the same "
                    "identity provider issued to other applications would be accepted; set them"
                )
        unknown = set(self.s3.checksum_algorithms) - set(CHECKSUM_ALGORITHMS)
        if unknown:
            raise ValueError(f"unknown checksum algorithms: {sorted(unknown)}")
        return self

    def _check_access(self) -> None:
        """One way of deciding per scope type, and a hook to ask when a profile needs it."""
        decided: dict[str, tuple[str, str]] = {}
        for name, profile in self.profiles.items():
            for scope_type in profile.scope_types or []:
                first = decided.setdefault(scope_type, (name, profile.access))
                if first[1] != profile.access:
                    raise ValueError(
                        f"profiles '{first[0]}' and '{name}' take scope type '{scope_type}' "
                        f"with different access ({first[1]}, {profile.access})"
                    )
        hooked = [n for n, p in self.profiles.items() if p.access == "hook"]
        if hooked and not (self.authz.hook_url and self.authz.hook_secret):
            raise ValueError(
                f"profiles {hooked} use access 'hook': set AUTHZ_HOOK_URL and AUTHZ_HOOK_SECRET"
            )

    def _check_public(self) -> None:
        """A public profile's prefix is its own: no private profile's keys may fall under it."""
        public = {n: p.key_prefix for n, p in self.profiles.items() if p.public}
        for name, profile in self.profiles.items():
            for pub_name, prefix in public.items():
                if profile.public or name == pub_name:
                    continue
                if (profile.key_prefix + "/").startswith(prefix + "/") or (prefix + "/").startswith(
                    profile.key_prefix + "/"
                ):
                    raise ValueError(
                        f"public profile '{pub_name}' and private profile '{name}' share the "
                        f"key prefix '{prefix}': give the public one a prefix of its own"
                    )
        derived = self.process.derived_prefix.rstrip("/") + "/"
        inside = [n for n, p in self.profiles.items() if (p.key_prefix + "/").startswith(derived)]
        if inside:
            raise ValueError(
                f"profiles {inside} have key prefixes under PROCESS_DERIVED_PREFIX "
                f"'{self.process.derived_prefix}', where variants are written"
            )
        if self.public_base_url is not None:
            parts = urlsplit(self.public_base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("PUBLIC_BASE_URL must be http(s)://host[/path]")

    def derived_prefix(self, profile: Profile) -> str:
        """Where the variants of this profile's files are written."""
        return f"{self.process.derived_prefix.rstrip('/')}/{profile.key_prefix}"

    def public_prefixes(self) -> list[str]:
        """Key prefixes anyone may read: public profiles' files and their variants."""
        found: list[str] = []
        for profile in self.profiles.values():
            if profile.public:
                found += [profile.key_prefix, self.derived_prefix(profile)]
        return sorted(set(found))

    def scope_access(self, scope_type: str) -> str:
        """How access to scopes of this type is decided (`owner` for types no profile names)."""
        for profile in self.profiles.values():
            if scope_type in (profile.scope_types or []):
                return profile.access
        return "owner"


CHECKSUM_ALGORITHMS = ("MD5", "SHA256", "SHA1", "CRC32", "CRC32C")
