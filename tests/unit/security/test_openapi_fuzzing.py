"""Schemathesis against every operation of every service's OpenAPI document (SPEC RT-14).

Each service runs alone, as `integrations serve` composes it, in process. Requests go once
with valid credentials (a user JWT or the service token, as the operation declares) and once
with whatever `Authorization` Schemathesis makes up. Whatever the request:

- every status is one the operation documents; no 5xx but a deliberate one: 503 (a
  dependency is down) or one the operation documents for itself (501 not configured, 502
  upstream failure, 504 timeout), never the 500 of an unhandled exception;
- every error is the one documented JSON shape, `{"error": {"code", "message", "details"?}}`;
- with made-up credentials a protected operation answers 401 or 403, and nothing else.

Ingress's read-through knows one webhook per provider, and half of the generated deliveries
go to one of them, so requests get past the lookup into verification and parsing.

Generation is derandomized, so a run is reproducible, and small, so all of it takes seconds.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.transport import Response
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation

from integrations.web.errors import ErrorBody, ErrorDetail
from tests.unit.security.apps import (
    OPENAPI_FOLDER,
    OPERATIONS,
    SERVICE_NAMES,
    WEBHOOK_PROVIDERS,
    DocumentedOperation,
    ServiceApp,
    known_webhook_id,
    service_app,
)

pytestmark = pytest.mark.unit

MAX_EXAMPLES: Final = 10
ERROR_FIELDS: Final = frozenset({"code", "message", "details"})
USER: Final = "fuzz-user"
# The code of the catch-all handler: an exception nobody meant to raise.
UNHANDLED: Final = "internal_error"

Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]
Check = Callable[[AnyCase], None]


PROTECTED: Final = [operation for operation in OPERATIONS if operation.security]


def _id(operation: DocumentedOperation) -> str:
    name, method, path, _ = operation
    return f"{name} {method} {path}"


@contextmanager
def fuzzing(name: str, method: str, path: str) -> Iterator[tuple[ServiceApp, Operation]]:
    """A fresh app for one operation, described by the app's own /openapi.json (which the
    drift test keeps equal to docs/openapi)."""
    app = service_app(name)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app.app)
        yield app, schema[path][method]
    finally:
        # Schemathesis runs the app's lifespan from the first request on, until told to stop.
        asgi.shutdown_lifespans()


@pytest.mark.parametrize("operation", OPERATIONS, ids=_id)
def test_with_valid_credentials_no_request_gets_an_unhandled_500_or_an_error_off_the_shape(
    operation: DocumentedOperation,
) -> None:
    name, method, path, security = operation
    statuses: set[int] = set()
    with fuzzing(name, method, path) as (app, api_operation):
        authorization = _valid_authorization(app, security)

        def check(case: AnyCase) -> None:
            case.headers.pop("Authorization", None)
            if authorization is not None:
                case.headers["Authorization"] = authorization
            response = case.call()
            assert_deliberate(api_operation, response)
            statuses.add(response.status_code)

        _fuzz(api_operation, check)
    # Valid credentials always get past authentication, and deliveries past the lookup.
    assert statuses - {401, 403}
    if _reaches_known_webhooks(path):
        assert statuses - {404}


@pytest.mark.parametrize("operation", PROTECTED, ids=_id)
def test_with_made_up_credentials_a_protected_operation_answers_401_or_403(
    operation: DocumentedOperation,
) -> None:
    name, method, path, _ = operation
    statuses: set[int] = set()
    with fuzzing(name, method, path) as (_, api_operation):

        def check(case: AnyCase) -> None:
            response = case.call()
            assert_deliberate(api_operation, response)
            assert response.status_code in (401, 403), _describe(response)
            statuses.add(response.status_code)

        _fuzz(api_operation, check)
    assert statuses


def _fuzz(operation: Operation, check: Check) -> None:
    cases = st.one_of(
        operation.as_strategy(),
        # Requests the document calls invalid: they must get a 4xx in the shape, too.
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    if _reaches_known_webhooks(operation.path):
        cases = st.one_of(cases, st.tuples(cases, st.sampled_from(WEBHOOK_PROVIDERS)).map(_known))

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: AnyCase) -> None:
        check(case)

    run()


def _reaches_known_webhooks(path: str) -> bool:
    return path.endswith("/webhooks/{webhook_id}/ingress")


def _known(drawn: tuple[AnyCase, str]) -> AnyCase:
    case, provider = drawn
    case.path_parameters["provider"] = provider
    case.path_parameters["webhook_id"] = known_webhook_id(provider)
    return case


def _valid_authorization(app: ServiceApp, security: tuple[str, ...]) -> str | None:
    if "ServiceToken" in security:
        return f"Bearer {app.secrets.service_token}"
    if "UserJWT" in security:
        return f"Bearer {app.user_token(USER)}"
    return None


def assert_deliberate(operation: Operation, response: Response) -> None:
    """Only documented statuses (503 is documented everywhere, other 5xx where the operation
    answers them on purpose), every error in the one shape, and never the catch-all 500 of an
    unhandled exception. SPEC RT-12 keeps a 500 of its own: Ayrshare not configured, code
    `not_configured`."""
    status = response.status_code
    documented = {int(code) for code in operation.definition.raw["responses"] if code.isdigit()}
    # Every status is in the document, so generated clients know what to expect.
    assert status in documented, _describe(response)
    if status < 400:
        return
    error = assert_error_shape(response)
    if status >= 500:
        assert error.code != UNHANDLED, _describe(response)


def assert_error_shape(response: Response) -> ErrorDetail:
    assert response.headers.get("content-type") == ["application/json"], _describe(response)
    body = json.loads(response.content)
    assert isinstance(body, dict), _describe(response)
    assert set(body) == {"error"}, _describe(response)
    assert isinstance(body["error"], dict), _describe(response)
    assert set(body["error"]) <= ERROR_FIELDS, _describe(response)
    error = ErrorBody.model_validate(body).error
    assert error.code, _describe(response)
    assert error.message, _describe(response)
    return error


def _describe(response: Response) -> str:
    request = response.request
    text = response.content[:500].decode("utf-8", "replace")
    return f"{request.method} {request.url} -> {response.status_code} {text}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_discriminated_schema_requires_its_discriminator(service: str) -> None:
    """A client that leaves out the tag gets a 422 however valid its body is otherwise, so
    every variant of a tagged union must list the tag as required."""
    document = json.loads((OPENAPI_FOLDER / f"{service}.json").read_text())
    schemas = document["components"]["schemas"]
    unions = list(_discriminators(document))
    missing = [
        (tag, ref)
        for tag, refs in unions
        for ref in refs
        if tag not in schemas[ref.rsplit("/", 1)[-1]].get("required", [])
    ]
    assert missing == []


def _discriminators(node: object) -> Iterator[tuple[str, list[str]]]:
    if isinstance(node, dict):
        if isinstance(node.get("discriminator"), dict):
            yield (
                node["discriminator"]["propertyName"],
                list(node["discriminator"]["mapping"].values()),
            )
        for child in node.values():
            yield from _discriminators(child)
    elif isinstance(node, list):
        for child in node:
            yield from _discriminators(child)
