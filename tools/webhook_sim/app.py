"""Webhook simulator: WeChat Work (企业微信) group robots and an app push service.

Group robot, as the real one: ``POST /cgi-bin/webhook/send?key=<key>`` with
``{"msgtype": "text"|"markdown", …}`` answers HTTP 200 ``{"errcode", "errmsg"}``: 0 posted;
93000 the key is no robot; 40008 an unknown ``msgtype``; 44004 empty content; 45009 more
than ``robot_per_minute`` posts this minute; -1 system busy (``robot_busy_rate``). Posts
carry no id of ours and the robot has no status query, as in reality.

App push, a JSON webhook in the conventions of the SMS gateway: ``POST /v1/push
{"message_id", "topic", "title", "body"}`` → 200 ``{"push_id"}``; 400 ``UNKNOWN_TOPIC`` or
``EMPTY_BODY``; 429 / 503 faults; ``GET /v1/push/{message_id}`` → 200 or 404. A message id
pushed twice is pushed twice (and counted).

``GET /v1/stats`` counts posts per robot and pushes per topic (duplicates included);
``GET /v1/robots/{key}/messages`` lists what a group received.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter, deque
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tools.webhook_sim.settings import WebhookSimSettings

ROBOT_OK = 0
ROBOT_BUSY = -1
ROBOT_INVALID_KEY = 93000
ROBOT_BAD_TYPE = 40008
ROBOT_EMPTY = 44004
ROBOT_RATE_LIMITED = 45009


class PushRequest(BaseModel):
    message_id: str = Field(min_length=1)
    topic: str = Field(min_length=1, description="e.g. area:T-001, the area's subscribers.")
    title: str
    body: str


class PushResponse(BaseModel):
    push_id: str


class PushStatus(BaseModel):
    message_id: str
    push_id: str
    pushes: int


class RobotMessage(BaseModel):
    msgtype: str
    content: str
    received_at: float


class WebhookStats(BaseModel):
    robot_posts: dict[str, int] = Field(description="Posts accepted per robot key.")
    robot_refusals: dict[str, int] = Field(description="Posts refused, by errcode.")
    pushes: int
    distinct_push_messages: int
    duplicate_pushes: int
    by_topic: dict[str, int]


class PushError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.retry_after_s = retry_after_s


class WebhookSim:
    def __init__(self, settings: WebhookSimSettings) -> None:
        self.settings = settings
        self._prefix = uuid.uuid4().hex[:8]
        self.reset()

    def reset(self) -> None:
        self._rng = random.Random(self.settings.seed)
        self._ids = itertools.count(1)
        self.robot_messages: dict[str, list[RobotMessage]] = {}
        self._recent: dict[str, deque[float]] = {}
        self._refusals: Counter[str] = Counter()
        self._pushes: dict[str, tuple[str, int]] = {}
        self._by_topic: Counter[str] = Counter()
        self._push_count = 0

    def post_to_robot(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """The robot's answer to one post: always HTTP 200, the verdict in ``errcode``."""
        verdict = self._robot_verdict(key, body)
        if verdict != ROBOT_OK:
            self._refusals[str(verdict)] += 1
            return {"errcode": verdict, "errmsg": _ROBOT_MESSAGES[verdict]}
        msgtype = str(body["msgtype"])
        content = str(body[msgtype]["content"])
        self.robot_messages.setdefault(key, []).append(
            RobotMessage(msgtype=msgtype, content=content, received_at=time.time())
        )
        self._recent.setdefault(key, deque()).append(time.monotonic())
        return {"errcode": ROBOT_OK, "errmsg": "ok"}

    def _robot_verdict(self, key: str, body: dict[str, Any]) -> int:
        keys = self.settings.robot_keys
        if not key or (keys is not None and key not in keys):
            return ROBOT_INVALID_KEY
        if self._rng.random() < self.settings.robot_busy_rate:
            return ROBOT_BUSY
        msgtype = body.get("msgtype")
        part = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in ("text", "markdown") or not isinstance(part, dict):
            return ROBOT_BAD_TYPE
        if not str(part.get("content") or "").strip():
            return ROBOT_EMPTY
        limit = self.settings.robot_per_minute
        if limit > 0:
            recent = self._recent.setdefault(key, deque())
            while recent and time.monotonic() - recent[0] > 60:
                recent.popleft()
            if len(recent) >= limit:
                return ROBOT_RATE_LIMITED
        return ROBOT_OK

    def push(self, request: PushRequest) -> PushResponse:
        draw = self._rng.random()
        if draw < self.settings.push_fail_5xx_rate:
            raise PushError(503, "UNAVAILABLE", "push service temporarily unavailable")
        if draw < self.settings.push_fail_5xx_rate + self.settings.push_fail_429_rate:
            raise PushError(429, "THROTTLED", "push service busy", retry_after_s=1)
        topics = self.settings.app_topics
        if topics is not None and request.topic not in topics:
            raise PushError(400, "UNKNOWN_TOPIC", f"no subscribers' topic {request.topic!r}")
        if not request.body.strip():
            raise PushError(400, "EMPTY_BODY", "nothing to push")
        push_id = f"{self._prefix}{next(self._ids):010d}"
        _, pushes = self._pushes.get(request.message_id, ("", 0))
        self._pushes[request.message_id] = (push_id, pushes + 1)
        self._by_topic[request.topic] += 1
        self._push_count += 1
        return PushResponse(push_id=push_id)

    def push_status(self, message_id: str) -> PushStatus | None:
        found = self._pushes.get(message_id)
        if found is None:
            return None
        return PushStatus(message_id=message_id, push_id=found[0], pushes=found[1])

    def stats(self) -> WebhookStats:
        return WebhookStats(
            robot_posts={k: len(v) for k, v in self.robot_messages.items()},
            robot_refusals=dict(self._refusals),
            pushes=self._push_count,
            distinct_push_messages=len(self._pushes),
            duplicate_pushes=self._push_count - len(self._pushes),
            by_topic=dict(self._by_topic),
        )


