"""Receipts settings from the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.receipts.config import ReceiptsSettings
from services.receipts.domain.ledger import OutageTiming


def test_webhook_secrets_come_from_json_in_the_environment_and_stay_out_of_logs(monkeypatch):
    monkeypatch.setenv("RECEIPTS_WEBHOOK_SECRETS", '["new-secret", "old-secret"]')
    monkeypatch.setenv("RECEIPTS_WEBHOOK_TOLERANCE_S", "120")

    settings = ReceiptsSettings()

    assert settings.webhook_secret_values() == ["new-secret", "old-secret"]
    assert settings.webhook_tolerance_s == 120
    assert settings.port == 8004
    assert "webhook_secrets" not in settings.public_dict()
    assert "new-secret" not in repr(settings)


def test_the_default_secret_is_the_carrier_simulators(monkeypatch):
    monkeypatch.delenv("RECEIPTS_WEBHOOK_SECRETS", raising=False)
    monkeypatch.delenv("WEBHOOK_SECRETS", raising=False)

    assert ReceiptsSettings().webhook_secret_values() == ["dev-carrier-secret"]


def test_deadlines_and_windows_come_from_json_tables_and_default_the_rest(monkeypatch):
    monkeypatch.setenv("RECEIPTS_DEADLINE_H", '{"temporary": 4}')
    monkeypatch.setenv("RECEIPTS_CONFIRM_WINDOW_MIN", '{"sms": 30}')
    start = datetime(2026, 5, 3, tzinfo=UTC)

    settings = ReceiptsSettings()
    policy = settings.escalation_policy()

    assert policy.deadline(OutageTiming("temporary", start, start)) == start - timedelta(hours=4)
    assert policy.deadline(OutageTiming("planned", start, start)) == start - timedelta(hours=24)
    assert policy.window(["sms"]) == timedelta(minutes=30)
    assert policy.window(["voice"]) == timedelta(minutes=120)
    assert settings.required_leads()["planned"] == timedelta(days=7)


def test_an_unknown_outage_kind_in_the_deadlines_is_refused(monkeypatch):
    monkeypatch.setenv("RECEIPTS_DEADLINE_H", '{"plannned": 4}')

    with pytest.raises(ValidationError, match="plannned"):
        ReceiptsSettings()
