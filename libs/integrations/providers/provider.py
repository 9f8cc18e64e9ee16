"""A provider is a declaration: its name plus what it offers, as data (SPEC REG-1).

Code (an `OAuthHandler` or `WebhookManager` class) is attached only by the service that
implements it, at its composition root (`build_registry(oauth_handlers=..., ...)`).
"""

import re
import uuid
from dataclasses import dataclass
from typing import Literal

from integrations.providers.oauth import OAuthConfig, OAuthHandler
from integrations.providers.webhooks import WebhookConfig, WebhookManager

PROVIDER_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""The shape of a provider name: the same as the contracts' `ProviderName`, so every declared
name fits in a message. Whether a name exists is the registry's answer (SPEC REG-5)."""

SYSTEM_CREDENTIALS_NAMESPACE = uuid.UUID("98d2170c-c9e8-4116-8d27-63f70735dfb2")
"""Never change it: system credential ids derive from it and are stored in users' graphs."""

SystemCredentialKind = Literal["api_key", "user_password"]


def system_credential_id(provider: str) -> str:
    """The stable id of a provider's system credential (SPEC CS-2): the same on every replica,
    in every release, without a table of ids to keep."""
    return str(uuid.uuid5(SYSTEM_CREDENTIALS_NAMESPACE, provider))


def constant_name(provider: str) -> str:
    """`open_router` → `OPEN_ROUTER`: the name client code generators give the constant."""
    return provider.upper().replace("-", "_")


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemCredentialSpec:
    """The platform offers its own key for this provider ("use credits", SPEC CS-2).

    An API key comes from the provider's `api_key_env`; a username/password pair from the two
    env vars named here. `always`: offered even when nothing is configured (Ollama needs no
    key, but every credential carries one).
    """

    title: str | None = None  # default: "Use Credits for {provider title}"
    username_env: str | None = None
    password_env: str | None = None
    always: bool = False

    @property
    def kind(self) -> SystemCredentialKind:
        return "user_password" if self.username_env else "api_key"


@dataclass(frozen=True, kw_only=True, slots=True)
class DefaultCredential:
    """A system credential as the registry lists it: where its secret comes from, never the
    secret itself (`system_credentials(env)` reads that)."""

    id: str
    provider: str
    title: str
    kind: SystemCredentialKind
    env_vars: tuple[str, ...]  # api_key: (key,); user_password: (username, password)
    always: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Provider:
    name: str
    title: str
    oauth: OAuthConfig | None = None
    webhooks: WebhookConfig | None = None
    api_key_env: str | None = None  # where the platform's own API key for it is configured
    system_credential: SystemCredentialSpec | None = None
    base_costs: tuple[object, ...] = ()  # opaque to this system: the platform's billing reads it
    oauth_handler: type[OAuthHandler] | None = None
    webhook_manager: type[WebhookManager] | None = None

    def __post_init__(self) -> None:
        if not PROVIDER_NAME_PATTERN.fullmatch(self.name) or len(self.name) > 64:
            raise ValueError(f"invalid provider name {self.name!r}")
        if self.oauth_handler is not None and self.oauth is None:
            raise ValueError(f"{self.name}: an OAuth handler needs an OAuth config")
        if self.webhook_manager is not None and self.webhooks is None:
            raise ValueError(f"{self.name}: a webhook manager needs a webhook config")
        spec = self.system_credential
        if spec is None:
            return
        if spec.kind == "user_password" and not spec.password_env:
            raise ValueError(f"{self.name}: a username/password credential needs both env vars")
        if spec.kind == "api_key" and not (self.api_key_env or spec.always):
            raise ValueError(f"{self.name}: a system API key needs api_key_env")

    @property
    def default_credential(self) -> DefaultCredential | None:
        spec = self.system_credential
        if spec is None:
            return None
        if spec.kind == "user_password":
            env_vars: tuple[str, ...] = (spec.username_env or "", spec.password_env or "")
        else:
            env_vars = (self.api_key_env,) if self.api_key_env else ()
        return DefaultCredential(
            id=system_credential_id(self.name),
            provider=self.name,
            title=spec.title or f"Use Credits for {self.title}",
            kind=spec.kind,
            env_vars=env_vars,
            always=spec.always,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BlockConfiguration:
    """What a platform block class declares about its provider; opaque to this system."""

    provider: str
    costs: tuple[object, ...] = ()
