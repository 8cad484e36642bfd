"""Webhook simulator: WeChat Work robots answer with errcodes, app pushes are counted."""

from __future__ import annotations

import httpx
import pytest

from tools.webhook_sim import WebhookSimSettings, create_app, get_sim


def client_for(**settings) -> tuple[object, httpx.AsyncClient]:
    app = create_app(WebhookSimSettings(**settings))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hooks")


def markdown(content: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": content}}


async def test_a_robot_posts_to_its_group_and_answers_errcode_0():
    app, client = client_for(robot_keys=["k1"])
    async with client:
        answer = await client.post(
            "/cgi-bin/webhook/send", params={"key": "k1"}, json=markdown("停电")
        )
        assert answer.json() == {"errcode": 0, "errmsg": "ok"}
        [post] = (await client.get("/v1/robots/k1/messages")).json()
    assert post["content"] == "停电"
    assert get_sim(app).stats().robot_posts == {"k1": 1}


@pytest.mark.parametrize(
    ("key", "body", "errcode"),
    [
        ("nope", markdown("停电"), 93000),
        ("k1", {"msgtype": "image", "image": {}}, 40008),
        ("k1", markdown("  "), 44004),
    ],
)
async def test_a_robot_refuses_with_the_real_errcodes(key, body, errcode):
    app, client = client_for(robot_keys=["k1"])
    async with client:
        answer = await client.post("/cgi-bin/webhook/send", params={"key": key}, json=body)
    assert answer.status_code == 200
    assert answer.json()["errcode"] == errcode
    assert get_sim(app).stats().robot_posts == {}


async def test_a_robot_allows_so_many_posts_a_minute():
    app, client = client_for(robot_per_minute=2)
    async with client:
        codes = [
            (
                await client.post("/cgi-bin/webhook/send", params={"key": "k"}, json=markdown("x"))
            ).json()["errcode"]
            for _ in range(3)
        ]
    assert codes == [0, 0, 45009]
    assert get_sim(app).stats().robot_refusals == {"45009": 1}


async def test_app_pushes_are_received_counted_and_can_be_looked_up():
    app, client = client_for(app_topics=["area:T1"])
    async with client:
        push = {"message_id": "m-1", "topic": "area:T1", "title": "停电通知", "body": "3月5日"}
        assert (await client.post("/v1/push", json=push)).status_code == 200
        assert (await client.post("/v1/push", json=push)).status_code == 200
        unknown = await client.post("/v1/push", json=push | {"message_id": "m-2", "topic": "x"})
        assert unknown.status_code == 400
        assert unknown.json()["code"] == "UNKNOWN_TOPIC"
        assert (await client.get("/v1/push/m-1")).json()["pushes"] == 2
        assert (await client.get("/v1/push/m-2")).status_code == 404
    stats = get_sim(app).stats()
    assert (stats.pushes, stats.duplicate_pushes, stats.by_topic) == (2, 1, {"area:T1": 2})


async def test_push_faults_on_demand():
    _, client = client_for(push_fail_429_rate=1.0)
    async with client:
        answer = await client.post(
            "/v1/push", json={"message_id": "m", "topic": "t", "title": "a", "body": "b"}
        )
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
