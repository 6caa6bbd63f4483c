"""Signed targets for single-part uploads: a PUT URL with its headers, or a POST form."""

from __future__ import annotations

from datetime import datetime

from s3upload.db.models import Upload
from s3upload.db.records import utcnow
from s3upload.db.states import Status
from s3upload.policy import profile_of, url_lifetime
from s3upload.settings import Profile, Settings
from s3upload.store.client import ObjectStore
from s3upload.store.signer import Credentials
from s3upload.uploads.schemas import SingleTarget


def checksum_header(algorithm: str, value: str) -> tuple[str, str]:
    """The request header that makes the store check a declared checksum."""
    if algorithm == "MD5":
        return "Content-MD5", value
    return f"x-amz-checksum-{algorithm.lower()}", value


def sign_single(
    upload: Upload, *, store: ObjectStore, creds: Credentials, profile: Profile, now: datetime
) -> SingleTarget:
    """A signed PUT URL or POST form for a pending single-part upload."""
    expires_in = url_lifetime(upload, profile, now)
    # Signed, so the object stays private whatever the client adds: a different `x-amz-acl`
    # breaks the signature (RGW and MinIO would otherwise honour an unsigned one).
    acl = store.settings.signed_acl
    meta = {f"x-amz-meta-{k}": v for k, v in upload.metadata_.items()}
    if upload.method == "POST":
        fields = {"Content-Type": upload.file_type, **meta}
        if acl:
            fields["acl"] = acl
        if profile.cache_control:
            fields["Cache-Control"] = profile.cache_control
        # An undeclared size is bounded by the profile's maximum, enforced by the store.
        low, high = (
            (upload.file_size, upload.file_size) if upload.file_size else (1, upload.size_limit)
        )
        conditions: list[object] = [
            ["content-length-range", low, high],
            *({k: v} for k, v in fields.items()),
        ]
        url, form = store.signer.presign_post(
            upload.key,
            creds=creds,
            fields=fields,
            conditions=conditions,
            expires_in=expires_in,
            now=now,
        )
        return SingleTarget(method="POST", url=url, fields=form)
    headers = {
        "Content-Type": upload.file_type,
        "Content-Length": str(upload.file_size),
        # Write once: repeating this PUT after the object exists (to swap a verified file
        # for other bytes) is refused by the store with 412.
        "If-None-Match": "*",
        **meta,
    }
    if profile.cache_control:
        headers["Cache-Control"] = profile.cache_control
    if acl:
        headers["x-amz-acl"] = acl
    if upload.checksum_algorithm and upload.checksum_value:
        name, value = checksum_header(upload.checksum_algorithm, upload.checksum_value)
        headers[name] = value
    url = store.signer.presign(
        upload.key, creds=creds, method="PUT", headers=headers, expires_in=expires_in, now=now
    )
    return SingleTarget(method="PUT", url=url, headers=headers)


async def pending_target(
    upload: Upload, *, store: ObjectStore, settings: Settings
) -> SingleTarget | None:
    """A fresh signed target for a pending single upload still inside its window."""
    now = utcnow()
    if upload.status != Status.PENDING or upload.strategy != "single" or upload.expires_at <= now:
        return None
    creds = await store.credentials()
    return sign_single(
        upload, store=store, creds=creds, profile=profile_of(upload, settings), now=now
    )
