"""Public profiles at the bucket: RGW serves their prefixes to anyone once `bucket setup` has
written the policy, and nothing else; doctor says whether the policy is right."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from s3upload.cli import main
from s3upload.settings import Profile, Settings
from s3upload.store import bucket
from s3upload.store.bucket import Check
from s3upload.store.client import ObjectStore
from tests.conftest import TEST_SECRET, Services, make_settings

LONG_CACHE = "public, max-age=31536000, immutable"
PUBLIC = {
    "default": Profile(),
    "avatars": Profile(
        allowed_types=["image/*"], key_prefix="avatars", public=True, cache_control=LONG_CACHE
    ),
    "documents": Profile(key_prefix="documents"),
}
# The same profiles, none of them public any more.
PRIVATE = {**PUBLIC, "avatars": PUBLIC["avatars"].model_copy(update={"public": False})}
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 120


@pytest.fixture
def bucket_name() -> str:
    return f"test-public-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def store_for(settings: Settings) -> AsyncIterator[ObjectStore]:
    store = ObjectStore(settings.s3)
    await store.start()
    try:
        yield store
    finally:
        await store.close()


def settings_for(
    services: Services, bucket_name: str, profiles: dict[str, Profile], **overrides: Any
) -> Settings:
    return make_settings(services, s3={"bucket": bucket_name}, profiles=profiles, **overrides)


async def put(store: ObjectStore, key: str, body: bytes = PNG, **extra: Any) -> None:
    """Write an object as a signed upload would: private ACL."""
    await store.client.put_object(
        Bucket=store.bucket, Key=key, Body=body, ACL="private", ContentType="image/png", **extra
    )


async def policy_of(store: ObjectStore) -> dict[str, Any] | None:
    try:
        resp = await store.client.get_bucket_policy(Bucket=store.bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        return None
    policy: dict[str, Any] = json.loads(resp["Policy"])
    return policy


async def put_policy(store: ObjectStore, *statements: dict[str, Any]) -> None:
    body = {"Version": "2012-10-17", "Statement": list(statements)}
    await store.client.put_bucket_policy(Bucket=store.bucket, Policy=json.dumps(body))


async def set_flags(store: ObjectStore, **flags: bool) -> None:
    config: Any = {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
        **flags,
    }
    await store.client.put_public_access_block(
        Bucket=store.bucket, PublicAccessBlockConfiguration=config
    )


def public_check(checks: list[Check]) -> Check | None:
    found = [c for c in checks if c.name == "public"]
    assert len(found) <= 1
    return found[0] if found else None


def keys(upload_id: str) -> dict[str, str]:
    return {
        "original": f"avatars/2026/12/{upload_id}/me.png",
        "variant": f"derived/avatars/{upload_id}/thumb.webp",
        "private": f"documents/2026/12/{upload_id}/contract.png",
    }


async def test_public_prefixes_answer_anyone_and_nothing_else_does(services, http, bucket_name):
    settings = settings_for(services, bucket_name, PUBLIC)
    async with store_for(settings) as store:
        done = await bucket.setup(store, settings)
        assert done[-1] == (
            "public reads: anyone may GET avatars/*, derived/avatars/*; nothing else, no listing"
        )
        key = keys(uuid.uuid4().hex)
        await put(store, key["original"], CacheControl=LONG_CACHE)
        await put(store, key["variant"], b"RIFF-webp", CacheControl="public, max-age=600")
        await put(store, key["private"], CacheControl=LONG_CACHE)
        url = store.signer.object_url  # the public URL when PUBLIC_BASE_URL is not set

        original = await http.get(url(key["original"]))
        assert original.status_code == 200
        assert original.content == PNG
        assert original.headers["cache-control"] == LONG_CACHE
        variant = await http.get(url(key["variant"]))
        assert variant.status_code == 200
        assert variant.headers["cache-control"] == "public, max-age=600"
        assert (await http.head(url(key["original"]))).status_code == 200

        private = await http.get(url(key["private"]))
        assert private.status_code == 403
        assert "AccessDenied" in private.text
        # No listing, so a key that is not there looks like one that is refused.
        missing = await http.get(url(key["original"].replace("me.png", "other.png")))
        assert missing.status_code == 403
        base = f"{services.s3_endpoint}/{bucket_name}"
        for params in ({}, {"prefix": "avatars/"}, {"list-type": "2", "prefix": "derived/"}):
            listing = await http.get(base, params=params)
            assert listing.status_code == 403, params
            assert key["original"] not in listing.text
        # Reading is all anyone may do.
        assert (await http.put(url(key["original"]), content=b"x")).status_code == 403
        assert (await http.put(url("avatars/new.png"), content=b"x")).status_code == 403
        assert (await http.delete(url(key["original"]))).status_code == 403
        assert (await http.get(url(key["original"]))).content == PNG


async def test_setup_twice_changes_nothing(services, bucket_name):
    settings = settings_for(services, bucket_name, PUBLIC)
    async with store_for(settings) as store:
        first = await bucket.setup(store, settings)
        policy = await policy_of(store)
        second = await bucket.setup(store, settings)
        assert second == first[1:]  # all but "created bucket"
        assert await policy_of(store) == policy
    assert policy is not None
    assert policy["Statement"] == [
        {
            "Sid": "s3uploadPublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": [
                f"arn:aws:s3:::{bucket_name}/avatars/*",
                f"arn:aws:s3:::{bucket_name}/derived/avatars/*",
            ],
        }
    ]


async def test_a_profile_no_longer_public_is_closed_again(services, http, bucket_name):
    public = settings_for(services, bucket_name, PUBLIC)
    private = settings_for(services, bucket_name, PRIVATE)
    key = keys(uuid.uuid4().hex)["original"]
    async with store_for(public) as store:
        await bucket.setup(store, public)
        await put(store, key)
        assert (await http.get(store.signer.object_url(key))).status_code == 200
        done = await bucket.setup(store, private)
        assert done[-1] == "public reads: none (removed the grant on avatars/*, derived/avatars/*)"
        assert await policy_of(store) is None
        assert (await http.get(store.signer.object_url(key))).status_code == 403
        assert (await bucket.setup(store, private))[-1] == "public reads: none (no public profiles)"
        assert public_check(await bucket.diagnose(store, private)) is None


async def test_statements_written_by_others_are_kept(services, http, bucket_name):
    public = settings_for(services, bucket_name, PUBLIC)
    private = settings_for(services, bucket_name, PRIVATE)
    theirs = {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": ["arn:aws:iam:::user/auditor"]},
        "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket_name}/documents/*"],
    }
    async with store_for(public) as store:
        await bucket.setup(store, private)
        await put_policy(store, theirs)
        await bucket.setup(store, public)
        policy = await policy_of(store)
        assert policy is not None
        assert [s["Sid"] for s in policy["Statement"]] == ["AuditorsRead", "s3uploadPublicRead"]
        assert policy["Statement"][0] == theirs
        assert public_check(await bucket.diagnose(store, public)) == Check(
            "public", True, "anyone may GET avatars/*, derived/avatars/*; nothing else, no listing"
        )
        await bucket.setup(store, private)
        assert await policy_of(store) == {"Version": "2012-10-17", "Statement": [theirs]}
        key = keys(uuid.uuid4().hex)["original"]
        await put(store, key)
        assert (await http.get(store.signer.object_url(key))).status_code == 403


async def test_doctor_names_what_is_wrong_with_the_grant(services, bucket_name):
    public = settings_for(services, bucket_name, PUBLIC)
    private = settings_for(services, bucket_name, PRIVATE)
    fix = "run `s3upload bucket setup`"
    async with store_for(public) as store:
        await store.client.create_bucket(Bucket=bucket_name)
        assert public_check(await bucket.diagnose(store, public)) == Check(
            "public",
            False,
            "public files answer 403: the bucket policy lets nobody GET avatars/*, "
            "derived/avatars/*",
            fix,
        )
        # One prefix missing, and a listing the service never grants.
        await put_policy(
            store,
            {
                "Sid": "s3uploadPublicRead",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [
                    f"arn:aws:s3:::{bucket_name}/avatars/*",
                    f"arn:aws:s3:::{bucket_name}",
                ],
            },
        )
        check = public_check(await bucket.diagnose(store, public))
        assert check is not None
        assert not check.ok
        assert check.detail == (
            "the service's policy statements grant more than the public prefixes: "
            f"s3uploadPublicRead grants s3:ListBucket; s3uploadPublicRead opens "
            f"arn:aws:s3:::{bucket_name}"
        )
        assert check.fix == fix
        # A grant left behind by a profile that is no longer public.
        assert public_check(await bucket.diagnose(store, private)) == Check(
            "public",
            False,
            f"no profile is public, yet the service's policy statements still open "
            f"arn:aws:s3:::{bucket_name}, avatars/*",
            fix,
        )
        await bucket.setup(store, public)
        check = public_check(await bucket.diagnose(store, public))
        assert check is not None
        assert check.ok, check


async def test_block_public_policy_refuses_the_grant_on_rgw(services, http, bucket_name):
    """RGW (Pacific) refuses any policy that allows something while BlockPublicPolicy is on;
    setup then says why it granted nothing, and doctor how to fix it."""
    settings = settings_for(services, bucket_name, PUBLIC)
    async with store_for(settings) as store:
        await store.client.create_bucket(Bucket=bucket_name)
        await set_flags(store, BlockPublicPolicy=True)
        named = {
            "Sid": "OneUser",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam:::user/auditor"]},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket_name}/documents/*",
        }
        with pytest.raises(ClientError) as refused:
            await put_policy(store, named)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"

        done = await bucket.setup(store, settings)
        assert done[-1].startswith(
            "public reads: NOT granted on avatars/*, derived/avatars/*: BlockPublicPolicy is on"
        )
        assert await policy_of(store) is None
        check = public_check(await bucket.diagnose(store, settings))
        assert check is not None
        assert not check.ok
        assert check.fix.startswith("turn BlockPublicPolicy and RestrictPublicBuckets off")

        await set_flags(store, BlockPublicPolicy=False)
        assert "anyone may GET" in (await bucket.setup(store, settings))[-1]
        key = keys(uuid.uuid4().hex)["original"]
        await put(store, key)
        assert (await http.get(store.signer.object_url(key))).status_code == 200


async def test_restrict_public_buckets_is_named_by_doctor(services, http, bucket_name):
    """AWS refuses anonymous GETs under RestrictPublicBuckets; RGW (Pacific) ignores the flag.
    Doctor names it either way: the grant would not work on AWS."""
    settings = settings_for(services, bucket_name, PUBLIC)
    async with store_for(settings) as store:
        await bucket.setup(store, settings)
        await set_flags(store, RestrictPublicBuckets=True)
        key = keys(uuid.uuid4().hex)["original"]
        await put(store, key)
        assert (await http.get(store.signer.object_url(key))).status_code == 200
        check = public_check(await bucket.diagnose(store, settings))
        assert check is not None
        assert not check.ok
        assert check.detail.startswith("RestrictPublicBuckets is on")


def cloudfront_statement(bucket_name: str) -> dict[str, Any]:
    """The statement deploy/aws/s3upload.yaml writes for its distribution."""
    return {
        "Sid": "CloudFrontReadsPublicPrefixes",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": [
            f"arn:aws:s3:::{bucket_name}/avatars/*",
            f"arn:aws:s3:::{bucket_name}/derived/avatars/*",
        ],
        "Condition": {
            "StringEquals": {
                "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
            }
        },
    }


async def test_behind_cloudfront_the_bucket_stays_closed(services, http, bucket_name):
    cdn = settings_for(
        services, bucket_name, PUBLIC, public_base_url="https://d111111abcdef8.cloudfront.net"
    )
    direct = settings_for(services, bucket_name, PUBLIC)
    async with store_for(cdn) as store:
        await bucket.setup(store, direct)
        await put_policy(store, cloudfront_statement(bucket_name))
        # Without PUBLIC_BASE_URL public URLs point at the bucket, which only CloudFront reads.
        check = public_check(await bucket.diagnose(store, direct))
        assert check is not None
        assert not check.ok
        assert "PUBLIC_BASE_URL is not set" in check.detail

        done = await bucket.setup(store, cdn)
        assert done[-1] == (
            "public reads: through CloudFront only (its grant covers avatars/*, derived/avatars/*)"
        )
        policy = await policy_of(store)
        assert policy is not None
        assert policy["Statement"] == [cloudfront_statement(bucket_name)]
        key = keys(uuid.uuid4().hex)["original"]
        await put(store, key)
        assert (await http.get(store.signer.object_url(key))).status_code == 403
        assert public_check(await bucket.diagnose(store, cdn)) == Check(
            "public",
            True,
            "CloudFront reads avatars/*, derived/avatars/* (origin access control); "
            "PUBLIC_BASE_URL serves them",
        )
        # A grant to "any distribution" is no CloudFront set-up: anyone could make one.
        unbound = {k: v for k, v in cloudfront_statement(bucket_name).items() if k != "Condition"}
        await put_policy(store, unbound)
        check = public_check(await bucket.diagnose(store, cdn))
        assert check is not None
        assert not check.ok


# ---- the commands, as operators run them ----


@pytest.fixture
def env(services, tmp_path, monkeypatch, bucket_name):
    profiles = {
        "default": {},
        "avatars": {"allowed_types": ["image/*"], "key_prefix": "avatars", "public": True},
    }
    values = {
        "ENVIRONMENT": "test",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": bucket_name,
        "PROFILES": json.dumps(profiles),
        "EVENTS_WEBHOOK_URL": "http://127.0.0.1:8000/events/s3",
        "EVENTS_SECRET": "public-bucket-secret",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def test_setup_then_doctor_is_healthy(env, bucket_name):
    runner = CliRunner()
    setup = runner.invoke(main, ["bucket", "setup"])
    assert setup.exit_code == 0, setup.output
    assert (
        f"bucket {bucket_name}: public reads: anyone may GET avatars/*, derived/avatars/*; "
        "nothing else, no listing"
    ) in setup.output
    doctor = runner.invoke(main, ["doctor"])
    assert doctor.exit_code == 0, doctor.output
    assert "ok   public: anyone may GET avatars/*, derived/avatars/*; nothing else, no listing" in (
        doctor.output.splitlines()
    )
    assert [line.split()[0] for line in doctor.output.splitlines()] == ["ok"] * 6


def test_doctor_on_a_bucket_without_the_policy(env, services, bucket_name):
    s3 = boto3.client("s3", endpoint_url=services.s3_endpoint, region_name="default")
    s3.create_bucket(Bucket=bucket_name)
    doctor = CliRunner().invoke(main, ["doctor"])
    assert doctor.exit_code == 1
    lines = doctor.output.splitlines()
    at = lines.index(
        "FAIL public: public files answer 403: the bucket policy lets nobody GET avatars/*, "
        "derived/avatars/*"
    )
    assert lines[at + 1] == "     fix: run `s3upload bucket setup`"
