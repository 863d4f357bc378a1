"""Passkeys with py_webauthn: invites, registration, discoverable sign-in.

Every ceremony has two steps. `*_options` stores a random challenge under a one-time handle
(five minutes); `finish_*` takes the challenge out of the table before verifying, so an answer
can be used once: a replayed or late answer finds nothing and is refused.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

# webauthn (with cryptography's X.509 and pyasn1) is imported inside the functions that use it: it
# is about a tenth of a second of every server start and CLI call, and only passkeys need it.

from sync import audit, db
from sync.db import identity
from sync.access import User
from sync.times import utc_now
from sync.errors import NotFound, Unauthenticated, invalid
from sync.db import Store

from ..config import Config

CHALLENGE_SECONDS = 300
INVITE_PATH = "/signin.html#invite="


def _handle() -> str:
    return secrets.token_urlsafe(24)


# --- invites -----------------------------------------------------------------------------------


def create_invite(st: Store, config: Config, user: str, by: str) -> dict[str, Any]:
    """A one-time link on which `user` registers a passkey; a newer invite replaces older ones."""
    code = secrets.token_urlsafe(24)
    expires = int(time.time() + config.invite_hours * 3600)
    with st.write() as conn:
        if db.user_named(conn, user) is None:
            raise NotFound(f"no active user named {user!r}")
        identity.insert_invite(conn, code, user, by, utc_now(), expires)
        audit.record(conn, by, "user.invite", user, {"expires": expires})
    return {
        "user": user,
        "url": config.public_origin + INVITE_PATH + code,
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
    }


# --- registration ------------------------------------------------------------------------------


def registration_options(st: Store, config: Config, *, invite: str | None, signed_in: User | None) -> dict[str, Any]:
    """Options for a new passkey: for the user an invite names, or for the signed-in user."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    now_s = int(time.time())
    with st.write() as conn:
        if invite is not None:
            name = identity.invite_user(conn, invite, now_s)
            if name is None:
                raise Unauthenticated("this invite link is used, expired or unknown; ask an admin for a new one")
            invite_hash = identity.digest(invite)
        elif signed_in is not None:
            name, invite_hash = signed_in.name, None
        else:
            raise Unauthenticated("open your invite link, or sign in to add another passkey")
        user = db.user_named(conn, name)
        assert user is not None  # invite_user and sign-in both checked the user is active
        options = generate_registration_options(
            rp_id=config.rp_id,
            rp_name="Fieldcards",
            user_name=user.name,
            user_id=identity.webauthn_id(conn, name),
            user_display_name=user.display or user.name,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in identity.credential_ids(conn, name)
            ],
        )
        handle = _handle()
        identity.insert_challenge(
            conn, handle, "register", options.challenge, name, invite_hash, now_s + CHALLENGE_SECONDS, now_s
        )
    return {"handle": handle, "publicKey": json.loads(options_to_json(options)), "user": name}


def finish_registration(st: Store, config: Config, handle: Any, credential: Any, label: Any) -> User:
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url

    if not isinstance(handle, str) or not isinstance(credential, dict):
        raise invalid("credential", "send the handle from the options and the credential as JSON")
    label = label.strip()[:80] if isinstance(label, str) else ""
    now_s = int(time.time())
    with st.write() as conn:
        challenge = identity.take_challenge(conn, handle, "register", now_s)
    if challenge is None:
        raise Unauthenticated("this registration has expired or was used already; start again")
    try:
        verified = verify_registration_response(credential=credential, **_expected(config, challenge))
    except Exception as error:  # py_webauthn raises many types for hostile or broken input: all are 400
        raise invalid("credential", f"the passkey could not be verified: {str(error)[:160]}") from None
    cred_id = bytes_to_base64url(verified.credential_id)
    transports = credential.get("response", {}).get("transports") or []
    with st.write() as conn:
        if challenge["invite"] and not identity.use_invite(conn, challenge["invite"], utc_now(), now_s):
            raise Unauthenticated("this invite link was used or expired meanwhile; ask an admin for a new one")
        if identity.credential(conn, cred_id) is not None:
            raise invalid("credential", "this passkey is registered already")
        identity.insert_credential(
            conn,
            cred_id,
            challenge["user"],
            verified.credential_public_key,
            verified.sign_count,
            [t for t in transports if isinstance(t, str)][:8],
            label or "passkey",
            utc_now(),
        )
        audit.record(
            conn,
            challenge["user"],
            "passkey.add",
            challenge["user"],
            {"credential": cred_id[:16], "label": label, "invite": bool(challenge["invite"])},
        )
        user = db.user_named(conn, challenge["user"])
    if user is None:
        raise Unauthenticated("this user is disabled")
    return user


