"""What the credentials verbs are handed: built by bootstrap, or by tests with in-memory
adapters and fakes."""

from dataclasses import dataclass, field
from typing import Protocol

from integrations.bus import Bus
from integrations.credentials.adapters.local_locks import LocalCredentialLocks
from integrations.credentials.adapters.no_refresh import NoRefresh
from integrations.credentials.adapters.no_webhooks import NoWebhookUsage
from integrations.credentials.adapters.token_revoker import NoRevocation
from integrations.credentials.domain.ports import (
    CredentialLocks,
    CredentialsRefresher,
    CredentialsRepository,
    ManagedCredentialsRepository,
    TokenRevoker,
    WebhookUsage,
)
from integrations.credentials.domain.system import SystemCredentials
from integrations.providers import ProviderRegistry


class TransportCipher(Protocol):
    """Opens the token fields of `StoreOAuthCredentials` (the `transport` purpose key)."""

    def decrypt_text(self, token: str, *, associated_data: bytes = b"") -> str: ...


@dataclass(frozen=True, slots=True)
class CredentialsContext:
    repository: CredentialsRepository
    managed: ManagedCredentialsRepository
    bus: Bus
    system: SystemCredentials
    registry: ProviderRegistry
    transport: TransportCipher
    # The seams below have their simple implementation as the default; bootstrap (or a
    # later feature) hands in the real one.
    locks: CredentialLocks = field(default_factory=LocalCredentialLocks)
    refresher: CredentialsRefresher = field(default_factory=NoRefresh)
    webhooks: WebhookUsage = field(default_factory=NoWebhookUsage)
    revoker: TokenRevoker = field(default_factory=NoRevocation)
    # Version races one update may lose before it answers 409 (SPEC CS-10).
    update_attempts: int = 5
