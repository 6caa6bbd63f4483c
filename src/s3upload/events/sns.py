"""Amazon SNS message signatures: certificate URL restricted to SNS, RSA over the canonical text.

Written by hand because no well-kept Python library verifies SNS HTTP(S) deliveries; the
algorithm is AWS's published one (SignatureVersion 1: SHA1, 2: SHA256).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature as BadRsaSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from s3upload.errors import InvalidSignature, SnsCertificate, SnsConfirm, UnknownTopic

_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


def canonical(message: dict[str, Any]) -> bytes:
    """The text SNS signs: `Name\\nValue\\n` for the fields of the message's type, in order."""
    kind = message.get("Type")
    names = _NOTIFICATION_FIELDS if kind == "Notification" else _SUBSCRIPTION_FIELDS
    return "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode()


class SnsVerifier:
    """Verifies SNS messages, caching signing certificates by URL."""

    def __init__(self, origin_pattern: str, topics: list[str]) -> None:
        self._origin = re.compile(origin_pattern)
        self._topics = set(topics)
        self._certs: dict[str, rsa.RSAPublicKey] = {}

    def allowed_url(self, url: str) -> bool:
        """Whether a certificate or subscription URL points where SNS lives."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        return bool(self._origin.fullmatch(origin)) and "@" not in parts.netloc

    async def _key(self, url: str) -> rsa.RSAPublicKey:
        if url in self._certs:
            return self._certs[url]
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                resp = await client.get(url)
                resp.raise_for_status()
            key = x509.load_pem_x509_certificate(resp.content).public_key()
        except (httpx.HTTPError, ValueError) as exc:
            raise SnsCertificate("The SNS signing certificate could not be fetched.") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature("The SNS certificate does not hold an RSA key.")
        if len(self._certs) > 32:
            self._certs.clear()
        self._certs[url] = key
        return key

    async def verify(self, message: dict[str, Any]) -> None:
        """Raise 403 unless the message is signed by SNS for an accepted topic."""
        cert_url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
        if not (self.allowed_url(cert_url) and urlsplit(cert_url).path.endswith(".pem")):
            raise InvalidSignature("The SNS certificate URL is not an SNS one.")
        algorithm = _HASHES.get(str(message.get("SignatureVersion", "")))
        if algorithm is None:
            raise InvalidSignature("Unknown SNS SignatureVersion.")
        if self._topics and message.get("TopicArn") not in self._topics:
            raise UnknownTopic("Messages from this SNS topic are not accepted.")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidSignature("The SNS signature is not base64.") from exc
        key = await self._key(cert_url)
        try:
            key.verify(signature, canonical(message), padding.PKCS1v15(), algorithm())
        except BadRsaSignature as exc:
            raise InvalidSignature("The SNS signature does not match.") from exc

    async def confirm(self, message: dict[str, Any]) -> None:
        """Visit the SubscribeURL of a verified SubscriptionConfirmation."""
        url = str(message.get("SubscribeURL", ""))
        if not self.allowed_url(url):
            raise InvalidSignature("The SubscribeURL is not an SNS one.")
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                (await client.get(url)).raise_for_status()
        except httpx.HTTPError as exc:
            raise SnsConfirm("Confirming the SNS subscription failed.") from exc
