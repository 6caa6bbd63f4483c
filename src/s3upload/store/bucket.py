"""Bucket set-up and diagnosis: CORS, no public ACLs, abort-incomplete lifecycle, events, and
anonymous reads on the public profiles' prefixes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from botocore import exceptions as bc

from s3upload.errors import StoreRejected
from s3upload.settings import Settings
from s3upload.store import policy
from s3upload.store.client import ObjectStore

CORS_METHODS = ["PUT", "POST", "GET", "HEAD"]
LIFECYCLE_ID = "s3upload-abort-incomplete-multipart"
EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
# No upload can make its object public: public ACLs are ignored (IgnorePublicAcls), whatever
# a client sends. Other flags are left as the operator set them: BlockPublicAcls would be
# stricter, but Ceph RGW (Pacific) then refuses every PUT, private ones included.
# BlockPublicPolicy and RestrictPublicBuckets are never turned on here: public profiles need
# a public bucket policy (docs/public.md).
IGNORE_PUBLIC_ACLS = "IgnorePublicAcls"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Stores without the public access block API (MinIO, R2) answer these; URLs the service signs
# still bind the ACL (S3_OBJECT_ACL).
_UNSUPPORTED = ("NotImplemented", "MethodNotAllowed", "NoSuchPublicAccessBlockConfiguration")


@dataclass(frozen=True)
class Check:
    """One finding of `doctor`."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _code(exc: bc.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def webhook_with_secret(url: str, secret: str | None) -> str:
    """The webhook URL with the shared secret in its query (RGW cannot send headers)."""
    if not secret:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "secret"] + [("secret", secret)]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def setup(store: ObjectStore, settings: Settings) -> list[str]:
    """Create the bucket if missing; apply CORS, the lifecycle rule, event notifications and
    anonymous reads on the public profiles' prefixes."""
    done: list[str] = []
    client = store.client
    async with store.calls():
        try:
            await client.head_bucket(Bucket=store.bucket)
        except bc.ClientError as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            await client.create_bucket(Bucket=store.bucket)
            done.append(f"created bucket {store.bucket}")
        if settings.cors_origins:
            await client.put_bucket_cors(
                Bucket=store.bucket,
                CORSConfiguration={
                    "CORSRules": [
                        {
                            "AllowedOrigins": settings.cors_origins,
                            "AllowedMethods": CORS_METHODS,
                            "AllowedHeaders": ["*"],
                            "ExposeHeaders": ["ETag", "Location"],
                            "MaxAgeSeconds": 3600,
                        }
                    ]
                },
            )
            done.append(f"CORS for {', '.join(settings.cors_origins)}")
        done.append(await _block_public_acls(store))
        days = settings.s3.abort_incomplete_days
        await client.put_bucket_lifecycle_configuration(
            Bucket=store.bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": LIFECYCLE_ID,
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
                    }
                ]
            },
        )
        done.append(f"lifecycle: abort incomplete multipart uploads after {days} days")
        config: Any = await _notification_config(store, settings)
        if config:
            await client.put_bucket_notification_configuration(
                Bucket=store.bucket, NotificationConfiguration=config
            )
            target = (config.get("TopicConfigurations") or config["QueueConfigurations"])[0]
            done.append(f"events -> {target.get('TopicArn') or target.get('QueueArn')}")
        done.append(await _public_reads(store, settings))
    return done


async def _block_public_acls(store: ObjectStore) -> str:
    """Make public ACLs ineffective on the bucket, where the store supports it."""
    try:
        config: Any = {**await _public_access_block(store), IGNORE_PUBLIC_ACLS: True}
        await store.client.put_public_access_block(
            Bucket=store.bucket, PublicAccessBlockConfiguration=config
        )
    except bc.ClientError as exc:
        if _code(exc) not in _UNSUPPORTED:
            raise
        return "public ACLs: this store has no public access block; rely on signed ACLs"
    return "public ACLs: ignored (public access block)"


async def _public_access_block(store: ObjectStore) -> dict[str, bool]:
    """The bucket's public access block, all four flags (off where none is set)."""
    try:
        resp = await store.client.get_public_access_block(Bucket=store.bucket)
        config = resp.get("PublicAccessBlockConfiguration", {})
    except bc.ClientError as exc:
        if _code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        config = {}
    return {flag: bool(config.get(flag)) for flag in FLAGS}


async def _flags(store: ObjectStore) -> dict[str, bool]:
    """The public access block's flags; all off on stores without one."""
    try:
        return await _public_access_block(store)
    except bc.ClientError as exc:
        if _code(exc) not in _UNSUPPORTED:
            raise
        return dict.fromkeys(FLAGS, False)


