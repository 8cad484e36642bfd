"""Receipts settings from the environment."""

from __future__ import annotations

from services.receipts.config import ReceiptsSettings


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
