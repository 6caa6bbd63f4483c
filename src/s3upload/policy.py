"""What may be uploaded: profiles, content types, metadata, checksums, and key naming."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import uuid
from datetime import datetime

from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.errors import (
    InvalidChecksum,
    InvalidMetadata,
    InvalidScope,
    MetadataRequired,
    RoleRequired,
    TooLarge,
    UnknownProfile,
    UnsupportedChecksum,
    UnsupportedType,
)
from s3upload.settings import Profile, Settings

# RFC 6838 type/subtype (each a restricted-name), with optional `; name=value` parameters.
_RESTRICTED_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MIME_RE = re.compile(
    # Spaces only between parameters: a tab reaches the store's signed headers differently.
    rf"^{_RESTRICTED_NAME}/{_RESTRICTED_NAME}(?: *; *{_RESTRICTED_NAME}=(?:{_RESTRICTED_NAME}|\"[\x20-\x21\x23-\x7e]*\"))*$"  # noqa: E501
)
META_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
META_VALUE_RE = re.compile(r"^[\x20-\x7e]*$")
META_MAX_BYTES = 2048  # S3's limit on user metadata
# Bidirectional overrides can make "gpj.exe" display as "exe.jpg".
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
DIGEST_BYTES = {"MD5": 16, "SHA256": 32, "SHA1": 20, "CRC32": 4, "CRC32C": 4}
SAFE_NAME_MAX = 120


def clean_file_name(value: str) -> str:
    """Trim and check a client-given file name; raises ValueError with the reason."""
    name = unicodedata.normalize("NFC", value.strip())
    if not name:
        raise ValueError("must not be empty")
    if len(name) > 255:
        raise ValueError("must be at most 255 characters")
    if any(unicodedata.category(c) == "Cc" or c in _BIDI for c in name):
        raise ValueError("must not contain control characters")
    return name


def essence(mime: str) -> str:
    """`Type/Sub; charset=x` -> `type/sub`."""
    return mime.split(";", 1)[0].strip().lower()


def type_allowed(mime: str, patterns: list[str]) -> bool:
    """Whether a content type matches one of the profile's patterns (`image/*`, `*/*`)."""
    main, _, sub = essence(mime).partition("/")
    for pattern in patterns:
        p_main, _, p_sub = pattern.lower().partition("/")
        if p_main in ("*", main) and p_sub in ("*", sub):
            return True
    return False


def safe_name(file_name: str) -> str:
    """The original name reduced to `[A-Za-z0-9._-]`, short enough for a key."""
    ascii_name = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace("/", "-").replace("\\", "-")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name)
    name = re.sub(r"-{2,}", "-", name)
    name = re.sub(r"\.{2,}", ".", name).strip(".-_")
    if len(name) > SAFE_NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = f"{stem[: SAFE_NAME_MAX - len(ext) - 1].rstrip('.-_')}.{ext}"
        else:
            name = name[:SAFE_NAME_MAX].rstrip(".-_")
    return name or "file"


def object_key(
    profile: Profile,
    upload_id: uuid.UUID,
    file_name: str,
    now: datetime,
    scope: str | None = None,
) -> str:
    """`<prefix>/[<type>/<id>/]<yyyy>/<mm>/<id>/<safe-name>`: the upload id makes it unique,
    the scope groups a thing's files (one prefix to list or expire), the name reads well."""
    within = f"{scope}/" if scope else ""
    return f"{profile.key_prefix}/{within}{now:%Y}/{now:%m}/{upload_id}/{safe_name(file_name)}"


def check_scope(profile: Profile, name: str, scope: str | None) -> None:
    """A scope of a type the profile takes, and one wherever the profile needs it: 422."""
    if profile.scope_types is None:
        return
    where = [{"loc": ["body", "scope"], "msg": "", "type": "invalid_scope"}]
    kinds = ", ".join(f"'{t}/…'" for t in profile.scope_types)
    if scope is None:
        where[0]["msg"] = f"profile '{name}' needs a scope: {kinds}"
        raise InvalidScope(f"scope: profile '{name}' needs one ({kinds}).", details=where)
    if scope.partition("/")[0] not in profile.scope_types:
        where[0]["msg"] = f"profile '{name}' takes scopes {kinds}"
        raise InvalidScope(f"scope: profile '{name}' takes {kinds}, not '{scope}'.", details=where)