async def _public_reads(store: ObjectStore, settings: Settings) -> str:
    """Let anyone GET the public profiles' prefixes and nothing else; remove a grant that no
    profile needs. Statements others wrote in the bucket's policy are kept as they are."""
    prefixes = settings.public_prefixes()
    shown = policy.shown(prefixes)
    try:
        current = await policy.read(store)
    except bc.ClientError as exc:
        if _code(exc) not in policy.UNSUPPORTED:
            raise
        if prefixes:
            return f"public reads: NOT granted on {shown}: this store has no bucket policies"
        return "public reads: none (this store has no bucket policies)"
    expected = {policy.object_arn(store.bucket, p) for p in prefixes}
    found = policy.reads(current, store.bucket, prefixes)
    # Behind CloudFront (deploy/aws/s3upload.yaml) the distribution reads through its own
    # grant, and the bucket stays closed to everyone else.
    via_cdn = bool(prefixes) and bool(settings.public_base_url) and expected <= found.cloudfront
    want = [policy.read_statement(store.bucket, prefixes)] if prefixes and not via_cdn else []
    mine = [s for s in policy.statements(current) if policy.is_ours(s)]
    if not policy.same_grants(mine, want):
        if want and (await _flags(store))["BlockPublicPolicy"]:
            return (
                f"public reads: NOT granted on {shown}: BlockPublicPolicy is on in the bucket's "
                "public access block; turn it and RestrictPublicBuckets off, or serve these "
                "prefixes through CloudFront (docs/public.md)"
            )
        try:
            await policy.write(store, policy.merged(current, want))
        except bc.ClientError as exc:
            if _code(exc) != "AccessDenied":
                raise
            raise StoreRejected(
                "The object store refused the bucket policy (AccessDenied): the credentials "
                "lack s3:PutBucketPolicy, or Block Public Access (of the bucket, or on AWS of "
                "the account) blocks public policies; see docs/public.md."
            ) from exc
    if via_cdn:
        return f"public reads: through CloudFront only (its grant covers {shown})"
    if want:
        return f"public reads: anyone may GET {shown}; nothing else, no listing"
    if mine:
        return f"public reads: none (removed the grant on {policy.resources(mine, store.bucket)})"
    return "public reads: none (no public profiles)"


async def _notification_config(store: ObjectStore, settings: Settings) -> dict[str, Any]:
    events = settings.events
    if events.queue_arn:
        return {
            "QueueConfigurations": [
                {"Id": "s3upload", "QueueArn": events.queue_arn, "Events": EVENTS}
            ]
        }
    topic_arn = events.topic_arn
    if events.webhook_url and not topic_arn:
        # Ceph RGW: a push topic made through its SNS API; non-persistent topics deliver
        # before the upload's answer returns.
        endpoint = webhook_with_secret(events.webhook_url, events.secret)
        async with store.other_client("sns", store.settings.endpoint_url) as sns:
            resp = await sns.create_topic(
                Name=f"{store.bucket}-s3upload-events",
                Attributes={"push-endpoint": endpoint, "persistent": "false"},
            )
        topic_arn = resp["TopicArn"]
    if topic_arn:
        return {
            "TopicConfigurations": [{"Id": "s3upload", "TopicArn": topic_arn, "Events": EVENTS}]
        }
    return {}


async def diagnose(store: ObjectStore, settings: Settings) -> list[Check]:
    """What is wrong with the bucket for this service, and how to fix it."""
    client = store.client
    fix = "run `s3upload bucket setup`"
    try:
        async with store.calls():
            await client.head_bucket(Bucket=store.bucket)
    except Exception as exc:  # any failure here ends the diagnosis
        message = getattr(exc, "message", str(exc))
        return [Check("bucket", False, message, "check S3_* settings and the AWS credentials")]
    checks = [Check("bucket", True, f"{store.bucket} answers with these credentials")]
    checks.append(await _check_cors(store, settings, fix))
    checks.append(await _check_lifecycle(store, fix))
    checks.append(await _check_public_acls(store, fix))
    public = await _check_public(store, settings, fix)
    if public is not None:
        checks.append(public)
    checks.append(await _check_events(store, settings, fix))
    return checks


async def _check_cors(store: ObjectStore, settings: Settings, fix: str) -> Check:
    if not settings.cors_origins:
        return Check("cors", True, "no browser origins configured (CORS_ORIGINS)")
    try:
        rules = (await store.client.get_bucket_cors(Bucket=store.bucket)).get("CORSRules", [])
    except bc.ClientError as exc:
        if _code(exc) != "NoSuchCORSConfiguration":
            raise
        return Check("cors", False, "the bucket has no CORS rules; browsers cannot upload", fix)
    missing = []
    for origin in settings.cors_origins:
        if not any(
            (origin in r.get("AllowedOrigins", []) or "*" in r.get("AllowedOrigins", []))
            and set(CORS_METHODS) <= set(r.get("AllowedMethods", []))
            and any(h.lower() == "etag" for h in r.get("ExposeHeaders", []))
            for r in rules
        ):
            missing.append(origin)
    if missing:
        return Check(
            "cors",
            False,
            f"no rule lets {', '.join(missing)} PUT/POST/GET/HEAD and read ETag",
            fix,
        )
    return Check("cors", True, "browser origins may upload and read ETag")


