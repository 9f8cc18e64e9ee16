import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.crypto import (
    Cipher,
    DecryptionFailed,
    KeyRing,
    MalformedCiphertext,
    Purpose,
    RootKey,
    UnknownKeyId,
    generate_root_key,
    key_id_of,
)
from integrations.crypto.encoding import b64url_decode, b64url_encode

pytestmark = pytest.mark.unit

OLD = RootKey("old", bytes(range(32)))
NEW = RootKey("new", bytes(range(100, 132)))
RECORD_ID = b"cred-123"


def cipher(*keys: RootKey, purpose: Purpose = Purpose.CREDENTIALS) -> Cipher:
    return Cipher(KeyRing(keys).derive(purpose))


def flip(token: str, index: int) -> str:
    version, kid, encoded = token.split(".")
    payload = bytearray(b64url_decode(encoded))
    payload[index] ^= 0x01
    return f"{version}.{kid}.{b64url_encode(bytes(payload))}"


def test_round_trips_bytes_and_text() -> None:
    box = cipher(OLD)

    assert box.decrypt(box.encrypt(b"\x00secret\xff")) == b"\x00secret\xff"
    assert box.decrypt_text(box.encrypt_text("gho_tökén")) == "gho_tökén"


def test_round_trips_with_associated_data() -> None:
    box = cipher(OLD)

    token = box.encrypt(b"secret", associated_data=RECORD_ID)

    assert box.decrypt(token, associated_data=RECORD_ID) == b"secret"


def test_token_is_versioned_names_the_primary_key_and_hides_the_plaintext() -> None:
    token = cipher(NEW, OLD).encrypt(b"plaintext-marker")

    version, kid, payload = token.split(".")
    assert (version, kid) == ("v1", "new")
    assert key_id_of(token) == "new"
    assert len(b64url_decode(payload)) == 12 + len(b"plaintext-marker") + 16
    assert "plaintext" not in token


def test_encrypting_twice_gives_different_tokens() -> None:
    box = cipher(OLD)

    assert box.encrypt(b"same") != box.encrypt(b"same")


def test_old_ciphertext_still_decrypts_after_a_new_primary_is_added() -> None:
    token = cipher(OLD).encrypt(b"secret", associated_data=RECORD_ID)

    rotated = cipher(NEW, OLD)

    assert rotated.decrypt(token, associated_data=RECORD_ID) == b"secret"
    assert rotated.needs_rotation(token)


def test_reencrypt_moves_a_token_to_the_new_primary() -> None:
    token = cipher(OLD).encrypt(b"secret", associated_data=RECORD_ID)
    rotated = cipher(NEW, OLD)

    moved = rotated.reencrypt(token, associated_data=RECORD_ID)

    assert key_id_of(moved) == "new"
    assert not rotated.needs_rotation(moved)
    assert cipher(NEW).decrypt(moved, associated_data=RECORD_ID) == b"secret"


def test_reencrypt_leaves_a_token_under_the_primary_unchanged() -> None:
    box = cipher(NEW, OLD)
    token = box.encrypt(b"secret")

    assert box.reencrypt(token) == token


def test_a_token_of_a_retired_key_is_reported_as_unknown() -> None:
    token = cipher(OLD).encrypt(b"secret")

    with pytest.raises(UnknownKeyId, match="'old'") as caught:
        cipher(NEW).decrypt(token)

    assert caught.value.kid == "old"


def test_the_same_kid_with_another_key_fails_to_decrypt() -> None:
    token = cipher(OLD).encrypt(b"secret")
    impostor = RootKey("old", bytes(range(200, 232)))

    with pytest.raises(DecryptionFailed):
        cipher(impostor).decrypt(token)


def test_a_token_of_one_purpose_does_not_decrypt_as_another() -> None:
    token = cipher(OLD, purpose=Purpose.CREDENTIALS).encrypt(b"secret")

    with pytest.raises(DecryptionFailed):
        cipher(OLD, purpose=Purpose.WEBHOOK_SECRETS).decrypt(token)


