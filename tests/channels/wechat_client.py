"""Plays WeChat's servers: builds, signs and (in safe mode) encrypts messages
with wechatpy's own crypto, posts them over HTTP and decodes the replies."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

_MSG_IDS = iter(range(int(time.time() * 1000) * 1000, 2**63))


def next_msg_id() -> str:
    """A new, unique MsgId (64-bit, like WeChat's)."""
    return str(next(_MSG_IDS))


def sign(token: str, timestamp: str, nonce: str) -> str:
    """The ``signature`` query parameter WeChat computes."""
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return signer.signature


def cdata(value: str) -> str:
    """Wrap a value in CDATA, as WeChat does."""
    return f"<![CDATA[{value}]]>"


def message_xml(openid: str, msg_type: str, fields: Dict[str, str], msg_id: Optional[str] = None,
                create_time: Optional[int] = None) -> str:
    """A message or event XML as WeChat posts it to the server."""
    parts = [
        f"<ToUserName>{cdata('gh_linli_test')}</ToUserName>",
        f"<FromUserName>{cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{cdata(msg_type)}</MsgType>",
    ]
    parts += [f"<{key}>{cdata(value)}</{key}>" for key, value in fields.items()]
    if msg_id:
        parts.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, msg_id: Optional[str] = None) -> str:
    """A text message."""
    return message_xml(openid, "text", {"Content": content}, msg_id or next_msg_id())


@dataclass
class Reply:
    """What the webhook answered."""

    status: int
    body: str
    seconds: float
    content: Optional[str] = None  # the text of a passive reply
    to_user: Optional[str] = None


class WeChatServer:
    """Posts to ``/webhooks/wechat/webhook`` like WeChat's servers."""

    def __init__(self, base_url: str, token: str, app_id: str, aes_key: str) -> None:
        self.url = f"{base_url}/webhooks/wechat/webhook"
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id)

    def _query(self, signature: Optional[str] = None, timestamp: Optional[str] = None, nonce: Optional[str] = None,
               **extra: str) -> Tuple[str, str, str]:
        timestamp, nonce = timestamp or str(int(time.time())), nonce or uuid.uuid4().hex[:10]
        params = {"signature": signature or sign(self.token, timestamp, nonce), "timestamp": timestamp,
                  "nonce": nonce, **extra}
        return urllib.parse.urlencode(params), timestamp, nonce

    @staticmethod
    def _request(url: str, data: Optional[bytes] = None, timeout: float = 60.0,
                 content_type: str = "text/xml") -> Tuple[int, str, float]:
        started = time.monotonic()
        request = urllib.request.Request(url, data, {"Content-Type": content_type} if data is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), time.monotonic() - started

    def verify(self, echostr: str, signature: Optional[str] = None, timestamp: Optional[str] = None,
               nonce: Optional[str] = None) -> Tuple[int, str]:
        """The GET that WeChat sends when the server URL is configured."""
        query, _, _ = self._query(signature, timestamp, nonce, echostr=echostr)
        status, body, _ = self._request(f"{self.url}?{query}")
        return status, body

    def post(self, xml: str, *, safe: bool = True, signature: Optional[str] = None,
             msg_signature: Optional[str] = None, openid: str = "", timestamp: Optional[str] = None,
             nonce: Optional[str] = None, content_type: str = "text/xml", raw: Optional[bytes] = None) -> Reply:
        """Post a message (encrypted in safe mode, the default: the test account has an
        EncodingAESKey) and decode the passive reply. ``raw`` posts those bytes as the body."""
        if not safe:
            query, _, _ = self._query(signature, timestamp, nonce, openid=openid)
            body_bytes = raw if raw is not None else xml.encode()
            status, body, seconds = self._request(f"{self.url}?{query}", body_bytes, content_type=content_type)
            return self._decode(status, body, seconds, None)
        timestamp, nonce = timestamp or str(int(time.time())), nonce or uuid.uuid4().hex[:10]
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        params = {
            "signature": signature or sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
            "encrypt_type": "aes",
            "msg_signature": msg_signature or envelope["MsgSignature"],
        }
        # WeChat posts only ToUserName and Encrypt in safe mode.
        body_xml = f"<xml><ToUserName>{cdata('gh_linli_test')}</ToUserName><Encrypt>{cdata(envelope['Encrypt'])}</Encrypt></xml>"
        body_bytes = raw if raw is not None else body_xml.encode()
        status, body, seconds = self._request(f"{self.url}?{urllib.parse.urlencode(params)}", body_bytes,
                                              content_type=content_type)
        return self._decode(status, body, seconds, "safe")

    def _decode(self, status: int, body: str, seconds: float, mode: Optional[str]) -> Reply:
        reply = Reply(status, body, seconds)
        if status != 200 or not body.strip().startswith("<xml"):
            return reply
        xml = body
        if mode == "safe":
            outer = xmltodict.parse(body)["xml"]
            # decrypt_message checks the reply's signature as a WeChat server would.
            xml = self.crypto.decrypt_message(body, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        inner = xmltodict.parse(xml)["xml"]
        reply.content = inner.get("Content")
        reply.to_user = inner.get("ToUserName")
        return reply
