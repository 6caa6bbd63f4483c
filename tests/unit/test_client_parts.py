"""Pure pieces of the client: part spans, types, retries, errors, download names."""

from __future__ import annotations

import itertools

import httpx
import pytest

from s3upload.client.chunks import part_span
from s3upload.client.download import local_name
from s3upload.client.errors import ClientError
from s3upload.client.parts import _named_parts
from s3upload.client.put import _s3_error
from s3upload.client.retry import Backoff, retry_after
from s3upload.client.transfer import guess_type

MiB = 1024 * 1024


def test_part_spans_cover_the_file_exactly():
    size, part = 23 * MiB + 7, 5 * MiB
    spans = [part_span(size, part, n) for n in range(1, 6)]
    assert spans[0] == (0, part)
    assert spans[-1] == (4 * part, 3 * MiB + 7)
    assert sum(length for _, length in spans) == size
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_types_are_guessed_from_names(tmp_path):
    assert guess_type(tmp_path / "a.PNG") == "image/png"
    assert guess_type(tmp_path / "notes.txt") == "text/plain"
    assert guess_type(tmp_path / "blob") == "application/octet-stream"


def test_backoff_grows_with_jitter_and_honours_retry_after():
    backoff = Backoff(attempts=5, base=0.5, cap=4.0)
    for failures, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        delays = [backoff.delay(failures) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spreads them, it does not shrink them all
    assert backoff.delay(1, retry_after=3) == 3
    assert backoff.delay(1, retry_after=60) == 4.0
    assert retry_after("5") == 5.0
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert retry_after(None) is None


def test_complete_failures_name_the_parts_to_send_again():
    missing = ClientError("m", status=409, code="parts_missing", details={"missing": [3, 1]})
    wrong = ClientError("w", status=422, code="part_size_mismatch", details={"partNumbers": [2]})
    other = ClientError("o", status=409, code="conflict", details={"status": "uploaded"})
    assert _named_parts(missing) == [1, 3]
    assert _named_parts(wrong) == [2]
    assert _named_parts(other) == []


def test_s3_error_bodies_are_read():
    body = "<Error><Code>EntityTooSmall</Code><Message>Your proposed upload</Message></Error>"
    assert _s3_error(body) == ("EntityTooSmall", "Your proposed upload")
    assert _s3_error("") == ("", "")


def _response(status: int, **kwargs: object) -> httpx.Response:
    request = httpx.Request("GET", "http://svc/uploads/1?X-Amz-Signature=secret")
    return httpx.Response(status, request=request, **kwargs)  # type: ignore[arg-type]


def test_service_errors_keep_status_code_and_message():
    err = ClientError.from_response(
        _response(415, json={"error": "unsupported_file_type", "message": "No.", "details": 1})
    )
    assert (err.status, err.code, err.message, err.details) == (
        415,
        "unsupported_file_type",
        "No.",
        1,
    )
    assert str(err) == "No. (415 unsupported_file_type)"


def test_other_errors_are_short_and_never_show_a_signature():
    err = ClientError.from_response(_response(502, text="<html>\n  Bad   gateway </html>"))
    assert err.code == "http_error"
    assert err.status == 502
    assert "Bad gateway" in err.message
    assert "secret" not in str(err)
    net = ClientError.from_transport(httpx.ConnectError("refused"), "http://svc")
    assert (net.status, net.code) == (None, "network_error")
    assert "http://svc" in str(net)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.jpg", "photo.jpg"),
        (".bashrc", "bashrc"),
        ("bad\x00name\n.txt", "badname.txt"),
        ("..", "download"),
    ],
)
def test_download_names_stay_in_the_directory(given, expected):
    assert local_name(given) == expected
