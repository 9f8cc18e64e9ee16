import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from integrations.providers import (
    BlockConfiguration,
    KnownProviderName,
    OAuthConfig,
    OAuthHandler,
    OAuthTokens,
    Provider,
    ProviderAuth,
    ProviderConflict,
    ProviderRegistry,
    SystemCredentialSpec,
    UnknownProvider,
    WebhookConfig,
    WebhookManager,
    WebhookRef,
    WebhookRegistration,
    build_registry,
    default_registry,
    validate_provider_name,
)
from integrations.providers.catalogue import CATALOGUE

pytestmark = pytest.mark.unit

OAUTH = OAuthConfig(
    authorize_url="https://example.test/authorize",
    token_url="https://example.test/token",
    client_id_env="EXAMPLE_CLIENT_ID",
    client_secret_env="EXAMPLE_CLIENT_SECRET",
)
HOOKS = WebhookConfig(mode="manual", signature_scheme="none")


class AnonymousHandler(OAuthHandler):
    """Declares no provider name: the registry binds one (SPEC REG-3)."""

    def authorize_url(
        self, *, scopes: Sequence[str], state: str, code_challenge: str | None
    ) -> str:
        return f"{self.config.authorize_url}?state={state}"

    async def exchange_code(
        self, *, code: str, scopes: Sequence[str], code_verifier: str | None
    ) -> OAuthTokens:
        return OAuthTokens(access_token=SecretStr(code))

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        return tokens

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        return None


class NamedHandler(AnonymousHandler):
    PROVIDER_NAME = "example"


class AnonymousManager(WebhookManager):
    async def validate_payload(
        self, webhook: WebhookRef, headers: Mapping[str, str], body: bytes
    ) -> tuple[dict[str, Any], str]:
        return {}, "plain"

    async def register(
        self,
        *,
        auth: ProviderAuth | None,
        webhook_type: str,
        resource: str,
        events: Sequence[str],
        ingress_url: str,
        secret: SecretStr,
    ) -> WebhookRegistration:
        return WebhookRegistration()

    async def deregister(self, webhook: WebhookRef, auth: ProviderAuth | None) -> None:
        return None


def example(name: str = "example", **fields: Any) -> Provider:
    return Provider(name=name, title=fields.pop("title", "Example"), **fields)


def test_registering_an_identical_provider_twice_is_a_no_op() -> None:
    """SPEC REG-1: registration is idempotent."""
    registry = ProviderRegistry()
    registry.register(example(api_key_env="EXAMPLE_KEY", system_credential=SystemCredentialSpec()))
    registry.register(example(api_key_env="EXAMPLE_KEY", system_credential=SystemCredentialSpec()))

    assert registry.names() == ["example"]
    assert len(registry.default_credentials()) == 1


def test_registering_a_different_definition_under_a_taken_name_is_refused() -> None:
    """SPEC REG-1: the original let the last definition win silently; here it is an error."""
    registry = ProviderRegistry([example(title="Example")])

    with pytest.raises(ProviderConflict, match="'example' is already registered"):
        registry.register(example(title="Another example"))

    provider = registry.provider("example")
    assert provider is not None
    assert provider.title == "Example"


def test_names_that_make_the_same_client_constant_are_refused() -> None:
    """SPEC RT-13: every name must have its own constant for generated clients."""
    registry = ProviderRegistry([example("my-service")])

    with pytest.raises(ProviderConflict, match="MY_SERVICE"):
        registry.register(example("my_service"))


def test_many_threads_registering_at_once_lose_nothing_and_duplicate_nothing() -> None:
    """SPEC REG-1: registration is thread-safe."""
    registry = ProviderRegistry()
    shared = example("shared", api_key_env="SHARED_KEY", system_credential=SystemCredentialSpec())
    threads_count = 32
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def register(index: int) -> None:
        barrier.wait()
        try:
            for round_ in range(20):
                registry.register(example(f"p{index}-{round_}", api_key_env=f"KEY_{index}"))
                registry.register(shared)
        except BaseException as error:  # any error fails the test below
            errors.append(error)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(registry.names()) == threads_count * 20 + 1
    assert [c.provider for c in registry.default_credentials()] == ["shared"]


def test_of_concurrent_conflicting_definitions_exactly_one_wins() -> None:
    """SPEC REG-1: the check and the insert are one atomic step."""
    registry = ProviderRegistry()
    threads_count = 16
    barrier = threading.Barrier(threads_count)
    conflicts: list[ProviderConflict] = []

    def register(index: int) -> None:
        barrier.wait()
        try:
            registry.register(example(title=f"Example {index}"))
        except ProviderConflict as conflict:
            conflicts.append(conflict)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(conflicts) == threads_count - 1
    assert registry.names() == ["example"]


