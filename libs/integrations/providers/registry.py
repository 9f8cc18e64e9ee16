"""The provider registry (SPEC REG-1..REG-5): the single source every service reads.

`default_registry()` is built from the catalogue on first use; a service that implements
provider code, and every test, builds its own with `build_registry(...)`.
"""

import threading
import types
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Annotated, TypeVar, cast

from pydantic import AfterValidator

from integrations.providers.errors import ProviderConflict, UnknownProvider
from integrations.providers.oauth import OAuthConfig, OAuthHandler
from integrations.providers.provider import (
    BlockConfiguration,
    DefaultCredential,
    Provider,
    constant_name,
)
from integrations.providers.webhooks import WebhookConfig, WebhookManager

_Code = TypeVar("_Code", bound=OAuthHandler | WebhookManager)


def _bind_to_provider(cls: type[_Code], provider: str) -> type[_Code]:
    """SPEC REG-3. The original assigned the name onto the caller's class, so a class shared
    by two providers took whichever registered last; a bound subclass leaves it untouched."""
    declared = cls.PROVIDER_NAME
    if declared == provider:
        return cls
    if declared is not None:
        raise ProviderConflict(
            f"{cls.__qualname__} declares provider {declared!r} but is registered for {provider!r}"
        )

    def bind(namespace: dict[str, object]) -> None:
        namespace.update(
            PROVIDER_NAME=provider, __module__=cls.__module__, __qualname__=cls.__qualname__
        )

    return cast(type[_Code], types.new_class(cls.__name__, (cls,), exec_body=bind))


class ProviderRegistry:
    """Thread-safe; every lookup returns a copy or an immutable declaration."""

    def __init__(self, providers: Iterable[Provider] = ()) -> None:
        self._lock = threading.Lock()
        self._providers: dict[str, Provider] = {}
        self._constants: dict[str, str] = {}
        self._oauth_handlers: dict[str, type[OAuthHandler]] = {}
        self._webhook_managers: dict[str, type[WebhookManager]] = {}
        self._default_credentials: list[DefaultCredential] = []
        self._block_configurations: dict[type, BlockConfiguration] = {}
        for provider in providers:
            self.register(provider)

    def register(self, provider: Provider) -> None:
        """Idempotent for an identical declaration; a different one under a taken name is a
        `ProviderConflict` (the original silently let the last one win)."""
        with self._lock:
            existing = self._providers.get(provider.name)
            if existing is not None:
                if existing == provider:
                    return
                raise ProviderConflict(
                    f"Provider {provider.name!r} is already registered with a different definition."
                )
            constant = constant_name(provider.name)
            if (clash := self._constants.get(constant)) is not None:
                raise ProviderConflict(
                    f"Provider {provider.name!r} and {clash!r} share the constant {constant}."
                )
            # Bind before storing anything, so a refused handler leaves no half registration.
            handler, manager = provider.oauth_handler, provider.webhook_manager
            bound_handler = _bind_to_provider(handler, provider.name) if handler else None
            bound_manager = _bind_to_provider(manager, provider.name) if manager else None
            self._providers[provider.name] = provider
            self._constants[constant] = provider.name
            if bound_handler is not None:
                self._oauth_handlers[provider.name] = bound_handler
            if bound_manager is not None:
                self._webhook_managers[provider.name] = bound_manager
            if (credential := provider.default_credential) is not None:
                self._default_credentials.append(credential)

    def register_block_configuration(
        self, block_class: type, configuration: BlockConfiguration
    ) -> None:
        with self._lock:
            if configuration.provider not in self._providers:
                raise UnknownProvider(configuration.provider)
            existing = self._block_configurations.get(block_class)
            if existing is not None and existing != configuration:
                raise ProviderConflict(
                    f"Block {block_class.__qualname__} already has a different configuration."
                )
            self._block_configurations[block_class] = configuration

    def clear(self) -> None:
        """SPEC REG-4: forget everything (tests)."""
        with self._lock:
            self._providers.clear()
            self._constants.clear()
            self._oauth_handlers.clear()
            self._webhook_managers.clear()
            self._default_credentials.clear()
            self._block_configurations.clear()

    # Lookups (SPEC REG-2).

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._providers

    def provider(self, name: str) -> Provider | None:
        with self._lock:
            return self._providers.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._providers)

    def validate(self, name: str) -> str:
        """SPEC REG-5: the name itself when registered, else `UnknownProvider`."""
        if name not in self:
            raise UnknownProvider(name)
        return name

    def oauth_config(self, name: str) -> OAuthConfig | None:
        provider = self.provider(name)
        return provider.oauth if provider else None

    def oauth_configs(self) -> dict[str, OAuthConfig]:
        with self._lock:
            return {name: p.oauth for name, p in self._providers.items() if p.oauth}

    def oauth_handler(self, name: str) -> type[OAuthHandler] | None:
        with self._lock:
            return self._oauth_handlers.get(name)

    def oauth_handlers(self) -> dict[str, type[OAuthHandler]]:
        with self._lock:
            return dict(self._oauth_handlers)

    def webhook_config(self, name: str) -> WebhookConfig | None:
        provider = self.provider(name)
        return provider.webhooks if provider else None

    def webhook_manager(self, name: str) -> type[WebhookManager] | None:
        with self._lock:
            return self._webhook_managers.get(name)

    def webhook_managers(self) -> dict[str, type[WebhookManager]]:
        with self._lock:
            return dict(self._webhook_managers)

    def default_credentials(self) -> list[DefaultCredential]:
        with self._lock:
            return list(self._default_credentials)

    def api_key_env_mappings(self) -> dict[str, str]:
        with self._lock:
            return {n: p.api_key_env for n, p in self._providers.items() if p.api_key_env}

    def base_costs(self, name: str) -> tuple[object, ...]:
        provider = self.provider(name)
        if provider is None:
            raise UnknownProvider(name)
        return provider.base_costs

    def block_configuration(self, block_class: type) -> BlockConfiguration | None:
        with self._lock:
            return self._block_configurations.get(block_class)

    def block_configurations(self) -> dict[type, BlockConfiguration]:
        with self._lock:
            return dict(self._block_configurations)


