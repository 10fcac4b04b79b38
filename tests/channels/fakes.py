"""Test doubles at the HTTP boundary, in one local aiohttp server:

- ``/wechat/cgi-bin/token`` and ``/wechat/cgi-bin/message/custom/send``: WeChat's
  access-token and customer-service message APIs;
- ``/wechat/cgi-bin/message/template/send``: template messages (模板消息);
- ``/telegram/bot<TOKEN>/<method>``: the Telegram Bot API;
- ``/wechat/cgi-bin/media/get``, Telegram's ``getFile`` and ``/telegram/file/bot<TOKEN>/<path>``:
  media downloads (``wechat_media``, ``telegram_files``; unknown ids get the platforms' errors);
- ``/actions/webhook``: a pass-through proxy to the real action server that can
  delay chosen conversations (to make an answer slower than WeChat's 5 s).

Everything received is recorded so tests can assert on it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

import aiohttp
from aiohttp import web


@dataclass
class Call:
    """One request the fake received."""

    api: str  # "wechat" | "telegram"
    method: str  # e.g. "token", "message/custom/send", "sendMessage"
    params: Dict[str, Any]
    query: Dict[str, str] = field(default_factory=dict)


class FakeApis:
    """WeChat + Telegram API doubles and a slow-down proxy for the action server."""

    def __init__(self) -> None:
        self.calls: List[Call] = []
        self.action_target: Optional[str] = None
        self.slow_senders: Set[str] = set()
        self.slow_seconds = 6.0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        self.url = ""
        self._message_id = 0
        #: When set, WeChat's token endpoint answers 502 (its URL carries the AppSecret).
        self.fail_wechat_token = False
        #: When set, WeChat's send API answers 503 (an outage); the refused calls are still recorded.
        self.fail_wechat_send = False
        #: OpenID → errcodes WeChat answers to its next customer-service / template sends, one per
        #: send (e.g. ``[45015]``: outside the 48-hour window; ``[-1]``: system busy), then ``ok``.
        self.wechat_send_errors: Dict[str, List[int]] = {}
        self.wechat_template_errors: Dict[str, List[int]] = {}
        #: WeChat temporary media: media id → (bytes, content type), served by ``cgi-bin/media/get``.
        self.wechat_media: Dict[str, Any] = {}
        #: Telegram files: file id → bytes (``getFile`` + the file download URL).
        self.telegram_files: Dict[str, bytes] = {}
        #: Updates handed out by ``getUpdates`` (polling mode), oldest first.
        self.telegram_updates: List[Dict[str, Any]] = []

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "FakeApis":
        """Serve on a free port in a background thread."""
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True, name="fake-apis").start()
        if not ready.wait(15):
            raise RuntimeError("fake API server did not start")
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/wechat/cgi-bin/token", self._wechat_token)
        app.router.add_post("/wechat/cgi-bin/message/custom/send", self._wechat_send)
        app.router.add_post("/wechat/cgi-bin/message/template/send", self._wechat_template)
        app.router.add_post("/telegram/bot{token}/{method}", self._telegram)
        app.router.add_get("/wechat/cgi-bin/media/get", self._wechat_media)
        app.router.add_get("/telegram/file/bot{token}/{path:.*}", self._telegram_file)
        app.router.add_post("/actions/webhook", self._action_proxy)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    # ------------------------------------------------------------ recording
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def find(self, api: str, method: Optional[str] = None, **where: Any) -> List[Call]:
        """Recorded calls of ``api`` (and ``method``) whose params match ``where``."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if c.api == api
            and (method is None or c.method == method)
            and all(str(c.params.get(k)) == str(v) for k, v in where.items())
        ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
        """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout:.0f}s; calls: {self.calls[-10:]}")

    # ------------------------------------------------------------ WeChat
    async def _wechat_token(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self._record(Call("wechat", "token", {}, query))
        if self.fail_wechat_token:
            return web.Response(status=502, text="bad gateway")
        if query.get("grant_type") != "client_credential" or not query.get("secret"):
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return web.json_response({"access_token": f"ACCESS-{len(self.find('wechat', 'token'))}", "expires_in": 7200})

    async def _wechat_send(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        if self.fail_wechat_send:
            self._record(Call("wechat", "message/custom/send (refused)", body, dict(request.query)))
            return web.Response(status=503, text="service unavailable")
        self._record(Call("wechat", "message/custom/send", body, dict(request.query)))
        if not request.query.get("access_token", "").startswith("ACCESS-"):
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        return self._wechat_answer(self.wechat_send_errors, body.get("touser"))

    async def _wechat_template(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self._record(Call("wechat", "message/template/send", body, dict(request.query)))
        if not request.query.get("access_token", "").startswith("ACCESS-"):
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        if not body.get("template_id") or not isinstance(body.get("data"), dict):
            return web.json_response({"errcode": 47003, "errmsg": "argument invalid!"})
        return self._wechat_answer(self.wechat_template_errors, body.get("touser"), msgid=True)

    def _wechat_answer(self, errors: Dict[str, List[int]], touser: Any, msgid: bool = False) -> web.Response:
        """``ok``, or the next errcode queued for ``touser``."""
        with self._lock:
            queued = errors.get(str(touser))
            errcode = queued.pop(0) if queued else 0
        if errcode:
            return web.json_response({"errcode": errcode, "errmsg": f"fake error {errcode}"})
        self._message_id += 1
        return web.json_response({"errcode": 0, "errmsg": "ok", **({"msgid": self._message_id} if msgid else {})})

    async def _wechat_media(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self._record(Call("wechat", "media/get", {"media_id": query.get("media_id")}, query))
        if not query.get("access_token", "").startswith("ACCESS-"):
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        found = self.wechat_media.get(query.get("media_id", ""))
        if found is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        data, content_type = found
        return web.Response(body=data, content_type=content_type,
                            headers={"Content-disposition": f'attachment; filename="{query["media_id"]}"'})

    async def _telegram_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self._record(Call("telegram", "file", {"path": path, "_token": request.match_info["token"]}))
        file_id = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if file_id not in self.telegram_files:
            return web.Response(status=404, text="not found")
        return web.Response(body=self.telegram_files[file_id], content_type="application/octet-stream")

    # ------------------------------------------------------------ Telegram
    async def _telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: Dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json()
        else:
            for key, value in (await request.post()).items():
                try:  # python-telegram-bot sends JSON-encoded values in a form
                    params[key] = json.loads(value) if isinstance(value, str) else value
                except ValueError:
                    params[key] = value
        params["_token"] = request.match_info["token"]
        self._record(Call("telegram", method, params))
        if method == "getMe":
            result: Any = {"id": 123456, "is_bot": True, "first_name": "Linli", "username": "linli_test_bot"}
        elif method == "getUpdates":
            offset = int(params.get("offset") or 0)
            with self._lock:
                result = [u for u in self.telegram_updates if u["update_id"] >= offset]
            if not result:
                await asyncio.sleep(0.2)  # a (very) short long-poll
        elif method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.telegram_files:
                return web.json_response({"ok": False, "error_code": 400,
                                          "description": "Bad Request: invalid file_id"}, status=400)
            result = {"file_id": file_id, "file_unique_id": f"u-{file_id}",
                      "file_size": len(self.telegram_files[file_id]), "file_path": f"photos/{file_id}.jpg"}
        elif method in ("sendMessage", "sendPhoto"):
            self._message_id += 1
            result = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "text": params.get("text") or params.get("caption") or "",
            }
        else:  # answerCallbackQuery, setWebhook, deleteWebhook...
            result = True
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------ actions
    async def _action_proxy(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            sender = json.loads(body).get("sender_id")
        except ValueError:
            sender = None
        # Conversations are "<channel>:<platform id>"; tests name the platform id.
        if sender in self.slow_senders or str(sender).partition(":")[2] in self.slow_senders:
            await asyncio.sleep(self.slow_seconds)
        assert self.action_target, "action_target not set"
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.action_target, data=body,
                headers={"Content-Type": "application/json", "Authorization": request.headers.get("Authorization", "")}
            ) as upstream:
                payload = await upstream.read()
                return web.Response(body=payload, status=upstream.status, content_type="application/json")