def test_a_token_bound_to_one_record_does_not_decrypt_for_another() -> None:
    box = cipher(OLD)
    token = box.encrypt(b"secret", associated_data=b"cred-1")

    with pytest.raises(DecryptionFailed):
        box.decrypt(token, associated_data=b"cred-2")
    with pytest.raises(DecryptionFailed):
        box.decrypt(token)


@pytest.mark.parametrize(
    "index",
    [0, 11, 12, 12 + 3, -16, -1],
    ids=[
        "nonce-first",
        "nonce-last",
        "ciphertext-first",
        "ciphertext-middle",
        "tag-first",
        "tag-last",
    ],
)
def test_a_flipped_byte_anywhere_is_detected(index: int) -> None:
    box = cipher(OLD)
    token = box.encrypt(b"secret-value")

    with pytest.raises(DecryptionFailed, match="could not be authenticated"):
        box.decrypt(flip(token, index))


def test_a_token_relabelled_with_another_known_kid_is_detected() -> None:
    box = cipher(NEW, OLD)
    token = cipher(OLD).encrypt(b"secret")

    with pytest.raises(DecryptionFailed):
        box.decrypt(token.replace("v1.old.", "v1.new.", 1))


def test_a_flipped_character_in_the_kid_is_an_unknown_key() -> None:
    token = cipher(OLD).encrypt(b"secret")

    with pytest.raises(UnknownKeyId):
        cipher(OLD).decrypt(token.replace("v1.old.", "v1.olc.", 1))


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1.old",
        "v2.old.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.o:d.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.old.AAAA",
        "v1.old.not*base64",
        "v1.old.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "v1.old.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x",
    ],
)
def test_a_malformed_token_is_rejected_as_such(token: str) -> None:
    with pytest.raises(MalformedCiphertext):
        cipher(OLD).decrypt(token)


def test_decrypt_text_rejects_a_binary_plaintext() -> None:
    box = cipher(OLD)

    with pytest.raises(DecryptionFailed, match="not text"):
        box.decrypt_text(box.encrypt(b"\xff\xfe"))


def test_a_cipher_from_a_derived_ring_reads_what_the_root_ring_wrote() -> None:
    ring = KeyRing([NEW, OLD])
    writer = Cipher.from_key_ring(ring.export(), Purpose.WEBHOOK_SECRETS)
    reader = Cipher.from_key_ring(
        ring.derive(Purpose.WEBHOOK_SECRETS).export(), Purpose.WEBHOOK_SECRETS
    )

    assert reader.decrypt(writer.encrypt(b"whsec")) == b"whsec"


def test_the_cipher_repr_shows_no_key_material() -> None:
    box = cipher(NEW, OLD)
    text = repr(box)

    assert "'new'" in text
    for key in (NEW, OLD):
        assert b64url_encode(key.material) not in text
        assert key.material.hex() not in text


def test_errors_do_not_contain_the_plaintext() -> None:
    box = cipher(OLD)
    token = box.encrypt(b"plaintext-marker", associated_data=RECORD_ID)

    with pytest.raises(DecryptionFailed) as caught:
        box.decrypt(token)

    assert "plaintext-marker" not in str(caught.value)
    assert "plaintext-marker" not in repr(caught.value)


KEY = generate_root_key()


@given(
    plaintext=st.binary(max_size=4096),
    associated_data=st.binary(max_size=256),
    purpose=st.sampled_from(Purpose),
)
def test_any_plaintext_round_trips(
    plaintext: bytes, associated_data: bytes, purpose: Purpose
) -> None:
    box = cipher(KEY, purpose=purpose)

    token = box.encrypt(plaintext, associated_data=associated_data)

    assert box.decrypt(token, associated_data=associated_data) == plaintext


@given(text=st.text(max_size=512))
def test_any_text_round_trips(text: str) -> None:
    box = cipher(KEY)

    assert box.decrypt_text(box.encrypt_text(text)) == text
