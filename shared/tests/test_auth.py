from __future__ import annotations

import jwt
import pytest

from sop_shared.auth import Role, create_token, decode_token
from sop_shared.problems import Unauthorized
from sop_shared.settings import AuthSettings

SETTINGS = AuthSettings(jwt_secret="a-test-secret-that-is-long-enough-123")


def test_round_trip_keeps_subject_and_roles() -> None:
    caller = decode_token(
        SETTINGS, create_token(SETTINGS, subject="ann", roles=["executive", "viewer"])
    )
    assert caller.subject == "ann"
    assert caller.roles == {Role.executive, Role.viewer}


def test_unknown_roles_are_dropped_not_trusted() -> None:
    token = jwt.encode(
        {"sub": "x", "roles": ["superuser", "viewer"], "iss": SETTINGS.issuer, "exp": 2**31},
        SETTINGS.jwt_secret,
        algorithm="HS256",
    )
    assert decode_token(SETTINGS, token).roles == {Role.viewer}


@pytest.mark.parametrize(
    "token",
    [
        jwt.encode(
            {"sub": "x", "roles": ["admin"], "iss": "sop-platform", "exp": 2**31},
            None,
            algorithm="none",
        ),
        jwt.encode(
            {"sub": "x", "roles": ["admin"], "iss": "sop-platform", "exp": 2**31},
            "other-key-0123456789-0123456789",
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": "x", "roles": ["admin"], "iss": "someone-else", "exp": 2**31},
            SETTINGS.jwt_secret,
            algorithm="HS256",
        ),
        jwt.encode(
            {"sub": "x", "roles": ["admin"], "iss": "sop-platform"},
            SETTINGS.jwt_secret,
            algorithm="HS256",
        ),
        "not-a-jwt",
    ],
    ids=["alg-none", "other-key", "other-issuer", "no-expiry", "garbage"],
)
def test_forged_or_incomplete_tokens_are_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        decode_token(SETTINGS, token)


def test_expired_token_says_so() -> None:
    with pytest.raises(Unauthorized) as caught:
        decode_token(
            SETTINGS, create_token(SETTINGS, subject="x", roles=["viewer"], ttl_seconds=-1)
        )
    assert caught.value.code == "token-expired"
