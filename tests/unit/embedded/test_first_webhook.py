"""The embedded platform end to end: a trigger, a webhook in, an execution request out.

SPEC WH-3 (manual webhook), RT-7 (ingress publishes, the dispatcher triggers the node),
RT-9 (node input mask), as `make run` prints it for a first try.
"""

import asyncio
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.auth import issue_dev_token
from integrations.embedded.app import build_embedded_platform

pytestmark = pytest.mark.unit

USER = "dev-user"


async def test_a_manual_webhook_delivery_becomes_a_dispatched_execution_request(
    tmp_path: Path,
) -> None:
    platform = build_embedded_platform(tmp_path)
    service = {"Authorization": f"Bearer {platform.secrets.service_token}"}
    user = {"Authorization": f"Bearer {issue_dev_token(platform.secrets.jwt_secret, USER)}"}
    async with (
        LifespanManager(platform.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=platform.app), base_url="http://test"
        ) as client,
    ):
        activated = await client.post(
            "/internal/triggers/activate-node",
            headers=service,
            json={
                "user_id": USER,
                "provider": "generic_webhook",
                "webhook_type": "plain",
                "resource": "",
                "events": ["plain"],
                "manual": True,
                "graph_id": "my-graph",
                "graph_version": 1,
                "node_id": "my-trigger",
            },
        )
        assert activated.status_code == 200, activated.text
        webhook_id = activated.json()["webhook_id"]
        ingress_path = httpx.URL(activated.json()["ingress_url"]).path

        delivered = await client.post(ingress_path, json={"hello": "world"})
        assert delivered.status_code == 200, delivered.text

        deliveries: list[dict[str, object]] = []
        for _ in range(100):
            listed = await client.get(
                f"/api/integrations/webhooks/{webhook_id}/deliveries", headers=user
            )
            assert listed.status_code == 200, listed.text
            deliveries = listed.json()["items"]
            if deliveries and deliveries[0]["outcome"] == "dispatched":
                break
            await asyncio.sleep(0.05)
        assert len(deliveries) == 1
        assert deliveries[0]["outcome"] == "dispatched"
        assert deliveries[0]["event_id"] == delivered.json()["event_id"]
        assert len(deliveries[0]["request_ids"]) == 1  # type: ignore[arg-type]

        stranger = {"Authorization": f"Bearer {issue_dev_token(platform.secrets.jwt_secret, 'x')}"}
        hidden = await client.get(
            f"/api/integrations/webhooks/{webhook_id}/deliveries", headers=stranger
        )
        assert hidden.status_code == 404
