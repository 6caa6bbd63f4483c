"""The hand-written SigV4 signer produces exactly what botocore produces."""

from __future__ import annotations

import base64
import json
from contextlib import contextmanager
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import botocore.session
import pytest
from botocore.config import Config

from s3upload.store.signer import Credentials, Signer

NOW = datetime(2026, 11, 22, 10, 30, 15, tzinfo=UTC)
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def botocore_url(endpoint, region, path_style, params, *, token=None, method="put_object"):
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        aws_session_token=token,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if path_style else "virtual"},
            request_checksum_calculation="when_required",
        ),
    )
    with frozen_clock():
        return client.generate_presigned_url(method, Params=params, ExpiresIn=900)


@contextmanager
def frozen_clock():
    """Botocore's clock stopped at NOW, so both signers sign the same instant."""

    def now(remove_tzinfo=True):
        return NOW.replace(tzinfo=None) if remove_tzinfo else NOW

    with (
        mock.patch("botocore.auth.get_current_datetime", now),
        mock.patch("botocore.signers.get_current_datetime", now),
    ):
        yield


def parts(url):
    u = urlsplit(url)
    return u.scheme, u.netloc, u.path, sorted(parse_qsl(u.query))


@pytest.mark.parametrize(
    ("endpoint", "path_style"),
    [
        ("http://127.0.0.1:7480", True),
        ("https://s3.eu-west-1.amazonaws.com", False),
        ("https://minio.example.com:9000", True),
        ("https://rgw.example.com", True),
    ],
)
@pytest.mark.parametrize(
    "key", ["uploads/2026/11/abc/photo.png", "a b/ü+=&?.txt", "x~y/(1)*!'.bin"]
)
def test_put_url_matches_botocore(endpoint, path_style, key):
    region = "eu-west-1"
    headers = {
        "Content-Type": "image/png",
        "Content-Length": "1234",
        "x-amz-meta-title": "Key  note",
        "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
    }
    ours = Signer(endpoint_url=endpoint, region=region, bucket="my-bucket", path_style=path_style)
    url = ours.presign(key, creds=CREDS, method="PUT", headers=headers, expires_in=900, now=NOW)
    theirs = botocore_url(
        endpoint,
        region,
        path_style,
        {
            "Bucket": "my-bucket",
            "Key": key,
            "ContentType": "image/png",
            "ContentLength": 1234,
            "Metadata": {"title": "Key  note"},
            "ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        },
    )
    assert parts(url) == parts(theirs)


def test_upload_part_url_with_session_token_matches_botocore():
    token = "FQoGZXIvYXdzE//token+with/slashes=="
    creds = Credentials(CREDS.access_key, CREDS.secret_key, token)
    ours = Signer(
        endpoint_url="http://127.0.0.1:7480", region="default", bucket="bkt", path_style=True
    )
    url = ours.presign(
        "big/file.mp4",
        creds=creds,
        method="PUT",
        headers={"Content-Length": "5242880"},
        query={"partNumber": "7", "uploadId": "2~abc.DEF_ghi"},
        expires_in=900,
        now=NOW,
    )
    theirs = botocore_url(
        "http://127.0.0.1:7480",
        "default",
        True,
        {
            "Bucket": "bkt",
            "Key": "big/file.mp4",
            "PartNumber": 7,
            "UploadId": "2~abc.DEF_ghi",
            "ContentLength": 5242880,
        },
        token=token,
        method="upload_part",
    )
    assert parts(url) == parts(theirs)


def test_get_with_response_disposition_matches_botocore():
    disposition = "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
    ours = Signer(endpoint_url=None, region="us-west-2", bucket="bkt", path_style=False)
    url = ours.presign(
        "k/a b.txt",
        creds=CREDS,
        method="GET",
        query={"response-content-disposition": disposition},
        expires_in=900,
        now=NOW,
    )
    theirs = botocore_url(
        "https://s3.us-west-2.amazonaws.com",
        "us-west-2",
        False,
        {
            "Bucket": "bkt",
            "Key": "k/a b.txt",
            "ResponseContentDisposition": disposition,
        },
        method="get_object",
    )
    assert parts(url) == parts(theirs)


def test_expiry_is_capped_at_seven_days():
    ours = Signer(endpoint_url="http://h:1", region="r", bucket="b", path_style=True)
    url = ours.presign("k", creds=CREDS, expires_in=10**9, now=NOW)
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "604800"


def test_post_policy_matches_botocore():
    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        endpoint_url="http://127.0.0.1:7480",
        region_name="default",
        aws_access_key_id=CREDS.access_key,
        aws_secret_access_key=CREDS.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    conditions = [["content-length-range", 10, 10], {"Content-Type": "image/png"}]
    with frozen_clock():
        theirs = client.generate_presigned_post(
            "bkt",
            "k/x.png",
            Fields={"Content-Type": "image/png"},
            Conditions=list(conditions),
            ExpiresIn=900,
        )
    ours = Signer(
        endpoint_url="http://127.0.0.1:7480", region="default", bucket="bkt", path_style=True
    )
    url, fields = ours.presign_post(
        "k/x.png",
        creds=CREDS,
        fields={"Content-Type": "image/png"},
        conditions=conditions,
        expires_in=900,
        now=NOW,
    )
    assert url == theirs["url"]
    ours_policy = json.loads(base64.b64decode(fields.pop("policy")))
    their_policy = json.loads(base64.b64decode(theirs["fields"].pop("policy")))
    assert ours_policy["expiration"] == their_policy["expiration"]
    assert sorted(map(json.dumps, ours_policy["conditions"])) == sorted(
        map(json.dumps, their_policy["conditions"])
    )
    fields.pop("x-amz-signature")
    theirs["fields"].pop("x-amz-signature")
    assert fields == theirs["fields"]


@pytest.mark.parametrize("token", [None, "sess/token+="])
def test_batch_part_urls_equal_one_by_one(token):
    creds = Credentials(CREDS.access_key, CREDS.secret_key, token)
    signer = Signer(
        endpoint_url="http://127.0.0.1:7480", region="default", bucket="bkt", path_style=True
    )
    specs = [(1, 5242880, None), (2, 5242880, "1B2M2Y8AsgTpgAmY7PhCfg=="), (10000, 17, None)]
    batch = signer.presign_parts(
        "a b/ü.bin", creds=creds, upload_id="2~x/y+z", parts=specs, expires_in=900, now=NOW
    )
    for (number, length, md5), url in zip(specs, batch, strict=True):
        headers = {"Content-Length": str(length)}
        if md5:
            headers["Content-MD5"] = md5
        one = signer.presign(
            "a b/ü.bin",
            creds=creds,
            method="PUT",
            headers=headers,
            query={"partNumber": str(number), "uploadId": "2~x/y+z"},
            expires_in=900,
            now=NOW,
        )
        assert parts(url) == parts(one)
