"""Webhook routes.

User (bearer JWT): `POST /api/integrations/webhooks/{webhook_id}/ping` (SPEC RT-8).

Internal (service token, not exposed by the proxy):

- `GET /internal/webhooks/{webhook_id}`: the `WebhookState` ingress reads through on a
  view miss (200), or 404;
- `GET /internal/users/{user_id}/webhooks`: a user's webhooks with their triggers;
- `POST /internal/triggers/{verb}`: the trigger commands of `integrations.trigger-commands.v1`
  without Kafka (scripts, operators, the embedded default), answered with the outcome.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from integrations.auth import CurrentUser
from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    DeactivateNodeTrigger,
    DeactivatePresetTrigger,
    UnlinkGraphTriggers,
    WebhookState,
)
from integrations.credentials.domain.webhooks import ActivationFailed, WebhookNotFound
from integrations.credentials.entrypoints.internal import internal_router
from integrations.credentials.entrypoints.webhook_schemas import (
    ActivationAnswer,
    DeactivationAnswer,
    WebhookSummary,
    activation_answer,
    deactivation_answer,
    summary,
)
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import (
    activate_trigger,
    deactivate_node_trigger,
    deactivate_preset_trigger,
    unlink_graph_triggers,
)
from integrations.credentials.webhook_ping import PingTimedOut, ping_webhook
from integrations.credentials.webhook_upkeep import webhook_state, webhooks_of
from integrations.providers import ProviderError
from integrations.web import ApiError, error_responses
from integrations.web.app import API_PREFIX

_NO_STORE: Final = {"Cache-Control": "no-store"}
_FAILURE_STATUS: Final = {
    "credentials_not_found": 404,
    "provider_not_supported": 400,
    "unsupported_webhook_type": 400,
    "not_configured": 501,
    "provider_error": 502,
    "busy": 503,
}


@asynccontextmanager
async def answers() -> AsyncIterator[None]:
    try:
        yield
    except WebhookNotFound as error:
        raise ApiError(404, str(error)) from None
    except PingTimedOut as error:
        raise ApiError(504, str(error)) from None
    except ProviderError as error:
        raise ApiError(502, str(error), code="provider_error") from None
    except ActivationFailed as failure:
        status = _FAILURE_STATUS.get(failure.error_code, 400)
        headers = {"Retry-After": "5"} if status == 503 else None
        raise ApiError(status, failure.reason, code=failure.error_code, headers=headers) from None


def build_user_router(ctx: WebhookContext) -> APIRouter:
    # 502: the provider refused the ping; 504: no ping arrived in time (RT-8).
    router = APIRouter(
        prefix=f"{API_PREFIX}/webhooks", tags=["webhooks"], responses=error_responses(502, 504)
    )

    @router.post("/{webhook_id}/ping", summary="Ping a webhook and wait for the ping (RT-8)")
    async def ping(webhook_id: str, user: CurrentUser) -> bool:
        async with answers():
            return await ping_webhook(user.user_id, webhook_id, ctx)

    return router


def build_internal_router(ctx: WebhookContext) -> APIRouter:
    router = internal_router("/internal", *sorted(set(_FAILURE_STATUS.values())))

    @router.get(
        "/webhooks/{webhook_id}",
        summary="A webhook's current state (ingress read-through)",
        response_model=WebhookState,
    )
    async def get_webhook(webhook_id: str) -> JSONResponse:
        state = await webhook_state(webhook_id, ctx)
        if state is None:
            raise ApiError(404, str(WebhookNotFound()))
        return JSONResponse(state.model_dump(mode="json"), headers=_NO_STORE)

    @router.get("/users/{user_id}/webhooks", summary="A user's webhooks with their triggers")
    async def list_webhooks(user_id: str) -> list[WebhookSummary]:
        return [summary(state) for state in await webhooks_of(user_id, ctx)]

    @router.post("/triggers/activate-node", summary="ActivateNodeTrigger")
    async def activate_node(command: ActivateNodeTrigger) -> ActivationAnswer:
        async with answers():
            return activation_answer(await activate_trigger(command, ctx), ctx)

    @router.post("/triggers/activate-preset", summary="ActivatePresetTrigger")
    async def activate_preset(command: ActivatePresetTrigger) -> ActivationAnswer:
        async with answers():
            return activation_answer(await activate_trigger(command, ctx), ctx)

    @router.post("/triggers/deactivate-node", summary="DeactivateNodeTrigger")
    async def deactivate_node(command: DeactivateNodeTrigger) -> DeactivationAnswer:
        return deactivation_answer(await deactivate_node_trigger(command, ctx))

    @router.post("/triggers/deactivate-preset", summary="DeactivatePresetTrigger")
    async def deactivate_preset(command: DeactivatePresetTrigger) -> DeactivationAnswer:
        return deactivation_answer(await deactivate_preset_trigger(command, ctx))

    @router.post("/triggers/unlink-graph", summary="UnlinkGraphTriggers")
    async def unlink_graph(command: UnlinkGraphTriggers) -> DeactivationAnswer:
        return deactivation_answer(await unlink_graph_triggers(command, ctx))

    return router
