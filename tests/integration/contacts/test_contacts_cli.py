"""``python -m services.contacts import DIR``: the same import, from files on disk."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from contacts_harness import CONTACTS_CSV, CUSTOMERS_CSV

from services.contacts.__main__ import main
from services.contacts.config import ContactsSettings


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    directory = tmp_path / "bundle"
    directory.mkdir()
    (directory / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    (directory / "contacts.csv").write_text(CONTACTS_CSV, encoding="utf-8")
    return directory


@pytest.fixture
def configured(
    make_settings: Callable[..., ContactsSettings], db_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(ContactsSettings, db_backend)
    monkeypatch.setenv("CONTACTS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CONTACTS_DATABASE_SCHEMA", settings.resolved_schema())
    monkeypatch.setenv("CONTACTS_KAFKA_BOOTSTRAP", "")


@pytest.mark.usefixtures("configured")
def test_the_cli_imports_a_bundle_once_and_refuses_bad_numbers_in_reject_mode(
    bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = main(["import", str(bundle)])
    refusal = json.loads(capsys.readouterr().err)
    first = main(["import", str(bundle), "--invalid-phones", "flag"])
    created = json.loads(capsys.readouterr().out)
    second = main(["import", str(bundle), "--invalid-phones", "flag"])
    unchanged = json.loads(capsys.readouterr().out)

    assert refused == 1
    assert (refusal["file"], refusal["row"], refusal["field"]) == ("contacts.csv", 7, "phone")
    assert first == second == 0
    assert created["accounts"]["created"] == 7
    assert created["contacts"]["created"] == 9
    assert created["invalid_numbers_flagged"] == 1
    assert unchanged["accounts"] == {"created": 0, "updated": 0, "unchanged": 7}
    assert unchanged["contacts"] == {"created": 0, "updated": 0, "unchanged": 9}
