"""The ingress's Amazon SNS shell: fetch signing certificates (only from URLs the rule in
``ingest.snstrust`` allows, cached, bounded in time and size), check a message before it is
recorded, and confirm a subscription after. The decisions are the pure functions of
``ingest.snsmessage`` and ``ingest.snstrust``; this module does the I/O.

Answers (nothing is written for any of them): 400 not a signed SNS message; 403 a topic the
key was not enabled for, a certificate URL that is not SNS's, a bad signature; 503 the
certificate could not be fetched (SNS retries). A subscription confirmation is recorded, then
confirmed: 200 when SNS confirmed it, 502 when it did not (the record stays; press "Request
confirmation" in the console to try again).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.client
import logging
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ingest.admission import Admission, Rejection
from ingest.answers import Answer, json_answer
from ingest.snsmessage import (
    SigningCert,
    SnsMessage,
    load_signing_cert,
    read_message,
    signature_problem,
    topic_allowed,
)
from ingest.snstrust import HttpsTarget, SnsTrust, cert_url_target, subscribe_url_target
from schemas.errors import AlertpipeError

log = logging.getLogger("alertpipe.ingest.sns")
_SUBSCRIPTION_ARN = re.compile(rb"<SubscriptionArn>([^<]{1,512})</SubscriptionArn>")


class FetchFailed(AlertpipeError):
    """The URL did not answer 200 with a bounded body in time."""


def https_get(target: HttpsTarget, context: ssl.SSLContext, trust: SnsTrust) -> bytes:
    """GET ``target`` (blocking: run it in a thread). No redirect is followed, the body is
    read up to ``trust.max_response_bytes`` and within ``trust.timeout_s`` in all."""
    deadline = time.monotonic() + trust.timeout_s
    conn = http.client.HTTPSConnection(
        target.host, target.port, timeout=trust.timeout_s, context=context
    )
    try:
        conn.request("GET", target.path, headers={"User-Agent": "alertpipe-ingress"})
        with conn.getresponse() as response:  # closed with the connection, read or not
            if response.status != 200:
                raise FetchFailed(f"answered {response.status}")
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchFailed(f"not read within {trust.timeout_s:g}s")
                chunk = response.read1(16384)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > trust.max_response_bytes:
                    raise FetchFailed(f"more than {trust.max_response_bytes} bytes")
                chunks.append(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()


Fetch = Callable[[HttpsTarget], Awaitable[bytes]]


class CertCache:
    """Signing certificates by URL: at most ``size``, each kept ``ttl_s``; concurrent
    requests for one URL share one fetch, so a burst of messages fetches it once."""

    def __init__(self, fetch: Fetch, size: int, ttl_s: float, monotonic: Callable[[], float]):
        self._fetch, self._size, self._ttl, self._now = fetch, size, ttl_s, monotonic
        self._certs: OrderedDict[str, tuple[float, SigningCert]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[SigningCert]] = {}
        self.fetches = 0

    async def get(self, url: str, target: HttpsTarget) -> SigningCert:
        """Raises FetchFailed (not fetched, not a certificate)."""
        found = self._certs.get(url)
        if found is not None and self._now() - found[0] < self._ttl:
            self._certs.move_to_end(url)
            return found[1]
        pending = self._pending.get(url)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if pending.cancelled():  # the request that fetched went away, not this one
                    raise FetchFailed("the shared fetch was cancelled") from None
                raise
        future: asyncio.Future[SigningCert] = asyncio.get_running_loop().create_future()
        self._pending[url] = future
        try:
            self.fetches += 1
            cert = load_signing_cert(await self._fetch(target))
            if isinstance(cert, str):
                raise FetchFailed(cert)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            del self._pending[url]
        future.set_result(cert)
        self._certs[url] = (self._now(), cert)
        while len(self._certs) > self._size:
            self._certs.popitem(last=False)
        return cert


@dataclass(frozen=True)
class SnsRefusal:
    status: int
    reason: str  # the metric label
    message: str
    retry_after_s: int | None = None


class SnsGate:
    def __init__(
        self,
        trust: SnsTrust,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trust, self.clock = trust, clock
        self.context = ssl.create_default_context(cafile=trust.ca_file)
        self.certs = CertCache(self._get, trust.cert_cache_size, trust.cert_ttl_s, monotonic)

    async def _get(self, target: HttpsTarget) -> bytes:
        try:
            async with asyncio.timeout(self.trust.timeout_s + 1):
                return await asyncio.to_thread(https_get, target, self.context, self.trust)
        except TimeoutError:
            raise FetchFailed(f"no answer within {self.trust.timeout_s:g}s") from None

    async def check(
        self, body: bytes, topics: tuple[str, ...], header_type: bytes | None
    ) -> SnsMessage | SnsRefusal:
        """The verified message, or why it is refused. ``topics``: the key's allow-list,
        checked before anything is fetched; ``header_type``: x-amz-sns-message-type."""
        kind = None if header_type is None else header_type.decode("latin-1")
        message = read_message(body, kind)
        if isinstance(message, str):
            return SnsRefusal(400, "sns_invalid", f"Not a signed Amazon SNS message: {message}")
        if not topic_allowed(message.topic_arn, topics):
            return SnsRefusal(403, "sns_topic", "Topic not enabled for this integration key")
        target = cert_url_target(message.signing_cert_url, self.trust)
        if isinstance(target, str):
            return SnsRefusal(403, "sns_signature", f"SigningCertURL refused: {target}")
        try:
            cert = await self.certs.get(message.signing_cert_url, target)
        except FetchFailed as exc:
            log.warning("SNS signing certificate from %s not fetched: %s", target.host, exc)
            return SnsRefusal(
                503, "sns_cert_unavailable", "Signing certificate not available; retry later", 5
            )
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        problem = signature_problem(message, cert, now)
        if problem is not None:
            return SnsRefusal(403, "sns_signature", f"Signature not verified: {problem}")
        if message.type == "SubscriptionConfirmation":
            url = subscribe_url_target(
                message.subscribe_url, message.topic_arn, message.token or "", self.trust
            )
            if isinstance(url, str):
                return SnsRefusal(403, "sns_subscribe_url", f"SubscribeURL refused: {url}")
        return message

    async def confirm(self, message: SnsMessage, admission: Admission, request_id: str) -> Answer:
        """GET the SubscribeURL (checked again here: only the SNS service's own)."""
        integration = admission.integration
        target = subscribe_url_target(
            message.subscribe_url, message.topic_arn, message.token or "", self.trust
        )
        if isinstance(target, str):  # check() refused it already; never fetched
            return json_answer(403, {"result": "failure", "message": target}, request_id)
        try:
            answer = await self._get(target)
        except FetchFailed as exc:
            log.warning(
                "SNS subscription to %s (org %s, key %s) not confirmed: %s",
                message.topic_arn, integration.org, integration.key_id, exc,
            )  # fmt: skip
            failure = {
                "result": "failure",
                "message": "Recorded, but Amazon SNS did not confirm the subscription",
                "request_id": request_id,
            }
            return json_answer(502, failure, request_id)
        found = _SUBSCRIPTION_ARN.search(answer)
        subscription = found.group(1).decode("utf-8", "replace") if found else None
        log.info(
            "SNS subscription to %s confirmed (org %s, key %s, subscription %s)",
            message.topic_arn, integration.org, integration.key_id, subscription,
        )  # fmt: skip
        done = {"result": "success", "request_id": request_id, "confirmed": message.topic_arn}
        return json_answer(200, done, request_id)


def refusal(info_name: str, refused: SnsRefusal) -> Rejection:
    headers = (
        ((b"retry-after", str(refused.retry_after_s).encode()),)
        if refused.retry_after_s is not None
        else ()
    )
    return Rejection(info_name, refused.status, refused.reason, refused.message, headers)
