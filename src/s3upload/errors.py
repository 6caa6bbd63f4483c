"""The catalogue of errors: one class per error code, each with its HTTP status.

Plain Python with no server dependency, so the client library can name the same codes.
The handlers that render these as responses are in `s3upload.error_handlers`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the service answers on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    doc: ClassVar[str] = "A bug; no internals are shown."
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class _RetryLater(AppError):
    """An error that tells the client when to try again (`Retry-After`)."""

    retry_after: ClassVar[int] = 5

    def __init__(self, message: str, *, details: Any = None, retry_after: int | None = None):
        super().__init__(message, details=details)
        self.headers = {"Retry-After": str(retry_after or self.retry_after)}


# 400: the request's shape is wrong.
class BadRequest(AppError):
    status, code, doc = 400, "bad_request", "The request is malformed."


class InvalidJson(BadRequest):
    code, doc = "invalid_json", "The body is not the JSON object expected."


class InvalidEvent(BadRequest):
    code, doc = "invalid_event", "A store event that is not JSON or lacks its fields."


# 401: who the caller is could not be established.
class Unauthorized(AppError):
    status, code, doc = 401, "unauthorized", "Authentication failed."
    headers = {"WWW-Authenticate": "Bearer"}


class MissingToken(Unauthorized):
    code, doc = "missing_token", "No `Authorization: Bearer` header."


class InvalidToken(Unauthorized):
    code, doc = "invalid_token", "The token's signature, algorithm, key or claims are wrong."


class TokenExpired(Unauthorized):
    code, doc = "token_expired", "The token is past its `exp`."


class JwksUnavailable(Unauthorized):
    code, doc = "jwks_unavailable", "The issuer's signing keys could not be fetched."


# 403: the caller is known but may not do this.
class Forbidden(AppError):
    status, code, doc = 403, "forbidden", "The caller may not do this."


class RoleRequired(Forbidden):
    code, doc = "role_required", "A role the caller lacks (`processor`, or a profile's role)."


class EventsDisabled(Forbidden):
    code, doc = "events_disabled", "`EVENTS_SECRET` is not set, so no event is accepted."


class InvalidEventSecret(Forbidden):
    code, doc = "invalid_event_secret", "The store event's shared secret is missing or wrong."


class InvalidSignature(Forbidden):
    code, doc = "invalid_signature", "An SNS message whose signature or certificate is wrong."


class UnknownTopic(Forbidden):
    code, doc = "unknown_topic", "An SNS message from a topic not in `EVENTS_SNS_TOPICS`."


# 404: absent, or not the caller's (never 403, so ids cannot be probed).
class NotFound(AppError):
    status, code, doc = 404, "not_found", "No such upload for this caller, or no such route."

    def __init__(self, message: str = "No such upload.", *, details: Any = None) -> None:
        super().__init__(message, details=details)


class VariantNotFound(NotFound):
    code, doc = "variant_not_found", "The file has no such variant (yet): see its `variants`."


class MethodNotAllowed(AppError):
    status, code, doc = 405, "method_not_allowed", "The route exists; `Allow` lists its methods."


# 409: the upload's status does not allow this; `details.status` says what it is.
class Conflict(AppError):
    status, code, doc = 409, "conflict", "The upload's state does not allow this."


class InvalidTransition(Conflict):
    code, doc = "invalid_transition", "A status change the state machine does not allow."


class NotDownloadable(Conflict):
    code, doc = "not_downloadable", "The file is not uploaded, processing or completed."


class NotMultipart(Conflict):
    code, doc = "not_multipart", "Parts asked of a single-part upload."


class ObjectMissing(Conflict):
    code, doc = "object_missing", "Completed before the bytes reached the store."


class PartsMissing(Conflict):
    code, doc = "parts_missing", "Completed before every part reached the store."


class PartOutsidePlan(Conflict):
    code, doc = "part_outside_plan", "Part numbers beyond the upload's planned part count."


class PartsRejected(Conflict):
    code, doc = "parts_rejected", "The store refused the part list (an ETag does not match)."


# 413: too big.
class TooLarge(AppError):
    status, code, doc = 413, "file_too_large", "The file is larger than its profile allows."


class OverDailyQuota(TooLarge):
    code, doc = "over_daily_quota", "One file larger than the owner's whole daily quota."


class BodyTooLarge(TooLarge):
    code, doc = "body_too_large", "A request body larger than `MAX_BODY_BYTES`."


# 415: the type is not allowed.
class UnsupportedType(AppError):
    status, code, doc = 415, "unsupported_file_type", "The file's type is outside its profile."


class UnsupportedMediaType(UnsupportedType):
    code, doc = "unsupported_media_type", "The request body's own type is not JSON."


# 422: the request is well formed but its values are not acceptable.
class Invalid(AppError):
    status, code, doc = 422, "validation_error", "A field is invalid; `details` lists which."


class SizeRequired(Invalid):
    code, doc = "size_required", "A PUT upload without `fileSize`."


class UnsupportedChecksum(Invalid):
    code, doc = "unsupported_checksum", "A checksum algorithm the store or strategy cannot check."


class InvalidChecksum(Invalid):
    code, doc = "invalid_checksum", "A checksum value that is not base64 of the right length."


class InvalidParts(Invalid):
    code, doc = "invalid_parts", "A part list that does not name each part exactly once."


class PartSizeMismatch(Invalid):
    code, doc = "part_size_mismatch", "Stored parts of the wrong size; upload them again."


class StatusNotSettable(Invalid):
    code, doc = "status_not_settable", "A status that `PUT /file-status` does not set."


class UnknownProfile(Invalid):
    code, doc = "unknown_profile", "A profile that is not configured."


class InvalidMetadata(Invalid):
    code, doc = "invalid_metadata", "Metadata keys or values the profile or S3 refuses."


class InvalidScope(Invalid):
    code, doc = "invalid_scope", "A scope the profile does not take, or none where it needs one."


class MetadataRequired(Invalid):
    code, doc = "metadata_required", "Metadata keys the profile requires are missing."


class VerificationFailed(Invalid):
    code, doc = "verification_failed", "The stored object is not what was declared."


# 429: too much, too fast.
class RateLimited(_RetryLater):
    status, code, doc = 429, "rate_limited", "A request rate limit; see `Retry-After`."


class QuotaExceeded(_RetryLater):
    status, code, doc = 429, "quota_exceeded", "Too many pending uploads or bytes today."


# 502/503: a dependency failed.
class StoreRejected(AppError):
    status, code, doc = 502, "object_store_error", "The store refused the service's credentials."


class SnsCertificate(StoreRejected):
    code, doc = "sns_certificate", "The SNS signing certificate could not be fetched."


class SnsConfirm(StoreRejected):
    code, doc = "sns_confirm", "Confirming an SNS subscription failed."


class StoreUnavailable(_RetryLater):
    status, code, doc = 503, "object_store_unavailable", "The object store is unreachable."


class AuthorizationUnavailable(_RetryLater):
    status, code = 503, "authorization_unavailable"
    doc = "The application's authorization hook failed, was slow or answered nonsense."


class DatabaseUnavailable(_RetryLater):
    status, code, doc = 503, "database_unavailable", "The database is unreachable."


def catalogue() -> list[type[AppError]]:
    """Every error class with a code of its own, by status then code."""
    seen: dict[str, type[AppError]] = {AppError.code: AppError}
    todo: list[type[AppError]] = [AppError]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if not sub.__name__.startswith("_"):
                seen.setdefault(sub.code, sub)
    return sorted(seen.values(), key=lambda cls: (cls.status, cls.code))


CODES = frozenset(cls.code for cls in catalogue())
