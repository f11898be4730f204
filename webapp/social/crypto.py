"""Platform tokens at rest: encrypted with Fernet keys from TOKEN_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key is put first, `flask social rotate-keys`
re-encrypts every token with it, and the old key can then be dropped.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class TokenKeyError(RuntimeError):
    """TOKEN_ENCRYPTION_KEYS is missing, malformed, or cannot read a stored token."""


def build_cipher(keys):
    """A MultiFernet of the keys (urlsafe base64 of 32 bytes each, as Fernet.generate_key() makes)."""
    if not keys:
        raise TokenKeyError("TOKEN_ENCRYPTION_KEYS is not set: connected accounts need it.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        raise TokenKeyError("TOKEN_ENCRYPTION_KEYS must be Fernet keys (Fernet.generate_key()), comma-separated.") from None


def _cipher():
    return build_cipher(current_app.config.get("TOKEN_ENCRYPTION_KEYS"))


def encrypt(secret):
    return None if secret is None else _cipher().encrypt(secret.encode()).decode()


def decrypt(token):
    if token is None:
        return None
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise TokenKeyError("A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS (a key was dropped "
                            "before `flask social rotate-keys` ran?).") from None


def rotate(token):
    """The token encrypted with the first key (unchanged plaintext)."""
    if token is None:
        return None
    try:
        return _cipher().rotate(token.encode()).decode()
    except InvalidToken:
        raise TokenKeyError("A stored token cannot be decrypted with TOKEN_ENCRYPTION_KEYS: keep the old key "
                            "in the list (after the new one) until rotate-keys has run.") from None