def test_a_handler_and_a_manager_without_a_provider_name_get_the_registering_providers() -> None:
    """SPEC REG-3."""
    registry = ProviderRegistry(
        [
            example(oauth=OAUTH, oauth_handler=AnonymousHandler),
            example(
                "other",
                oauth=OAUTH,
                webhooks=HOOKS,
                oauth_handler=AnonymousHandler,
                webhook_manager=AnonymousManager,
            ),
        ]
    )

    handler = registry.oauth_handler("example")
    other_handler = registry.oauth_handler("other")
    manager = registry.webhook_manager("other")
    assert handler is not None
    assert other_handler is not None
    assert manager is not None
    assert handler.PROVIDER_NAME == "example"
    assert other_handler.PROVIDER_NAME == "other"
    assert manager.PROVIDER_NAME == "other"
    assert issubclass(handler, AnonymousHandler)
    # The caller's class is left as declared, so one class can serve two providers.
    assert AnonymousHandler.PROVIDER_NAME is None
    assert AnonymousManager.PROVIDER_NAME is None


def test_a_handler_declaring_its_provider_name_is_used_as_it_is() -> None:
    """SPEC REG-3: a declared name is kept."""
    registry = ProviderRegistry([example(oauth=OAUTH, oauth_handler=NamedHandler)])

    assert registry.oauth_handler("example") is NamedHandler


def test_a_handler_declaring_another_providers_name_is_refused_and_nothing_is_registered() -> None:
    """SPEC REG-3."""
    registry = ProviderRegistry()

    with pytest.raises(ProviderConflict, match="declares provider 'example'"):
        registry.register(example("other", oauth=OAUTH, oauth_handler=NamedHandler))

    assert registry.names() == []
    assert registry.oauth_handlers() == {}


async def test_a_bound_handler_reports_its_provider() -> None:
    """SPEC REG-3: instances of the bound class know their provider."""
    registry = ProviderRegistry([example(oauth=OAUTH, oauth_handler=AnonymousHandler)])
    handler_class = registry.oauth_handler("example")
    assert handler_class is not None
    no_network = httpx.MockTransport(lambda request: httpx.Response(599))
    async with httpx.AsyncClient(transport=no_network) as http:
        handler = handler_class(
            config=OAUTH,
            client=OAUTH.client_from_env(
                "example",
                {"EXAMPLE_CLIENT_ID": "id", "EXAMPLE_CLIENT_SECRET": "secret"},
                redirect_uri="https://platform.test/auth/integrations/oauth_callback",
            ),
            http=http,
        )
        assert handler.provider == "example"


def test_lookups_answer_from_the_registered_declarations() -> None:
    """SPEC REG-2: provider, names, OAuth config/handlers, webhook managers, API-key env
    mappings, base costs."""
    registry = ProviderRegistry(
        [
            example(
                "zeta",
                oauth=OAUTH,
                webhooks=HOOKS,
                oauth_handler=AnonymousHandler,
                webhook_manager=AnonymousManager,
                api_key_env="ZETA_KEY",
                base_costs=({"amount": 2, "type": "run"},),
            ),
            example("alpha"),
        ]
    )

    assert registry.names() == ["alpha", "zeta"]
    assert registry.provider("missing") is None
    zeta = registry.provider("zeta")
    assert zeta is not None
    assert zeta.title == "Example"
    assert registry.oauth_config("zeta") is OAUTH
    assert registry.oauth_config("alpha") is None
    assert registry.oauth_config("missing") is None
    assert registry.oauth_configs() == {"zeta": OAUTH}
    assert set(registry.oauth_handlers()) == {"zeta"}
    assert registry.oauth_handler("alpha") is None
    assert registry.webhook_config("zeta") is HOOKS
    assert set(registry.webhook_managers()) == {"zeta"}
    assert registry.webhook_manager("alpha") is None
    assert registry.api_key_env_mappings() == {"zeta": "ZETA_KEY"}
    assert registry.base_costs("zeta") == ({"amount": 2, "type": "run"},)
    assert registry.base_costs("alpha") == ()
    with pytest.raises(UnknownProvider):
        registry.base_costs("missing")


def test_lookups_of_collections_return_copies() -> None:
    """SPEC REG-2: callers cannot change the registry through what it returned."""
    registry = ProviderRegistry([example(oauth=OAUTH, oauth_handler=AnonymousHandler)])

    registry.oauth_handlers().clear()
    registry.oauth_configs().clear()
    registry.names().clear()

    assert registry.oauth_handler("example") is not None
    assert registry.oauth_config("example") is OAUTH
    assert registry.names() == ["example"]


