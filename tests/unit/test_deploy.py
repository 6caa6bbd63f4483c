"""Deployment files: the CloudFormation template validates offline; compose and image are sane."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "deploy" / "aws" / "s3upload.yaml"


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "cfn-lint"
    # The region is named: the tests set AWS_DEFAULT_REGION to the local store's "default".
    return subprocess.run(
        [str(exe), str(path), "--regions", "us-east-1"], capture_output=True, text=True, check=False
    )


def test_template_validates():
    result = cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_catches_a_broken_template(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("SSEAlgorithm: AES256", "SSEAlgorithm: ROT13"))
    assert cfn_lint(broken).returncode != 0


def test_service_policy_is_least_privilege():
    class Loader(yaml.SafeLoader):
        pass

    for tag in ("!Ref", "!GetAtt", "!Sub"):
        Loader.add_constructor(tag, lambda loader, node: loader.construct_scalar(node))
    template = yaml.load(TEMPLATE.read_text(), Loader=Loader)  # noqa: S506 - SafeLoader subclass
    statements = template["Resources"]["ServicePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:ListBucket",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
    assert not any("*" in a for a in actions)
    bucket = template["Resources"]["UploadsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())


def test_compose_and_dockerfile():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {"postgres", "redis", "minio", "setup", "api"} <= set(compose["services"])
    env = compose["services"]["api"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["REDIS_URL"].startswith("redis://")
    assert "migrate" in compose["services"]["setup"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER s3upload" in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_production_guide_names_every_setting():
    from pydantic_settings import BaseSettings

    from s3upload.settings import Settings

    guide = (ROOT / "docs" / "production.md").read_text()
    names = []
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            prefix = str(kind.model_config.get("env_prefix", ""))
            names += [f"{prefix}{sub}".upper() for sub in kind.model_fields]
        else:
            names.append(name.upper())
    missing = [n for n in names if f"`{n}`" not in guide]
    assert not missing, f"docs/production.md lacks {missing}"
