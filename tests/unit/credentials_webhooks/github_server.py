"""A local GitHub for integration tests: the repository hooks API as a FastAPI app, served by
uvicorn on loopback. Like GitHub, a ping request is answered 204 and then delivered: a
signed `ping` POSTed to the hook's URL (our ingress)."""

import asyncio
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse


@dataclass
class GitHubState:
    token: str
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # Every config GitHub was sent (secrets included): what a leak scan looks for.
    received_configs: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[httpx.Response] = field(default_factory=list)
    next_id: int = 5000
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def github_app(state: GitHubState) -> FastAPI:
    app = FastAPI()

    def authorized(request: Request) -> bool:
        state.calls.append((request.method, request.url.path))
        return request.headers.get("authorization") == f"Bearer {state.token}"

    @app.post("/repos/{owner}/{repo}/hooks")
    async def create(owner: str, repo: str, request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        body = await request.json()
        state.received_configs.append(dict(body["config"]))
        state.next_id += 1
        hook_id = str(state.next_id)
        state.hooks[hook_id] = {**body, "repo": f"{owner}/{repo}"}
        config = {**body["config"], "secret": "********"}
        return JSONResponse({"id": state.next_id, "config": config, "active": True}, 201)

    @app.delete("/repos/{owner}/{repo}/hooks/{hook_id}")
    async def delete(owner: str, repo: str, hook_id: str, request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        if state.hooks.pop(hook_id, None) is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return Response(status_code=204)

    @app.post("/repos/{owner}/{repo}/hooks/{hook_id}/pings")
    async def ping(owner: str, repo: str, hook_id: str, request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        hook = state.hooks.get(hook_id)
        if hook is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        task = asyncio.create_task(_deliver_ping(state, hook_id, hook))
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
        return Response(status_code=204)

    return app


async def _deliver_ping(state: GitHubState, hook_id: str, hook: dict[str, Any]) -> None:
    await asyncio.sleep(0.05)  # after the 204, as GitHub does
    body = json.dumps({"zen": "Design for failure.", "hook_id": int(hook_id)}).encode()
    secret = hook["config"]["secret"].encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-GitHub-Hook-ID": hook_id,
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
    }
    async with httpx.AsyncClient() as client:
        state.deliveries.append(
            await client.post(hook["config"]["url"], content=body, headers=headers)
        )
