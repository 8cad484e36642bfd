import subprocess
import sys
from datetime import timedelta

import pytest

from shared.auth import Principal, Role, TokenConfig, decode_token, mint_token
from shared.errors import Unauthenticated

CONFIG = TokenConfig("s" * 40, "outage-notice", "outage-notice")


def test_a_minted_token_decodes_to_its_user_and_roles():
    principal = decode_token(CONFIG, mint_token(CONFIG, "wang", [Role.REVIEWER]))
    assert principal == Principal("wang", frozenset({Role.REVIEWER}))


@pytest.mark.parametrize(
    ("token_config", "ttl", "message"),
    [
        (TokenConfig("x" * 40, "outage-notice", "outage-notice"), timedelta(hours=1), "invalid"),
        (CONFIG, timedelta(seconds=-5), "expired"),
        (TokenConfig("s" * 40, "someone-else", "outage-notice"), timedelta(hours=1), "issuer"),
        (TokenConfig("s" * 40, "outage-notice", "other-app"), timedelta(hours=1), "Audience"),
    ],
)
def test_tokens_with_a_wrong_secret_expiry_issuer_or_audience_are_refused(
    token_config, ttl, message
):
    token = mint_token(token_config, "mallory", [Role.ADMIN], ttl)
    with pytest.raises(Unauthenticated, match=message):
        decode_token(CONFIG, token)


def test_admin_passes_every_role_check_and_others_only_their_own():
    admin = Principal("root", frozenset({Role.ADMIN}))
    planner = Principal("li", frozenset({Role.PLANNER}))
    assert admin.has(Role.REVIEWER)
    assert planner.has(Role.PLANNER, Role.REVIEWER)
    assert not planner.has(Role.REVIEWER)


def test_the_token_command_mints_a_token_for_the_configured_secret(monkeypatch):
    env = {"JWT_SECRET": "k" * 40, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "shared.auth", "token", "--role", "reviewer", "--sub", "wang"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    principal = decode_token(TokenConfig("k" * 40, "outage-notice", "outage-notice"), out)
    assert principal.sub == "wang"
    assert principal.roles == {Role.REVIEWER}
