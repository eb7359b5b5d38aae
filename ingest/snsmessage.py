"""Amazon SNS's HTTP/S messages as the ingress checks them: read, the canonical string SNS
signs, the signature, the topic allow-list. Pure (the certificate comes in as an argument).

From AWS's documentation (see docs/sources/amazon_sns.md for the pages): the string to sign
is ``name\\nvalue\\n`` for each of Message, MessageId, Subject (if present), Timestamp,
TopicArn, Type for a Notification, and Message, MessageId, SubscribeURL, Timestamp, Token,
TopicArn, Type for a SubscriptionConfirmation or UnsubscribeConfirmation (byte order of the
names). SignatureVersion 1 signs it with SHA1withRSA, 2 with SHA256withRSA; Signature is
Base64.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_REQUIRED = ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
             "Signature", "SigningCertURL")  # fmt: skip
TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]{1,256}")


@dataclass(frozen=True)
class SnsMessage:
    type: str
    message_id: str
    topic_arn: str
    signature_version: str
    signature: str
    signing_cert_url: str
    signed: bytes  # the canonical string to sign
    subscribe_url: str | None = None
    token: str | None = None


def string_to_sign(fields: dict[str, Any]) -> bytes:
    """The canonical string of a message (its Type decides the names)."""
    keys = NOTIFICATION_KEYS if fields.get("Type") == "Notification" else CONFIRMATION_KEYS
    out = []
    for key in keys:
        value = fields.get(key)
        if key == "Subject" and value is None:
            continue  # only a Notification has one, and only when it was published with one
        out.append(f"{key}\n{value}\n")
    return "".join(out).encode("utf-8", "surrogatepass")


def read_message(body: bytes, header_type: str | None) -> SnsMessage | str:
    """The message, or why it is not a signed SNS message (answered 400, nothing written).
    ``header_type``: the request's x-amz-sns-message-type, which must agree with Type."""
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "not JSON: an SNS message is a JSON object (is raw message delivery on?)"
    if not isinstance(fields, dict):
        return "not a JSON object"
    kind = fields.get("Type")
    if kind not in TYPES:
        return f"Type is not one of {', '.join(TYPES)} (is raw message delivery on?)"
    if header_type is not None and header_type != kind:
        return "x-amz-sns-message-type does not match Type"
    needed = _REQUIRED if kind == "Notification" else (*_REQUIRED, "SubscribeURL", "Token")
    missing = [k for k in needed if not isinstance(fields.get(k), str) or not fields[k]]
    if missing:
        return f"missing or not text: {', '.join(missing)}"
    if "Subject" in fields and not isinstance(fields["Subject"], str):
        return "Subject is not text"
    if fields["SignatureVersion"] not in ("1", "2"):
        return f"SignatureVersion {fields['SignatureVersion']!r} is not 1 or 2"
    if not TOPIC_ARN.fullmatch(fields["TopicArn"]):
        return "TopicArn is not an SNS topic's ARN"
    return SnsMessage(
        kind,
        fields["MessageId"],
        fields["TopicArn"],
        fields["SignatureVersion"],
        fields["Signature"],
        fields["SigningCertURL"],
        string_to_sign(fields),
        fields.get("SubscribeURL"),
        fields.get("Token"),
    )


def topic_allowed(topic_arn: str, patterns: tuple[str, ...]) -> bool:
    """Whether an integration key takes messages of ``topic_arn``: an exact ARN or a glob
    (``arn:aws:sns:*:123456789012:*`` for an account). No patterns: no topic."""
    return any(fnmatchcase(topic_arn, p) for p in patterns)


@dataclass(frozen=True)
class SigningCert:
    """A signing certificate's public key and validity (UTC)."""

    key: rsa.RSAPublicKey
    not_before: dt.datetime
    not_after: dt.datetime


def load_signing_cert(pem: bytes) -> SigningCert | str:
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        return f"not a PEM certificate ({exc})"
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return "not an RSA certificate"
    return SigningCert(key, cert.not_valid_before_utc, cert.not_valid_after_utc)


def signature_problem(message: SnsMessage, cert: SigningCert, now: dt.datetime) -> str | None:
    """None when ``message`` is signed by ``cert``'s key and the certificate is valid at
    ``now``; else what is wrong."""
    if not cert.not_before <= now <= cert.not_after:
        return "the signing certificate is not valid now"
    try:
        signature = base64.b64decode(message.signature, validate=True)
    except (binascii.Error, ValueError):
        return "Signature is not Base64"
    digest = hashes.SHA1() if message.signature_version == "1" else hashes.SHA256()
    try:
        cert.key.verify(signature, message.signed, padding.PKCS1v15(), digest)
    except InvalidSignature:
        return "the signature does not match the message"
    return None