# --- sign-in -----------------------------------------------------------------------------------


def login_options(st: Store, config: Config) -> dict[str, Any]:
    """Discoverable sign-in: no user name, the authenticator offers the passkeys it holds for us."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    options = generate_authentication_options(rp_id=config.rp_id, user_verification=UserVerificationRequirement.REQUIRED)
    handle, now_s = _handle(), int(time.time())
    with st.write() as conn:
        identity.insert_challenge(conn, handle, "login", options.challenge, None, None, now_s + CHALLENGE_SECONDS, now_s)
    return {"handle": handle, "publicKey": json.loads(options_to_json(options))}


class SignInFailed(Unauthenticated):
    """A failed passkey sign-in (counted by the rate limit and written to the audit log)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def finish_login(st: Store, config: Config, handle: Any, credential: Any) -> tuple[User, str]:
    """The user a passkey answer proves; returns it with the credential id."""
    from webauthn import verify_authentication_response

    if not isinstance(handle, str) or not isinstance(credential, dict):
        raise invalid("credential", "send the handle from the options and the credential as JSON")
    now_s = int(time.time())
    with st.write() as conn:
        challenge = identity.take_challenge(conn, handle, "login", now_s)
    if challenge is None:
        raise SignInFailed("this sign-in has expired or was used already; try again", "challenge")
    cred_id = credential.get("rawId") or credential.get("id")
    with st.read() as conn:
        stored = identity.credential(conn, cred_id) if isinstance(cred_id, str) and len(cred_id) < 1400 else None
        expected_handle = identity.known_webauthn_id(conn, stored["user"]) if stored else None
    if stored is None:
        raise SignInFailed("this passkey is not registered here (it may have been removed)", "unknown passkey")
    if stored["disabled"]:
        raise SignInFailed("this user is disabled", "disabled user")
    user_handle = credential.get("response", {}).get("userHandle")
    if user_handle and (not isinstance(user_handle, str) or _bytes_or_none(user_handle) != expected_handle):
        raise SignInFailed("this passkey belongs to another account", "user handle")
    try:
        verified = verify_authentication_response(
            credential=credential,
            credential_public_key=stored["public_key"],
            credential_current_sign_count=stored["sign_count"],
            **_expected(config, challenge),
        )
    except Exception as error:  # every verification failure is a refused sign-in, never a 500
        raise SignInFailed("the passkey could not be verified", str(error)[:160]) from None
    with st.write() as conn:
        identity.touch_credential(conn, stored["id"], verified.new_sign_count, utc_now())
        user = db.user_named(conn, stored["user"])
    if user is None:
        raise SignInFailed("this user is disabled", "disabled user")
    return user, stored["id"]


def _expected(config: Config, challenge: dict[str, Any]) -> dict[str, Any]:
    """What a registration and a sign-in are both verified against: our challenge, our relying
    party and origin, and the person's own verification (PIN or biometrics) on the device."""
    return {
        "expected_challenge": challenge["challenge"],
        "expected_rp_id": config.rp_id,
        "expected_origin": config.public_origin,
        "require_user_verification": True,
    }


def _bytes_or_none(text: str) -> bytes | None:
    from webauthn.helpers import base64url_to_bytes

    try:
        return base64url_to_bytes(text)
    except ValueError:
        return None
