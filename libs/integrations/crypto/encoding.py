import base64
import binascii


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict, canonical, unpadded base64url.

    A stray character is an error rather than silently dropped, and only the canonical
    spelling decodes, so one ciphertext has exactly one token.
    """
    try:
        raw = text.encode("ascii")
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != text:
        raise ValueError("not canonical unpadded base64url")
    return data