def build_registry(
    providers: Iterable[Provider] | None = None,
    *,
    oauth_handlers: Mapping[str, type[OAuthHandler]] | None = None,
    webhook_managers: Mapping[str, type[WebhookManager]] | None = None,
) -> ProviderRegistry:
    """A fresh registry of `providers` (default: the catalogue), with a service's handler and
    manager classes attached to the declarations of the same name."""
    if providers is None:
        from integrations.providers.catalogue import CATALOGUE

        providers = CATALOGUE
    declared = list(providers)
    oauth_handlers = oauth_handlers or {}
    webhook_managers = webhook_managers or {}
    names = {p.name for p in declared}
    for name in [*oauth_handlers, *webhook_managers]:
        if name not in names:
            raise UnknownProvider(name)
    return ProviderRegistry(
        replace(
            p,
            oauth_handler=oauth_handlers.get(p.name, p.oauth_handler),
            webhook_manager=webhook_managers.get(p.name, p.webhook_manager),
        )
        for p in declared
    )


_default_registry: ProviderRegistry | None = None
_default_registry_lock = threading.Lock()


def default_registry() -> ProviderRegistry:
    """The catalogue's registry, built once on first use (importing this module does no work)."""
    global _default_registry
    if _default_registry is None:
        with _default_registry_lock:
            if _default_registry is None:
                _default_registry = build_registry()
    return _default_registry


def registry_or_default(registry: ProviderRegistry | None) -> ProviderRegistry:
    """For functions whose callers may pass their own registry (tests) or use the default."""
    return default_registry() if registry is None else registry


def validate_provider_name(name: str, registry: ProviderRegistry | None = None) -> str:
    return registry_or_default(registry).validate(name)


def _known_provider_name(name: str) -> str:
    try:
        return validate_provider_name(name)
    except UnknownProvider as error:
        raise ValueError(str(error)) from error  # pydantic reports only ValueErrors as invalid


KnownProviderName = Annotated[str, AfterValidator(_known_provider_name)]
"""A pydantic field type for request bodies: only names of the default registry pass."""