def test_default_credentials_are_a_copy() -> None:
    """SPEC REG-2: "all default credentials (a copy)"."""
    registry = ProviderRegistry(
        [example(api_key_env="EXAMPLE_KEY", system_credential=SystemCredentialSpec())]
    )

    listed = registry.default_credentials()
    listed.clear()

    assert [c.provider for c in registry.default_credentials()] == ["example"]


def test_block_configurations_are_looked_up_by_block_class() -> None:
    """SPEC REG-2."""

    class SomeBlock:
        pass

    class OtherBlock:
        pass

    registry = ProviderRegistry([example()])
    configuration = BlockConfiguration(provider="example", costs=({"amount": 1},))
    registry.register_block_configuration(SomeBlock, configuration)
    registry.register_block_configuration(SomeBlock, configuration)

    assert registry.block_configuration(SomeBlock) == configuration
    assert registry.block_configuration(OtherBlock) is None
    assert registry.block_configurations() == {SomeBlock: configuration}
    with pytest.raises(ProviderConflict):
        registry.register_block_configuration(SomeBlock, BlockConfiguration(provider="example"))
    with pytest.raises(UnknownProvider):
        registry.register_block_configuration(OtherBlock, BlockConfiguration(provider="nope"))


def test_clear_forgets_everything() -> None:
    """SPEC REG-4."""

    class SomeBlock:
        pass

    registry = ProviderRegistry(
        [
            example(
                oauth=OAUTH,
                webhooks=HOOKS,
                oauth_handler=AnonymousHandler,
                webhook_manager=AnonymousManager,
                api_key_env="EXAMPLE_KEY",
                system_credential=SystemCredentialSpec(),
            )
        ]
    )
    registry.register_block_configuration(SomeBlock, BlockConfiguration(provider="example"))

    registry.clear()

    assert registry.names() == []
    assert registry.provider("example") is None
    assert registry.oauth_handlers() == {}
    assert registry.oauth_configs() == {}
    assert registry.webhook_managers() == {}
    assert registry.default_credentials() == []
    assert registry.api_key_env_mappings() == {}
    assert registry.block_configurations() == {}
    registry.register(example(title="Registered again after clear"))
    assert registry.names() == ["example"]


def test_provider_names_are_validated_against_the_registry_not_an_enum() -> None:
    """SPEC REG-5: adding a provider is adding an entry; unknown names are refused."""
    registry = ProviderRegistry([example("brand_new_provider")])

    assert validate_provider_name("brand_new_provider", registry) == "brand_new_provider"
    assert "brand_new_provider" in registry
    with pytest.raises(UnknownProvider, match="'github'") as raised:
        validate_provider_name("github", registry)
    assert raised.value.name == "github"
    assert isinstance(raised.value, LookupError)


def test_the_default_registry_knows_the_catalogue() -> None:
    """SPEC REG-5: the default registry is the single source, built from the catalogue."""
    assert default_registry() is default_registry()
    assert default_registry().names() == sorted(p.name for p in CATALOGUE)
    assert validate_provider_name("github") == "github"
    with pytest.raises(UnknownProvider):
        validate_provider_name("not-a-provider")


def test_request_models_can_require_a_known_provider_name() -> None:
    """SPEC REG-5."""

    class Body(BaseModel):
        provider: KnownProviderName

    assert Body(provider="openai").provider == "openai"
    with pytest.raises(ValidationError, match="Unknown provider"):
        Body(provider="openai2")


def test_importing_the_package_builds_no_registry() -> None:
    """The default registry is built on first use, not at import time."""
    code = (
        "import integrations.providers, integrations.providers.registry as r;"
        "assert r._default_registry is None;"
        "r.default_registry();"
        "assert r._default_registry is not None"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_service_attaches_its_classes_to_the_catalogue_declarations() -> None:
    """SPEC REG-1: code is attached at a service's composition root."""
    registry = build_registry(
        oauth_handlers={"github": AnonymousHandler}, webhook_managers={"github": AnonymousManager}
    )

    handler = registry.oauth_handler("github")
    manager = registry.webhook_manager("github")
    assert handler is not None
    assert handler.PROVIDER_NAME == "github"
    assert manager is not None
    assert manager.PROVIDER_NAME == "github"
    assert registry.oauth_handler("google") is None
    assert default_registry().oauth_handler("github") is None
    with pytest.raises(UnknownProvider):
        build_registry(oauth_handlers={"nope": AnonymousHandler})


def test_code_cannot_be_attached_without_its_declaration() -> None:
    """SPEC REG-1: a handler needs the OAuth config, a manager the webhook config."""
    with pytest.raises(ValueError, match="OAuth config"):
        example(oauth_handler=AnonymousHandler)
    with pytest.raises(ValueError, match="webhook config"):
        example(webhook_manager=AnonymousManager)
    with pytest.raises(ValueError, match="invalid provider name"):
        example("Not A Name")
