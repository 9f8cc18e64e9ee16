import pytest

from integrations.crypto import (
    InvalidKeyRing,
    KeyRing,
    Purpose,
    PurposeKeyRing,
    RootKey,
    UnknownKeyId,
    derive_key,
    generate_root_key,
    load_purpose_keys,
)
from integrations.crypto.encoding import b64url_encode

pytestmark = pytest.mark.unit

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
RING = f"a:{b64url_encode(KEY_A)},b:{b64url_encode(KEY_B)}"


def test_parses_a_ring_with_the_first_entry_as_primary() -> None:
    ring = KeyRing.parse(RING)

    assert ring.kids == ("a", "b")
    assert ring.primary.kid == "a"
    assert ring.get("b").material == KEY_B


def test_ignores_whitespace_around_entries() -> None:
    ring = KeyRing.parse(f"  a:{b64url_encode(KEY_A)} ,\n b:{b64url_encode(KEY_B)}\n")

    assert ring.kids == ("a", "b")


def test_export_round_trips() -> None:
    assert KeyRing.parse(RING).export() == RING


def test_generated_keys_are_random_32_bytes_with_distinct_ids() -> None:
    first, second = generate_root_key(), generate_root_key()

    assert len(first.material) == 32
    assert first.material != second.material
    assert first.kid != second.kid
    assert KeyRing([first, second]).kids == (first.kid, second.kid)


def test_with_primary_puts_the_new_key_first_and_keeps_the_old_ones() -> None:
    new = generate_root_key("c")

    ring = KeyRing.parse(RING).with_primary(new)

    assert ring.kids == ("c", "a", "b")
    assert ring.primary.kid == "c"


def test_unknown_kid_is_reported_by_id() -> None:
    with pytest.raises(UnknownKeyId, match="'zz'"):
        KeyRing.parse(RING).get("zz")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"a:{b64url_encode(KEY_A)},", "entry 2 is not of the form"),
        (b64url_encode(KEY_A), "entry 1 is not of the form"),
        (f"a.b:{b64url_encode(KEY_A)}", "entry 1: key id"),
        (f":{b64url_encode(KEY_A)}", "entry 1: key id"),
        ("a:not base64!", "entry 1: key is not unpadded base64url"),
        (f"a:{b64url_encode(KEY_A)}=", "entry 1: key is not unpadded base64url"),
        (f"a:{b64url_encode(KEY_A[:16])}", "entry 1: key must be 32 bytes"),
        (f"a:{b64url_encode(KEY_A)},a:{b64url_encode(KEY_B)}", "same key id"),
        (f"a:{b64url_encode(KEY_A)},b:{b64url_encode(KEY_A)}", "same key"),
        (f"credentials/a:{b64url_encode(KEY_A)}", "derived"),
    ],
)
def test_rejects_a_bad_ring_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidKeyRing, match=message):
        KeyRing.parse(text)


def test_parse_errors_never_echo_the_entry() -> None:
    secret = b64url_encode(KEY_A)

    # A key pasted where the id belongs, and the id where the key belongs.
    with pytest.raises(InvalidKeyRing) as caught:
        KeyRing.parse(f"{secret}:a")

    assert secret not in str(caught.value)


def test_reprs_show_ids_but_no_key_material() -> None:
    ring = KeyRing.parse(RING)
    derived = ring.derive(Purpose.CREDENTIALS)
    texts = [repr(ring), repr(ring.primary), str(ring.primary), repr(derived)]

    for text in texts:
        assert "'a'" in text
        for material in (KEY_A, KEY_B, derived.key("a")):
            assert b64url_encode(material) not in text
            assert repr(material) not in text
            assert material.hex() not in text


def test_derived_keys_differ_by_purpose_and_from_the_root() -> None:
    root = RootKey("a", KEY_A)
    derived = {derive_key(root, purpose) for purpose in Purpose}

    assert len(derived) == len(Purpose)
    assert KEY_A not in derived


def test_a_derived_ring_round_trips_through_its_string_form() -> None:
    derived = KeyRing.parse(RING).derive(Purpose.WEBHOOK_SECRETS)
    text = derived.export()

    parsed = PurposeKeyRing.parse(text)

    assert text.startswith("webhook-secrets/a:")
    assert parsed.purpose is Purpose.WEBHOOK_SECRETS
    assert parsed.kids == ("a", "b")
    assert parsed.key("b") == derived.key("b")


def test_load_accepts_a_root_ring_or_a_derived_ring_of_the_same_purpose() -> None:
    derived = KeyRing.parse(RING).derive(Purpose.TRANSPORT)

    from_root = load_purpose_keys(RING, Purpose.TRANSPORT)
    from_derived = load_purpose_keys(derived.export(), Purpose.TRANSPORT)

    assert from_root.key("a") == from_derived.key("a") == derived.key("a")


def test_load_rejects_a_derived_ring_of_another_purpose() -> None:
    derived = KeyRing.parse(RING).derive(Purpose.WEBHOOK_SECRETS).export()

    with pytest.raises(InvalidKeyRing, match="'webhook-secrets', expected 'credentials'"):
        load_purpose_keys(derived, Purpose.CREDENTIALS)


def test_load_rejects_an_unknown_purpose() -> None:
    with pytest.raises(InvalidKeyRing, match="unknown purpose"):
        PurposeKeyRing.parse(f"everything/a:{b64url_encode(KEY_A)}")


def test_a_root_key_rejects_bad_ids_and_lengths() -> None:
    with pytest.raises(InvalidKeyRing, match="key id"):
        RootKey("a:b", KEY_A)
    with pytest.raises(InvalidKeyRing, match="32 bytes"):
        RootKey("a", KEY_A[:31])


def test_an_empty_ring_is_rejected() -> None:
    with pytest.raises(InvalidKeyRing, match="at least one key"):
        KeyRing([])
