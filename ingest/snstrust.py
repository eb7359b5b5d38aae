"""Which URLs of an Amazon SNS message the ingress may fetch: the signing certificate's and,
for a subscription confirmation, the SubscribeURL. Pure.

The rule (AWS's own message validators use the same host pattern): ``https``, a host
``sns.<region>.amazonaws.com`` (or ``.amazonaws.com.cn``), the default port, no user
information, no fragment; a certificate path ending in ``.pem`` and no query; a SubscribeURL
whose path is ``/`` and whose query is ``Action=ConfirmSubscription`` for the message's own
topic and token, on the topic's region. ``SnsTrust`` holds the rule: tests give one naming
their loopback server and test CA, production never changes it (no environment variable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

# AWS's partitions aws, aws-us-gov (sns.us-gov-west-1.amazonaws.com) and aws-cn.
SNS_HOST = r"sns\.(?P<region>[a-z0-9-]{3,})\.amazonaws\.com(?:\.cn)?"
# What a URL may contain at all: no white space, controls, backslashes or non-ASCII.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_CERT_PATH = re.compile(r"/[A-Za-z0-9_.-]+\.pem")


@dataclass(frozen=True)
class SnsTrust:
    """Where SNS's certificates and confirmations may be fetched, and how."""

    host_pattern: str = SNS_HOST  # the whole host must match; a group ``region`` is checked
    port: int = 443
    ca_file: str | None = None  # None: the system's CA bundle
    timeout_s: float = 5.0  # per fetch, connecting and reading together
    cert_cache_size: int = 64  # signing certificates kept (SNS uses a handful)
    cert_ttl_s: float = 24 * 3600.0
    max_response_bytes: int = 64 * 1024

    def host_regex(self) -> re.Pattern[str]:
        return re.compile(self.host_pattern)


@dataclass(frozen=True)
class HttpsTarget:
    """A URL that passed the rule, taken apart: what the fetcher connects to and asks for."""

    host: str
    port: int
    path: str  # with the query, as sent
    region: str | None  # the host's region group, when the pattern has one


def _target(url: object, trust: SnsTrust) -> tuple[HttpsTarget, str, str] | str:
    """(target, path, query) or why not."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return "not a URL"
    if not _URL_CHARS.fullmatch(url):
        return "a character a URL of SNS never has"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme != "https":
        return "not https"
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        return "user information in the URL"
    if parts.fragment or "#" in url:
        return "a fragment"
    host = parts.hostname or ""
    found = trust.host_regex().fullmatch(host)
    # the host as written must be the host matched (no trailing dot, no case games)
    if found is None or parts.netloc not in (host, f"{host}:{port}"):
        return f"host {host!r} is not the SNS service's"
    if (port if port is not None else 443) != trust.port:
        return f"port {port} is not the SNS service's"
    region = found.groupdict().get("region")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return HttpsTarget(host, trust.port, path, region), parts.path, parts.query


def cert_url_target(url: object, trust: SnsTrust) -> HttpsTarget | str:
    """The SigningCertURL as something to fetch, or why it must not be fetched."""
    found = _target(url, trust)
    if isinstance(found, str):
        return found
    target, path, query = found
    if query or not _CERT_PATH.fullmatch(path):
        return "not a certificate path (/<name>.pem, no query)"
    return target


def subscribe_url_target(
    url: object, topic_arn: str, token: str, trust: SnsTrust
) -> HttpsTarget | str:
    """The SubscribeURL as something to GET, or why it must not be visited: it must confirm
    this message's topic with this message's token, on the topic's own region."""
    found = _target(url, trust)
    if isinstance(found, str):
        return found
    target, path, query = found
    if path != "/":
        return "not the SNS API's path"
    try:
        params = parse_qs(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return "not a query of the SNS API"
    if params.get("Action") != ["ConfirmSubscription"]:
        return "not Action=ConfirmSubscription"
    if params.get("TopicArn") != [topic_arn]:
        return "not this message's TopicArn"
    if params.get("Token") != [token]:
        return "not this message's Token"
    if set(params) - {"Action", "TopicArn", "Token"}:
        return "a parameter ConfirmSubscription does not take"
    arn_region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else None
    if target.region is not None and target.region != arn_region:
        return "not the topic's region"
    return target
