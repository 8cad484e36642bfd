"""Bearer-token authentication and role checks.

Tokens are JWTs signed with HS256 and a secret from the settings, carrying the user (``sub``)
and their ``roles``. ``admin`` may do anything; ``system`` is for service-to-service callers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import PermissionDenied, Unauthenticated
from shared.timeutil import utcnow


class Role(StrEnum):
    PLANNER = "planner"
    REVIEWER = "reviewer"
    DISPATCHER = "dispatcher"
    FIELD = "field"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class TokenConfig:
    secret: str
    issuer: str
    audience: str
    api_keys: dict[str, Principal] = field(default_factory=dict)

    @staticmethod
    def keyed(entries: list[tuple[str, str, list[str]]]) -> dict[str, Principal]:
        """``[(name, sha256 of key, roles)]`` → lookup by digest."""
        return {
            digest: Principal(sub=name, roles=frozenset(Role(r) for r in roles))
            for name, digest, roles in entries
        }


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint_token(
    config: TokenConfig,
    sub: str,
    roles: list[Role] | list[str],
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = utcnow()
    claims = {
        "sub": sub,
        "roles": [Role(r).value for r in roles],
        "iss": config.issuer,
        "aud": config.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, config.secret, algorithm="HS256")


def decode_token(config: TokenConfig, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            config.secret,
            algorithms=["HS256"],
            issuer=config.issuer,
            audience=config.audience,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    try:
        roles = frozenset(Role(r) for r in claims.get("roles", []))
    except ValueError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    return Principal(sub=str(claims["sub"]), roles=roles)


_bearer = HTTPBearer(auto_error=False, description="JWT from `python -m shared.auth token`")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="Key of a system-to-system caller"
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    config: TokenConfig = request.app.state.token_config
    if credentials is not None:
        return decode_token(config, credentials.credentials)
    if api_key is not None:
        principal = config.api_keys.get(key_digest(api_key))
        if principal is None:
            raise Unauthenticated("unknown API key")
        return principal
    raise Unauthenticated("missing credentials (Authorization: Bearer <token> or X-API-Key)")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through a principal holding any of ``roles`` (or admin)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            wanted = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"role {wanted} required; token has {sorted(principal.roles)}")
        return principal

    return check