_ROBOT_MESSAGES = {
    ROBOT_BUSY: "system busy",
    ROBOT_INVALID_KEY: "invalid webhook url",
    ROBOT_BAD_TYPE: "invalid message type",
    ROBOT_EMPTY: "empty content",
    ROBOT_RATE_LIMITED: "api freq out of limit",
}


def create_app(settings: WebhookSimSettings | None = None) -> FastAPI:
    """Build the simulator (robots and push service in one app)."""
    sim = WebhookSim(settings or WebhookSimSettings())
    app = FastAPI(title="WeChat Work robot and app push simulator", version="1")
    app.state.sim = sim

    @app.exception_handler(PushError)
    async def push_error(_: Request, exc: PushError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
        return JSONResponse(
            {"code": exc.code, "message": exc.message}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"code": "INVALID_REQUEST", "message": problems}, status_code=400)

    @app.post("/cgi-bin/webhook/send")
    async def robot_send(request: Request, key: str = "") -> dict[str, Any]:
        """Post a message into the robot's group (WeChat Work's webhook API)."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return {"errcode": ROBOT_BAD_TYPE, "errmsg": "invalid json"}
        answer = sim.post_to_robot(key, body)
        if sim.settings.latency_s > 0:
            await asyncio.sleep(sim.settings.latency_s)
        return answer

    @app.get("/v1/robots/{key}/messages")
    async def robot_messages(key: str) -> list[RobotMessage]:
        """What the robot's group received, oldest first."""
        return sim.robot_messages.get(key, [])

    @app.post("/v1/push")
    async def push(request: PushRequest) -> PushResponse:
        """Push a notice to a topic's subscribers."""
        response = sim.push(request)
        if sim.settings.latency_s > 0:
            await asyncio.sleep(sim.settings.latency_s)
        return response

    @app.get("/v1/push/{message_id}", responses={404: {"description": "Never pushed."}})
    async def push_status(message_id: str) -> PushStatus:
        """Whether the service has the push of this message."""
        status = sim.push_status(message_id)
        if status is None:
            raise PushError(404, "NOT_FOUND", f"no push for message {message_id!r}")
        return status

    @app.get("/v1/stats")
    async def stats() -> WebhookStats:
        return sim.stats()

    @app.post("/v1/admin/reset")
    async def reset() -> WebhookStats:
        sim.reset()
        return sim.stats()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def get_sim(app: FastAPI) -> WebhookSim:
    sim = app.state.sim
    if not isinstance(sim, WebhookSim):
        raise TypeError("not a webhook simulator app")
    return sim