async def _check_lifecycle(store: ObjectStore, fix: str) -> Check:
    try:
        resp = await store.client.get_bucket_lifecycle_configuration(Bucket=store.bucket)
        rules = list(resp.get("Rules", []))
    except bc.ClientError as exc:
        if _code(exc) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    if any(r.get("Status") == "Enabled" and "AbortIncompleteMultipartUpload" in r for r in rules):
        return Check("lifecycle", True, "incomplete multipart uploads are aborted")
    return Check("lifecycle", False, "abandoned multipart parts are kept (and billed) forever", fix)


async def _check_public_acls(store: ObjectStore, fix: str) -> Check:
    try:
        config = await _public_access_block(store)
    except bc.ClientError as exc:
        if _code(exc) not in _UNSUPPORTED:
            raise
        return Check(
            "public-acls", True, "no public access block on this store; rely on signed ACLs"
        )
    if config[IGNORE_PUBLIC_ACLS]:
        return Check("public-acls", True, "public ACLs are ignored")
    return Check(
        "public-acls",
        False,
        "public ACLs are not blocked: an object made public by hand (or by a URL signed "
        "elsewhere) answers anonymous GETs",
        fix,
    )


async def _check_public(store: ObjectStore, settings: Settings, fix: str) -> Check | None:
    """Anyone may GET the public prefixes, and the service's statements grant nothing more.

    None when no profile is public and the service grants nothing: nothing to check.
    """
    prefixes = settings.public_prefixes()
    shown = policy.shown(prefixes)
    try:
        current = await policy.read(store)
    except bc.ClientError as exc:
        if _code(exc) == "AccessDenied":
            return Check(
                "public",
                False,
                "the bucket policy cannot be read with these credentials",
                "allow s3:GetBucketPolicy (DoctorPolicy in deploy/aws/s3upload.yaml)",
            )
        if _code(exc) not in policy.UNSUPPORTED:
            raise
        if not prefixes:
            return None
        return Check(
            "public",
            False,
            f"this store has no bucket policies: nobody can GET {shown}",
            "serve public profiles through a CDN that reads the bucket with its own "
            "credentials, and set PUBLIC_BASE_URL to it",
        )
    mine = [s for s in policy.statements(current) if policy.is_ours(s)]
    if not prefixes:
        if not mine:
            return None
        return Check(
            "public",
            False,
            "no profile is public, yet the service's policy statements still open "
            + policy.resources(mine, store.bucket),
            fix,
        )
    found = policy.reads(current, store.bucket, prefixes)
    if found.excess:
        return Check(
            "public",
            False,
            "the service's policy statements grant more than the public prefixes: "
            + "; ".join(found.excess),
            fix,
        )
    missing = [p for p in prefixes if policy.object_arn(store.bucket, p) not in found.anonymous]
    flags = await _flags(store)
    if not missing:
        if flags["RestrictPublicBuckets"]:
            return Check(
                "public",
                False,
                "RestrictPublicBuckets is on in the bucket's public access block: AWS S3 "
                f"answers anonymous GETs of {shown} with 403 whatever the policy grants",
                "turn RestrictPublicBuckets off, or serve through CloudFront (docs/public.md)",
            )
        return Check("public", True, f"anyone may GET {shown}; nothing else, no listing")
    expected = {policy.object_arn(store.bucket, p) for p in prefixes}
    if expected <= found.cloudfront:
        if settings.public_base_url:
            return Check(
                "public",
                True,
                f"CloudFront reads {shown} (origin access control); PUBLIC_BASE_URL serves them",
            )
        return Check(
            "public",
            False,
            f"only CloudFront may GET {shown}, but PUBLIC_BASE_URL is not set: public URLs "
            "point at the bucket, which answers 403",
            "set PUBLIC_BASE_URL to the distribution (the PublicBaseUrl output of "
            "deploy/aws/s3upload.yaml)",
        )
    if flags["BlockPublicPolicy"]:
        fix = (
            "turn BlockPublicPolicy and RestrictPublicBuckets off in the bucket's public access "
            "block, then run `s3upload bucket setup`; or serve through CloudFront and set "
            "PUBLIC_BASE_URL (docs/public.md)"
        )
    return Check(
        "public",
        False,
        f"public files answer 403: the bucket policy lets nobody GET {policy.shown(missing)}",
        fix,
    )


async def _check_events(store: ObjectStore, settings: Settings, fix: str) -> Check:
    resp = await store.client.get_bucket_notification_configuration(Bucket=store.bucket)
    targets = resp.get("TopicConfigurations", []) + resp.get("QueueConfigurations", [])
    created = [t for t in targets if any("ObjectCreated" in e for e in t.get("Events", []))]
    if created:
        return Check("events", True, f"ObjectCreated events go to {len(created)} target(s)")
    return Check(
        "events",
        False,
        "no event notifications: uploads whose client never calls complete stay pending "
        "until the sweeper runs",
        fix + " with EVENTS_WEBHOOK_URL, EVENTS_TOPIC_ARN or EVENTS_QUEUE_ARN set",
    )
