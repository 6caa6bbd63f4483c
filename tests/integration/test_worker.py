"""The SQS worker, against a local SQS-protocol server (moto), applying to RGW and PostgreSQL.

S3 behaviour is never emulated here: moto stands in only for the queue.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from s3upload.cli import main
from s3upload.events.intake import handle_message
from s3upload.events.worker import consume
from tests.conftest import BUCKET, EVENTS_SECRET, TEST_SECRET
from tests.helpers import create, free_port


@pytest.fixture(scope="module")
def sqs_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def queue(app, sqs_endpoint):
    async with app.state.store.other_client("sqs", sqs_endpoint, "us-east-1") as sqs:
        url = (await sqs.create_queue(QueueName="s3upload-events"))["QueueUrl"]
        yield sqs, url
        await sqs.delete_queue(QueueUrl=url)


def event(key: str) -> dict:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}},
            }
        ]
    }


async def test_worker_applies_then_deletes(client, auth, app, queue):
    sqs, url = queue
    store = app.state.store
    plain = await create(client, auth, fileSize=3)
    wrapped = await create(client, auth, fileSize=3)
    for up in (plain, wrapped):
        await store.client.put_object(
            Bucket=store.bucket, Key=up["key"], Body=b"abc", ContentType="image/png"
        )
    await sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event(plain["key"])))
    envelope = {
        "Type": "Notification",
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Message": json.dumps(event(wrapped["key"])),
    }
    await sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))
    await sqs.send_message(QueueUrl=url, MessageBody="not json")

    async def handle(message):
        return await handle_message(
            message,
            sessionmaker=app.state.sessionmaker,
            store=store,
            sns=app.state.sns,
            verify_sns=False,
        )

    applied = 0
    for _ in range(5):  # SQS may hand out fewer than all messages per receive
        applied += await consume(sqs, queue_url=url, handle=handle, once=True, wait=1)
    assert applied == 2
    for up in (plain, wrapped):
        got = (await client.get(f"/uploads/{up['id']}", headers=auth)).json()
        assert got["status"] == "uploaded"
    left = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert left["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"


async def test_worker_keeps_messages_it_could_not_apply(app, queue):
    sqs, url = queue
    await sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event("k")))

    async def broken(message):
        raise RuntimeError("database went away")

    applied = await consume(sqs, queue_url=url, handle=broken, once=True, wait=1)
    assert applied == 0
    left = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    total = int(left["Attributes"]["ApproximateNumberOfMessages"]) + int(
        left["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    )
    assert total == 1


def test_worker_command(services, migrated, sqs_endpoint, monkeypatch):
    import boto3

    sqs = boto3.client("sqs", endpoint_url=sqs_endpoint, region_name="us-east-1")
    url = sqs.create_queue(QueueName="cli-events")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event("uploads/unknown.png")))
    for key, value in {
        "ENVIRONMENT": "test",
        "AUTH_JWT_SECRET": TEST_SECRET,
        "DATABASE_URL": services.database_url,
        "S3_ENDPOINT_URL": services.s3_endpoint,
        "S3_REGION": "default",
        "S3_BUCKET": BUCKET,
        "EVENTS_SECRET": EVENTS_SECRET,
        "EVENTS_SQS_REGION": "us-east-1",
        "EVENTS_QUEUE_URL": url,
        "EVENTS_SQS_ENDPOINT_URL": sqs_endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 message(s) applied" in result.output
    monkeypatch.delenv("EVENTS_QUEUE_URL")
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 2
