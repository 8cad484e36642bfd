"""``python -m services.topology import DIR``: the same import from the command line."""

from __future__ import annotations

from topology_harness import BUNDLE, DEVICES

from services.topology.__main__ import import_directory


def write_bundle(directory, **overrides):
    directory.mkdir(exist_ok=True)
    for name, content in {**BUNDLE, **overrides}.items():
        (directory / f"{name}.csv").write_text(content, encoding="utf-8")
    return directory


async def test_a_running_service_picks_up_a_model_imported_from_the_command_line(
    topology, topology_settings, tmp_path, capsys
):
    status = await import_directory(write_bundle(tmp_path / "bundle"), topology_settings)

    assert status == 0
    assert "已导入网络模型版本 1：节点 8，设备 7，用户 5" in capsys.readouterr().out
    summary = await topology.client.get("/v1/network/summary", headers=topology.auth("planner"))
    assert (summary.json()["model_version"], summary.json()["customers"]) == (1, 5)
    trace = await topology.client.post(
        "/v1/trace",
        json={"operations": [{"device_id": "SW1", "action": "open"}]},
        headers=topology.auth("planner"),
    )
    assert len(trace.json()["affected_accounts"]) == 3


async def test_a_broken_bundle_exits_non_zero_naming_the_file_and_row(
    topology_settings, tmp_path, capsys
):
    broken = write_bundle(
        tmp_path / "bundle", devices=DEVICES.replace(",closed,1号配变", ",shut,1号配变")
    )

    status = await import_directory(broken, topology_settings)

    assert status == 1
    assert "devices.csv 第 5 行 normal_state" in capsys.readouterr().err


async def test_a_directory_without_the_bundle_exits_non_zero(topology_settings, tmp_path, capsys):
    status = await import_directory(tmp_path, topology_settings)

    assert status == 2
    assert "nodes.csv" in capsys.readouterr().err