def check_required(profile: Profile, metadata: dict[str, str]) -> None:
    """Every metadata key the profile requires, with a value that is not blank: 422."""
    missing = [k for k in profile.metadata_required if not metadata.get(k, "").strip()]
    if missing:
        raise MetadataRequired(
            f"metadata.{missing[0]} is required"
            + (f" (and {', '.join(missing[1:])})." if missing[1:] else "."),
            details=[
                {"loc": ["body", "metadata", key], "msg": "required", "type": "missing"}
                for key in missing
            ],
        )


def pick_profile(settings: Settings, name: str, user: User) -> Profile:
    """The named profile, if it exists and the caller may use it."""
    profile = settings.profiles.get(name)
    if profile is None:
        raise UnknownProfile(
            f"Unknown profile '{name}'.",
            details={"profiles": sorted(settings.profiles)},
        )
    if profile.required_role and not user.has(profile.required_role):
        raise RoleRequired(f"Profile '{name}' needs the '{profile.required_role}' role.")
    return profile


def check_file(profile: Profile, name: str, *, file_type: str, file_size: int | None) -> None:
    """Type and size against the profile: 415 and 413."""
    if not type_allowed(file_type, profile.allowed_types):
        raise UnsupportedType(
            f"Files of type '{essence(file_type)}' are not allowed in profile '{name}'.",
            details={"allowedTypes": profile.allowed_types},
        )
    if file_size is not None and file_size > profile.max_size:
        raise TooLarge(
            f"The file is {file_size} bytes; profile '{name}' allows at most "
            f"{profile.max_size} bytes.",
            details={"maxSize": profile.max_size},
        )


def check_metadata(profile: Profile, metadata: dict[str, str]) -> dict[str, str]:
    """Lower-case keys, well-formed ASCII values, allowed keys, within S3's 2 KB."""
    clean: dict[str, str] = {}
    for raw_key, value in metadata.items():
        key = raw_key.lower()
        if not META_KEY_RE.match(key):
            raise InvalidMetadata(
                f"Metadata key '{raw_key[:64]}' must be 1-64 characters of a-z, 0-9, '-' or '_'.",
            )
        if not META_VALUE_RE.match(value):
            raise InvalidMetadata(
                f"Metadata value of '{key}' must be printable ASCII (no line breaks).",
            )
        if profile.metadata_keys is not None and key not in profile.metadata_keys:
            raise InvalidMetadata(
                f"Metadata key '{key}' is not allowed.",
                details={"allowedKeys": profile.metadata_keys},
            )
        clean[key] = value
    if sum(len(k) + len(v) for k, v in clean.items()) > META_MAX_BYTES:
        raise InvalidMetadata("Metadata must total at most 2048 bytes.")
    return clean


def check_checksum(settings: Settings, algorithm: str, value: str) -> str:
    """A declared checksum: an algorithm the store verifies and a base64 digest of its size."""
    if algorithm not in settings.s3.checksum_algorithms:
        raise UnsupportedChecksum(
            f"Checksum algorithm {algorithm} is not verified by this object store.",
            details={"algorithms": settings.s3.checksum_algorithms},
        )
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidChecksum("checksum.value must be base64.") from exc
    if len(digest) != DIGEST_BYTES[algorithm]:
        raise InvalidChecksum(
            f"A {algorithm} checksum is {DIGEST_BYTES[algorithm]} bytes, not {len(digest)}.",
        )
    return base64.b64encode(digest).decode()


def url_lifetime(upload: Upload, profile: Profile, now: datetime) -> int:
    """Seconds a URL may live: the profile's lifetime, never past the upload's window."""
    return max(1, min(profile.url_expires, int((upload.expires_at - now).total_seconds())))


def profile_of(upload: Upload, settings: Settings) -> Profile:
    """The profile an upload was made under (default if it was since removed)."""
    return settings.profiles.get(upload.profile, settings.profiles["default"])
