"""Importing the network bundle over HTTP: all or nothing, with the bad row named."""

from __future__ import annotations

import httpx
from topology_harness import BUNDLE, CUSTOMERS, DEVICES

from tools.network_gen import NetworkSpec, generate


async def test_a_generated_district_imports_and_every_customer_is_supplied(topology, tmp_path):
    spec = NetworkSpec(customers=400, substations=2, feeders=4, lv_per_transformer=(6, 30))
    stats = generate(tmp_path, spec)
    bundle = {name: (tmp_path / f"{name}.csv").read_bytes() for name in BUNDLE}

    imported = await topology.import_bundle(bundle)

    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "model_version": 1,
        "nodes": stats.nodes,
        "devices": stats.devices,
        "customers": 400,
    }
    summary = await topology.client.get("/v1/network/summary", headers=topology.auth("field"))
    body = summary.json()
    assert body["model_version"] == 1
    assert body["imported_by"] == "admin"
    assert body["normally_open_devices"] == stats.ties
    assert body["unsupplied_customers"] == 0
    assert len(body["feeders"]) == 4
    assert sum(feeder["customers"] for feeder in body["feeders"]) == 400


async def test_a_broken_row_is_named_and_the_previous_model_stays(topology):
    assert (await topology.import_bundle()).status_code == 200
    broken = DEVICES.replace("L2,line,N2,N3,closed", "L2,line,N2,N9,closed")
    bad_voltage = CUSTOMERS.replace("C1,刘洋,TC,0.22", "C1,刘洋,TC,二百二十")

    response = await topology.import_bundle(
        {**BUNDLE, "devices": broken, "customers": bad_voltage + "X1,新用户,TA,0.22,residential\n"}
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["file"], body["row"], body["field"]) == (
        "invalid_input",
        "devices.csv",
        4,
        "to_node",
    )
    assert "N9" in body["detail"]
    assert body["errors"] == [
        {
            "file": "devices.csv",
            "row": 4,
            "field": "to_node",
            "message": "节点“N9”不在 nodes.csv 中",
        },
        {
            "file": "customers.csv",
            "row": 6,
            "field": "voltage_kv",
            "message": "“二百二十”不是有效的数值",
        },
    ]
    summary = await topology.client.get("/v1/network/summary", headers=topology.auth("planner"))
    assert summary.json()["model_version"] == 1
    assert summary.json()["customers"] == 5


async def test_a_new_bundle_replaces_the_whole_model_under_the_next_version(topology):
    await topology.import_bundle()
    smaller = {
        "nodes": "node_id,kind,name\nS9,source,新线\nT9,transformer_lv,新台区\n",
        "devices": (
            "device_id,kind,from_node,to_node,normal_state,name\nX9,transformer,S9,T9,closed,\n"
        ),
        "customers": "account_id,name,node_id,voltage_kv,category\nZ1,赵六,T9,0.22,residential\n",
    }

    response = await topology.import_bundle(smaller)

    assert response.json() == {"model_version": 2, "nodes": 2, "devices": 1, "customers": 1}
    trace = await topology.client.post(
        "/v1/trace",
        json={"operations": [{"device_id": "X9", "action": "open"}]},
        headers=topology.auth("reviewer"),
    )
    assert [a["account_id"] for a in trace.json()["affected_accounts"]] == ["Z1"]
    gone = await topology.client.post(
        "/v1/trace",
        json={"operations": [{"device_id": "SW1", "action": "open"}]},
        headers=topology.auth("reviewer"),
    )
    assert gone.status_code == 422


async def test_a_missing_file_is_named(topology):
    response = await topology.import_bundle({"nodes": BUNDLE["nodes"], "devices": DEVICES})

    assert response.status_code == 422
    assert (response.json()["field"], response.json()["file"]) == ("customers", "customers.csv")


async def test_only_an_admin_may_import(topology):
    files = {name: (f"{name}.csv", content, "text/csv") for name, content in BUNDLE.items()}

    anonymous = await topology.client.post("/v1/network/import", files=files)
    planner = await topology.client.post(
        "/v1/network/import", files=files, headers=topology.auth("planner")
    )

    assert anonymous.status_code == 401
    assert planner.status_code == 403


def multipart(files):
    request = httpx.Request("POST", "http://topology/", files=files)
    return request.headers["content-type"], request.read()


async def test_an_upload_that_is_not_a_whole_form_is_refused_naming_the_body_or_the_file(
    topology,
):
    admin = topology.auth("admin", sub="admin")
    files = {
        name: (f"{name}.csv", content.encode(), "text/csv") for name, content in BUNDLE.items()
    }
    content_type, body = multipart(files)
    twice_type, twice_body = multipart(
        [(name, value) for name, value in files.items()] + [("nodes", files["nodes"])]
    )

    as_json = await topology.client.post("/v1/network/import", json=BUNDLE, headers=admin)
    garbage = await topology.client.post(
        "/v1/network/import", content=b"not a form", headers={**admin, "content-type": content_type}
    )
    cut_short = await topology.client.post(
        "/v1/network/import",
        content=body[: body.rindex(b"customers.csv") + 40],
        headers={**admin, "content-type": content_type},
    )
    sent_twice = await topology.client.post(
        "/v1/network/import", content=twice_body, headers={**admin, "content-type": twice_type}
    )

    assert (as_json.status_code, as_json.json()["field"]) == (422, "body")
    assert (garbage.status_code, garbage.json()["field"]) == (422, "body")
    assert (cut_short.status_code, cut_short.json()["field"]) == (422, "customers")
    assert (sent_twice.status_code, sent_twice.json()["field"]) == (422, "body")
    assert "nodes" in sent_twice.json()["detail"]
    summary = await topology.client.get("/v1/network/summary", headers=admin)
    assert summary.json()["model_version"] == 0
