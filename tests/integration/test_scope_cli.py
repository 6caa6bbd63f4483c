"""The command line in a scope: upload into it, list it as a reader, claim for the app."""

from __future__ import annotations

import json
import os
import uuid

from tests.conftest import TokenFactory
from tests.helpers import free_port, serving
from tests.integration.test_client import cli


async def test_cli_uploads_lists_and_claims_in_a_scope(
    scoped_app, auth_for: TokenFactory, tmp_path
):
    team = f"team/{uuid.uuid4().hex[:8]}"
    writer, reader = f"w-{team[5:]}", f"r-{team[5:]}"
    tokens = {
        "writer": auth_for(writer, scopes=[f"{team}:upload", f"{team}:read"]),
        "reader": auth_for(reader, scopes=[f"{team}:read"]),
        "app": auth_for("the-app", roles=["processor"]),
    }
    plan = tmp_path / "plan.txt"
    plan.write_text("the plan")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3UPLOAD_"))}
    async with serving(scoped_app, free_port()) as url:

        def env(who: str) -> dict[str, str]:
            token = tokens[who]["Authorization"].removeprefix("Bearer ")
            return {**base_env, "S3UPLOAD_URL": url, "S3UPLOAD_TOKEN": token}

        code, out, err = await cli(
            "upload", str(plan), "--profile", "team", "--scope", team, "--json",
            "--state-dir", str(tmp_path / "s"), env=env("writer"),
        )  # fmt: skip
        assert code == 0, err
        uploaded = json.loads(out)
        assert uploaded["status"] == "uploaded"
        assert f"/{team}/" in uploaded["key"]

        code, out, err = await cli("ls", "--scope", team, env=env("reader"))
        assert code == 0, err
        assert out.splitlines() == [line for line in out.splitlines() if f"by {writer}" in line]
        assert uploaded["id"] in out
        code, out, err = await cli("ls", "--scope", team, "--json", env=env("reader"))
        assert [(i["id"], i["owner"]) for i in json.loads(out)] == [(uploaded["id"], writer)]

        code, out, err = await cli("ls", "--scope", "team/elsewhere", env=env("reader"))
        assert code == 1
        assert "team/elsewhere" in err
        assert len(err.splitlines()) == 1

        code, out, err = await cli("claim", uploaded["id"], env=env("app"))
        assert (code, out.strip()) == (0, f"claimed {uploaded['id']}"), err
        code, out, err = await cli("ls", "--scope", team, "--json", env=env("writer"))
        assert json.loads(out)[0]["claimed"] is True
