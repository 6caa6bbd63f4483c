"""The bucket policy of public profiles: anyone may GET their prefixes, and nothing else.

The service owns the statements whose Sid starts with `s3uploadPublic` and leaves every
other statement of the bucket's policy as it found it. Sids are letters and digits only, as
IAM's grammar wants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore import exceptions as bc

from s3upload.store.client import ObjectStore

SID_PREFIX = "s3uploadPublic"
READ_SID = "s3uploadPublicRead"
CLOUDFRONT = "cloudfront.amazonaws.com"
VERSION = "2012-10-17"
# Stores without bucket policies (R2) answer these.
UNSUPPORTED = ("NotImplemented", "MethodNotAllowed")
# Elements the service never writes: a statement of its own holding one was edited by hand.
_NEVER_WRITTEN = ("NotAction", "NotResource", "NotPrincipal", "Condition")


def object_arn(bucket: str, prefix: str) -> str:
    """The resource of every object under `prefix`."""
    return f"arn:aws:s3:::{bucket}/{prefix}/*"


def shown(prefixes: list[str]) -> str:
    """Prefixes as an operator reads them: `avatars/*, derived/avatars/*`."""
    return ", ".join(f"{p}/*" for p in prefixes)


def read_statement(bucket: str, prefixes: list[str]) -> dict[str, Any]:
    """The one statement the service writes: anonymous GetObject on each prefix."""
    return {
        "Sid": READ_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": [object_arn(bucket, p) for p in prefixes],
    }


def is_ours(statement: dict[str, Any]) -> bool:
    """Whether the service wrote this statement (and may replace or remove it)."""
    return str(statement.get("Sid", "")).startswith(SID_PREFIX)


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A policy's statements as a list (a lone statement may be written as an object)."""
    if not policy:
        return []
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def _listed(value: Any) -> list[str]:
    """A policy element that may be one string or a list of them, as a list."""
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _normal_arn(arn: str) -> str:
    """An ARN with its partition written `aws` (aws-cn, aws-us-gov name the same objects)."""
    parts = arn.split(":", 2)
    return f"arn:aws:{parts[2]}" if len(parts) == 3 and parts[0] == "arn" else arn


def _anonymous(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _listed(principal.get("AWS"))


def _services(principal: Any) -> list[str]:
    return _listed(principal.get("Service")) if isinstance(principal, dict) else []


@dataclass(frozen=True)
class Reads:
    """What a bucket policy lets read, as far as public delivery is concerned."""

    anonymous: set[str] = field(default_factory=set)  # object ARNs the service's statements open
    excess: list[str] = field(default_factory=list)  # what else the service's statements grant
    cloudfront: set[str] = field(default_factory=set)  # object ARNs a distribution may GET


def reads(policy: dict[str, Any] | None, bucket: str, prefixes: list[str]) -> Reads:
    """Sort a policy's grants: anonymous reads the service wrote, anything more it wrote, and
    reads granted to CloudFront distributions (by anyone, bound to a distribution's ARN)."""
    expected = {object_arn(bucket, p) for p in prefixes}
    anonymous: set[str] = set()
    excess: list[str] = []
    cloudfront: set[str] = set()
    for stmt in statements(policy):
        effect = stmt.get("Effect")
        actions = _listed(stmt.get("Action"))
        resources = {_normal_arn(r) for r in _listed(stmt.get("Resource"))}
        if is_ours(stmt):
            if effect != "Allow":
                continue  # a Deny takes nothing from anyone's safety
            sid = stmt.get("Sid")
            odd = [k for k in _NEVER_WRITTEN if k in stmt]
            if odd:
                excess.append(f"{sid} uses {', '.join(odd)}")
            if not _anonymous(stmt.get("Principal")):
                excess.append(f"{sid} grants to {json.dumps(stmt.get('Principal'))}")
            others = sorted(set(actions) - {"s3:GetObject"})
            if others:
                excess.append(f"{sid} grants {', '.join(others)}")
            beyond = sorted(resources - expected)
            if beyond:
                excess.append(f"{sid} opens {', '.join(beyond)}")
            if "s3:GetObject" in actions and not odd and _anonymous(stmt.get("Principal")):
                anonymous |= resources & expected
        elif (
            effect == "Allow"
            and CLOUDFRONT in _services(stmt.get("Principal"))
            and "s3:GetObject" in actions
            and _bound_to_distribution(stmt.get("Condition"))
        ):
            cloudfront |= resources
    return Reads(anonymous, excess, cloudfront)


def _bound_to_distribution(condition: Any) -> bool:
    """Whether a CloudFront grant names its distribution (without it, any distribution of
    any account could read through it)."""
    if not isinstance(condition, dict):
        return False
    for operator in condition.values():
        if isinstance(operator, dict) and any(
            k.lower() == "aws:sourcearn" and all(":distribution/" in v for v in _listed(arns))
            for k, arns in operator.items()
        ):
            return True
    return False


def merged(policy: dict[str, Any] | None, ours: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The policy with the service's statements replaced by `ours`; None if nothing is left."""
    kept = [s for s in statements(policy) if not is_ours(s)]
    if not kept and not ours:
        return None
    out = dict(policy or {"Version": VERSION})
    out["Statement"] = kept + ours
    return out


def resources(stmts: list[dict[str, Any]], bucket: str) -> str:
    """The resources the statements name, objects of the bucket written as `avatars/*`."""
    inside = f"arn:aws:s3:::{bucket}/"
    names = {_normal_arn(r) for s in stmts for r in _listed(s.get("Resource"))}
    return ", ".join(sorted(r.removeprefix(inside) for r in names))


def same_grants(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Whether two lists of statements say the same (however the store spelled them back)."""

    def key(stmt: dict[str, Any]) -> str:
        normal = {
            k: sorted(_normal_arn(r) for r in _listed(v))
            if k in ("Action", "Resource")
            else ("*" if k == "Principal" and _anonymous(v) else v)
            for k, v in stmt.items()
        }
        return json.dumps(normal, sort_keys=True)

    return sorted(map(key, a)) == sorted(map(key, b))


def _code(exc: bc.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


async def read(store: ObjectStore) -> dict[str, Any] | None:
    """The bucket's policy, or None when it has none."""
    try:
        resp = await store.client.get_bucket_policy(Bucket=store.bucket)
    except bc.ClientError as exc:
        if _code(exc) == "NoSuchBucketPolicy":
            return None
        raise
    policy: dict[str, Any] = json.loads(resp["Policy"])
    return policy


async def write(store: ObjectStore, policy: dict[str, Any] | None) -> None:
    """Put the policy, or delete the bucket's policy when there is nothing to put."""
    if policy is None:
        await store.client.delete_bucket_policy(Bucket=store.bucket)
    else:
        await store.client.put_bucket_policy(Bucket=store.bucket, Policy=json.dumps(policy))
