"""SNS envelopes: signed by a test certificate served locally, and forgeries refused."""

from __future__ import annotations

import base64
import datetime as dt
import json

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from s3upload.app import create_app
from s3upload.events.sns import canonical
from tests.conftest import BUCKET, EVENTS_SECRET, make_settings
from tests.helpers import assert_error, create, free_port, serving

TOPIC = "arn:aws:sns:us-east-1:123456789012:uploads"


def _certificate() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
async def sns_host():
    """A local stand-in for SNS's certificate host and subscription endpoint."""
    key, pem = _certificate()
    confirmed: list[str] = []

    async def cert(request):
        return Response(pem, media_type="application/x-pem-file")

    async def confirm(request):
        confirmed.append(request.query_params["Token"])
        return PlainTextResponse("<ConfirmSubscriptionResponse/>")

    app = Starlette(
        routes=[Route("/SimpleNotificationService-test.pem", cert), Route("/confirm", confirm)]
    )
    async with serving(app, free_port()) as origin:
        yield key, origin, confirmed


@pytest.fixture(scope="module")
async def sns_client(services, migrated, sns_host, app):
    settings = make_settings(
        services, events={"sns_origin_pattern": r"http://127\.0\.0\.1:\d+", "sns_topics": [TOPIC]}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield application, c


def signed(key, origin, message, version="2"):
    message = {
        **message,
        "SignatureVersion": version,
        "SigningCertURL": f"{origin}/SimpleNotificationService-test.pem",
    }
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 - SNS v1
    signature = key.sign(canonical(message), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def notification(key_name: str) -> dict:
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key_name}},
            }
        ]
    }
    return {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": TOPIC,
        "Subject": "Amazon S3 Notification",
        "Message": json.dumps(event),
        "Timestamp": "2026-11-22T10:00:00.000Z",
    }


async def post(client, body):
    # SNS posts JSON with Content-Type text/plain
    return await client.post(
        f"/events/s3?secret={EVENTS_SECRET}",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain; charset=UTF-8"},
    )


@pytest.mark.parametrize("version", ["1", "2"])
async def test_signed_notification_is_applied(sns_client, sns_host, auth, version):
    app, client = sns_client
    key, origin, _ = sns_host
    up = await create(client, auth, fileSize=5)
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=b"12345", ContentType="image/png"
    )
    resp = await post(client, signed(key, origin, notification(up["key"]), version))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"processed": 1, "ignored": 0}
    assert (await client.get(f"/uploads/{up['id']}", headers=auth)).json()["status"] == "uploaded"


async def test_forged_notification_is_refused(sns_client, sns_host, auth):
    app, client = sns_client
    key, origin, _ = sns_host
    up = await create(client, auth, fileSize=5)
    store = app.state.store
    await store.client.put_object(
        Bucket=store.bucket, Key=up["key"], Body=b"12345", ContentType="image/png"
    )
    message = signed(key, origin, notification("uploads/something/else.png"))
    message["Message"] = notification(up["key"])["Message"]  # swapped after signing
    assert_error(await post(client, message), 403, "invalid_signature")
    other_key, _ = _certificate()
    forged = signed(other_key, origin, notification(up["key"]))
    assert_error(await post(client, forged), 403, "invalid_signature")
    assert (await client.get(f"/uploads/{up['id']}", headers=auth)).json()["status"] == "pending"


@pytest.mark.parametrize(
    "change",
    [
        {"SigningCertURL": "http://evil.example/SimpleNotificationService-test.pem"},
        {"SigningCertURL": "http://127.0.0.1:1@evil.example/x.pem"},
        {"SignatureVersion": "3"},
        {"TopicArn": "arn:aws:sns:us-east-1:123456789012:other"},
        {"Signature": "not base64!"},
    ],
)
async def test_envelopes_that_cannot_be_trusted(sns_client, sns_host, change):
    _, client = sns_client
    key, origin, _ = sns_host
    message = {**signed(key, origin, notification("k")), **change}
    resp = await post(client, message)
    assert resp.status_code == 403, resp.text


async def test_subscription_confirmation_visits_subscribe_url(sns_client, sns_host):
    _, client = sns_client
    key, origin, confirmed = sns_host
    message = signed(
        key,
        origin,
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "m-2",
            "Token": "tok-123",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe",
            "SubscribeURL": f"{origin}/confirm?Action=ConfirmSubscription&Token=tok-123",
            "Timestamp": "2026-11-22T10:00:00.000Z",
        },
    )
    resp = await post(client, message)
    assert resp.json() == {"confirmed": True}
    assert confirmed == ["tok-123"]


async def test_unsubscribe_confirmation_is_ignored(sns_client, sns_host):
    _, client = sns_client
    key, origin, _ = sns_host
    message = signed(
        key,
        origin,
        {
            "Type": "UnsubscribeConfirmation",
            "MessageId": "m-3",
            "Token": "t",
            "TopicArn": TOPIC,
            "Message": "bye",
            "SubscribeURL": f"{origin}/confirm?Token=t",
            "Timestamp": "2026-11-22T10:00:00.000Z",
        },
    )
    assert (await post(client, message)).json() == {"processed": 0, "ignored": 1}


async def test_unreachable_certificate_is_502(sns_client, sns_host):
    """The certificate host is down: a dependency failed (502), not the service (500)."""
    _, client = sns_client
    key, _, _ = sns_host
    nowhere = f"http://127.0.0.1:{free_port()}"
    resp = await post(client, signed(key, nowhere, notification("uploads/x.png")))
    assert_error(resp, 502, "sns_certificate")
