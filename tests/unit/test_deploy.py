"""Deployment files: the CloudFormation template validates offline; compose and image are sane."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
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


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms, read as their long forms (`!Ref x` is
    `{"Ref": "x"}`, `!If [...]` is `{"Fn::If": [...]}`)."""


def _long_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _long_form)


def load_template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass


def test_service_policy_is_least_privilege():
    template = load_template()
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


# ---- public delivery: CloudFront in front of the public prefixes ----

NO_VALUE = object()


class Stack:
    """Just enough of CloudFormation's evaluation to see what the template makes of given
    parameters: conditions, and the values of the resources' properties."""

    def __init__(self, template: dict[str, Any], **parameters: Any) -> None:
        self.template = template
        self.parameters: dict[str, Any] = {}
        for name, spec in template["Parameters"].items():
            value = parameters.get(name, spec.get("Default"))
            if spec["Type"] == "CommaDelimitedList" and isinstance(value, str):
                value = value.split(",")
            self.parameters[name] = value
        self.conditions: dict[str, bool] = {}
        for name, expression in template["Conditions"].items():
            self.conditions[name] = bool(self.value(expression))

    def exists(self, resource: str) -> bool:
        condition = self.template["Resources"][resource].get("Condition")
        return condition is None or self.conditions[condition]

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in map(self.value, node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, arg)] = node.items()
            if key in self.FUNCTIONS:
                return self.FUNCTIONS[key](self, arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        return {"AWS::Partition": "aws", "AWS::AccountId": "123456789012"}.get(name, f"<{name}>")

    def _attribute(self, name: str) -> str:
        if name == "UploadsBucket.Arn":
            return f"arn:aws:s3:::{self.parameters['BucketName']}"
        return f"<{name}>"

    def _sub(self, arg: Any) -> str:
        text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in names:
                return str(names[name])
            return self._attribute(name) if "." in name else str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    FUNCTIONS: dict[str, Any] = {
        "Ref": lambda self, a: self._ref(a),
        "Fn::GetAtt": lambda self, a: self._attribute(".".join(a)),
        "Fn::Sub": lambda self, a: self._sub(a),
        "Fn::Join": lambda self, a: a[0].join(self.value(a[1])),
        "Fn::Split": lambda self, a: self.value(a[1]).split(a[0]),
        "Fn::Select": lambda self, a: self.value(a[1])[int(a[0])],
        "Fn::FindInMap": lambda self, a: self.template["Mappings"][a[0]][a[1]][a[2]],
        "Fn::If": lambda self, a: self.value(a[1] if self.conditions[a[0]] else a[2]),
        "Fn::Not": lambda self, a: not self.value(a[0]),
        "Fn::Equals": lambda self, a: self.value(a[0]) == self.value(a[1]),
    }


def cloudfront_statement(stack: Stack) -> dict[str, Any]:
    policy = stack.value(stack.template["Resources"]["UploadsBucketPolicy"]["Properties"])
    found = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(found) == 1
    return found[0]


def test_no_distribution_without_public_prefixes():
    template = load_template()
    stack = Stack(template, BucketName="uploads-test")
    assert stack.conditions["ServesPublic"] is False
    for name, resource in template["Resources"].items():
        if resource["Type"].startswith("AWS::CloudFront::"):
            assert not stack.exists(name), name
    policy = stack.value(template["Resources"]["UploadsBucketPolicy"]["Properties"])
    assert [s["Sid"] for s in policy["PolicyDocument"]["Statement"]] == ["TlsOnly"]
    assert template["Outputs"]["PublicBaseUrl"]["Condition"] == "ServesPublic"


def test_distribution_reads_through_origin_access_control():
    template = load_template()
    resources = template["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    assert "AWS::CloudFront::CloudFrontOriginAccessIdentity" not in kinds  # the legacy OAI
    oac = resources["PublicOriginAccessControl"]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert oac["Condition"] == "ServesPublic"
    assert oac["Properties"]["OriginAccessControlConfig"] | {"Name": None, "Description": None} == {
        "Name": None,
        "Description": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    distribution = resources["PublicDistribution"]
    assert distribution["Type"] == "AWS::CloudFront::Distribution"
    assert distribution["Condition"] == "ServesPublic"
    config = distribution["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["UploadsBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["PublicOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    # The bucket itself stays closed to the public: the distribution's grant is not public.
    bucket = resources["UploadsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    # Outside the public prefixes, the edge answers by itself.
    default = config["DefaultCacheBehavior"]
    [association] = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    assert association["FunctionARN"]["Fn::GetAtt"][0] == "PublicPathsOnly"
    function = resources["PublicPathsOnly"]["Properties"]
    assert "statusCode: 404" in function["FunctionCode"]
    assert "return event.request" not in function["FunctionCode"]
    doctor = resources["DoctorPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Action"]
    assert {"s3:GetBucketPolicy", "s3:GetBucketPublicAccessBlock"} <= set(doctor)


@pytest.mark.parametrize(
    "prefixes",
    [
        ["avatars", "derived/avatars"],
        ["a", "b", "c", "d", "e", "f", "g", "h"],
        ["photos/public"],
    ],
)
def test_each_public_prefix_gets_a_behaviour_and_a_grant(prefixes):
    from s3upload.store import policy

    template = load_template()
    stack = Stack(template, BucketName="uploads-test", PublicPrefixes=",".join(prefixes))
    assert stack.conditions["ServesPublic"] is True
    assert all(stack.exists(n) for n in ("PublicDistribution", "PublicOriginAccessControl"))
    config = stack.value(template["Resources"]["PublicDistribution"]["Properties"])
    config = config["DistributionConfig"]
    behaviours = config["CacheBehaviors"]
    assert [b["PathPattern"] for b in behaviours] == [f"{p}/*" for p in prefixes]
    for behaviour in [*behaviours, config["DefaultCacheBehavior"]]:
        assert behaviour["TargetOriginId"] == "uploads"
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
        assert behaviour["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"

    statement = cloudfront_statement(stack)
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == [f"arn:aws:s3:::uploads-test/{p}/*" for p in prefixes]
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/<PublicDistribution>"
        }
    }
    # `doctor` and `bucket setup` recognise the grant as the distribution's.
    reads = policy.reads({"Statement": [statement]}, "uploads-test", prefixes)
    assert reads.cloudfront == {policy.object_arn("uploads-test", p) for p in prefixes}
    assert not reads.anonymous
    url = stack.value(template["Outputs"]["PublicBaseUrl"]["Value"])
    assert url == "https://<PublicDistribution.DomainName>"


def test_prefix_slots_stop_at_the_documented_maximum():
    template = load_template()
    slots = [n for n in template["Conditions"] if n.startswith("PublicPrefix")]
    assert len(slots) == 8
    assert "at most 8" in template["Parameters"]["PublicPrefixes"]["Description"]
    nine = [f"p{i}" for i in range(9)]
    stack = Stack(template, BucketName="uploads-test", PublicPrefixes=",".join(nine))
    assert len(cloudfront_statement(stack)["Resource"]) == 8


def test_compose_and_dockerfile():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert {"postgres", "redis", "rgw", "setup", "api"} <= set(compose["services"])
    env = compose["services"]["api"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env["REDIS_URL"].startswith("redis://")
    assert "migrate" in compose["services"]["setup"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER s3upload" in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_production_guide_names_every_setting():
    from pydantic import BaseModel

    from s3upload.settings import Settings

    guide = (ROOT / "docs" / "production.md").read_text()
    names = []
    for name, field in Settings.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            # A section's fields are read as <SECTION>_<FIELD>.
            names += [f"{name}_{sub}".upper() for sub in kind.model_fields]
        else:
            names.append(name.upper())
    missing = [n for n in names if f"`{n}`" not in guide]
    assert not missing, f"docs/production.md lacks {missing}"


# ---- compose.yaml and the images it builds ----

COMPOSE = ROOT / "compose.yaml"
RGW_DOCKERFILE = ROOT / "deploy" / "rgw" / "Dockerfile"
RGW_ENTRYPOINT = ROOT / "deploy" / "rgw" / "entrypoint.sh"
# How many numeric parts a tag needs to name one release (python:3.11 floats across patches).
TAG_PARTS = {"python": 3}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def build_of(service: dict) -> tuple[Path, Path]:
    """The build context and Dockerfile of a service that is built here."""
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (ROOT / build.get("context", ".")).resolve()
    return context, context / build.get("dockerfile", "Dockerfile")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", dockerfile.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def pinned(image: str) -> bool:
    """Whether an image reference names one release: name:X.Y[.Z][-variant], never latest."""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag or tag == "latest":
        return False
    parts = TAG_PARTS.get(name.rsplit("/", 1)[-1], 2)
    version = rf"^\d+(\.\d+){{{parts - 1},}}([-_.][a-z0-9.-]+)?$"
    return re.match(version, tag) is not None


def base_images(dockerfile: Path) -> list[str]:
    """The FROM images of a Dockerfile, without references to its own earlier stages."""
    stages: set[str] = set()
    images = []
    for word, args in instructions(dockerfile):
        if word == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            if words[0] not in stages:
                images.append(words[0])
            if len(words) == 3 and words[1].lower() == "as":
                stages.add(words[2])
    return images


def dockerignored(path: str) -> bool:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pat) for prefix in prefixes for pat in patterns)


def test_pinning_rules():
    assert pinned("postgres:16.4")
    assert pinned("redis:7.4.1")
    assert pinned("debian:12.8-slim")
    assert pinned("python:3.11.10-slim-bookworm")
    assert not pinned("python:3.11-slim")
    assert not pinned("postgres:16")
    assert not pinned("postgres")
    assert not pinned("minio/minio:latest")
    assert not pinned("localhost:5000/redis")
    assert base_images(ROOT / "Dockerfile") == ["python:3.11.10-slim-bookworm"] * 2


def test_compose_images_are_pinned_and_builds_exist():
    for name, service in services().items():
        assert "image" in service or "build" in service, name
        if "image" in service:
            assert pinned(service["image"]), f"{name}: {service['image']} is not a pinned version"
            assert "minio" not in service["image"].lower(), name
        if "build" in service:
            context, dockerfile = build_of(service)
            assert context.is_dir(), name
            assert context.is_relative_to(ROOT), name
            assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"
    assert "minio" not in COMPOSE.read_text().lower()


def test_compose_dependencies_exist_and_can_become_healthy():
    all_services = services()
    for name, service in all_services.items():
        for dep, rule in (service.get("depends_on") or {}).items():
            assert dep in all_services, f"{name} depends on unknown service {dep}"
            if rule.get("condition") == "service_healthy":
                target = all_services[dep]
                has_check = "healthcheck" in target or (
                    "build" in target
                    and any(w == "HEALTHCHECK" for w, _ in instructions(build_of(target)[1]))
                )
                assert has_check, f"{name} waits for {dep} to be healthy; it has no healthcheck"
    assert all_services["setup"]["depends_on"]["rgw"]["condition"] == "service_healthy"
    assert all_services["api"]["depends_on"]["setup"]["condition"] == (
        "service_completed_successfully"
    )


def test_api_and_setup_share_one_environment():
    root = yaml.compose(COMPOSE.read_text())
    assert root is not None

    def child(node, key):
        return next(v for k, v in node.value if k.value == key)

    nodes = child(root, "services")
    api_env = child(child(nodes, "api"), "environment")
    setup_env = child(child(nodes, "setup"), "environment")
    assert api_env is setup_env, "api and setup must use the same &env anchor"
    # RGW makes its S3 user from the very credentials the service signs with.
    env = services()["api"]["environment"]
    rgw_env = services()["rgw"]["environment"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key]
        assert rgw_env[key] == env[key]


def published(service: dict) -> dict[int, int]:
    """container port -> host port of a service's "HOST:CONTAINER" port mappings."""
    out = {}
    for mapping in service.get("ports", []):
        host, _, container = str(mapping).rpartition(":")
        out[int(container)] = int(host.rpartition(":")[2])
    return out


def test_s3_and_event_endpoints():
    all_services = services()
    env = all_services["api"]["environment"]
    inside = urlsplit(env["S3_ENDPOINT_URL"])
    assert inside.hostname in all_services, "S3_ENDPOINT_URL must name a compose service"
    store = all_services[inside.hostname]
    assert "build" in store
    assert build_of(store)[1] == RGW_DOCKERFILE
    # The browser reaches RGW through the port published on the host, and the service signs
    # URLs for exactly that address.
    public = urlsplit(env["S3_PUBLIC_ENDPOINT_URL"])
    assert public.hostname in ("localhost", "127.0.0.1")
    assert published(store)[inside.port] == public.port
    rgw_env = dict(w.split("=", 1) for w in dockerfile_env(RGW_DOCKERFILE))
    assert int(rgw_env["RGW_PORT"]) == inside.port
    assert rgw_env["RGW_BIND"] == "0.0.0.0"  # noqa: S104 - inside the container
    # RGW pushes bucket events to the api's webhook inside the network.
    hook = urlsplit(env["EVENTS_WEBHOOK_URL"])
    assert hook.hostname in all_services
    assert hook.path == "/events/s3"
    assert hook.port in published(all_services[hook.hostname])
    assert env["EVENTS_SECRET"]
    assert "EVENTS_QUEUE_ARN" not in env


def dockerfile_env(dockerfile: Path) -> list[str]:
    return [w for word, args in instructions(dockerfile) if word == "ENV" for w in args.split()]


def test_rgw_image_is_pinned_and_copies_existing_files():
    assert base_images(RGW_DOCKERFILE) == ["debian:12.8-slim"]
    assert all(pinned(image) for image in base_images(RGW_DOCKERFILE))
    steps = instructions(RGW_DOCKERFILE)
    copies = [args.split() for word, args in steps if word == "COPY"]
    assert copies
    copied = []
    for words in copies:
        assert not any(w.startswith("--from") for w in words)
        *sources, dest = words
        for source in sources:
            assert (ROOT / source).is_file(), f"COPY {source}: no such file"
            assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
            copied.append(dest.rstrip("/") + "/" + Path(source).name)
    assert "scripts/rgw-up.sh" in [s for words in copies for s in words]
    entrypoint = next(args for word, args in steps if word == "ENTRYPOINT")
    assert any(path in entrypoint for path in copied if path.endswith("entrypoint.sh"))
    assert any(word == "HEALTHCHECK" for word, _ in steps)
    installs = " ".join(args for word, args in steps if word == "RUN")
    for package in ("radosgw", "ceph-mon", "ceph-osd", "ceph-common", "tini"):
        assert re.search(rf"\b{package}\b", installs), package


def test_dockerignore_check_sees_excluded_paths():
    assert dockerignored("tests/unit/test_deploy.py")
    assert not dockerignored("scripts/rgw-up.sh")


@pytest.mark.parametrize(
    "script", [RGW_ENTRYPOINT, ROOT / "scripts" / "rgw-up.sh", ROOT / "scripts" / "rgw-down.sh"]
)
def test_rgw_scripts_parse(script, tmp_path):
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    broken = tmp_path / "broken.sh"
    broken.write_text(script.read_text() + "\nif true; then\n")
    assert subprocess.run(["bash", "-n", str(broken)], capture_output=True).returncode != 0


def compose_command() -> list[str] | None:
    """`docker compose` (the client's plugin), else the standalone `docker-compose`."""
    docker = shutil.which("docker")
    if docker is not None:
        version = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if version.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        pytest.fail("neither `docker compose` nor `docker-compose` (scripts/install-deps.sh)")
    return subprocess.run(
        [*command, "-f", str(path), "--project-directory", str(ROOT), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_compose_config_is_valid(tmp_path):
    result = compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("      redis: {", "      cache: {"))
    assert compose_config(broken).returncode != 0
