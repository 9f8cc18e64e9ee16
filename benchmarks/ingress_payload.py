"""A realistic GitHub `pull_request` delivery (~7 KB), shaped like the ones GitHub sends."""

import hashlib
import hmac
import json
from typing import Any

TARGET_BYTES = 7 * 1024
_API = "https://api.github.com"
_WEB = "https://github.com"


def _user(login: str, user_id: int) -> dict[str, Any]:
    api = f"{_API}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"MDQ6VXNlcj{user_id}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{_WEB}/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


def _repository(owner: dict[str, Any]) -> dict[str, Any]:
    full_name = f"{owner['login']}/workflow-engine"
    api = f"{_API}/repos/{full_name}"
    return {
        "id": 118_645_301,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMTg2NDUzMDE=",
        "name": "workflow-engine",
        "full_name": full_name,
        "private": False,
        "owner": owner,
        "html_url": f"{_WEB}/{full_name}",
        "description": "Agents that build and run workflows.",
        "fork": False,
        "url": api,
        "pulls_url": f"{api}/pulls{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "commits_url": f"{api}/commits{{/sha}}",
        "created_at": "2018-01-23T18:42:10Z",
        "updated_at": "2025-06-30T09:12:44Z",
        "pushed_at": "2025-06-30T09:12:40Z",
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "clone_url": f"{_WEB}/{full_name}.git",
        "homepage": "https://example.org",
        "size": 245_117,
        "stargazers_count": 171_002,
        "watchers_count": 171_002,
        "language": "Python",
        "forks_count": 45_210,
        "open_issues_count": 412,
        "default_branch": "main",
        "visibility": "public",
    }


def pull_request_payload(number: int = 9_876) -> dict[str, Any]:
    owner = _user("octo-org", 9_919)
    author = _user("octocat", 583_231)
    repo = _repository(owner)
    api = f"{_API}/repos/{repo['full_name']}"
    payload: dict[str, Any] = {
        "action": "opened",
        "number": number,
        "pull_request": {
            "url": f"{api}/pulls/{number}",
            "id": 1_934_552_310,
            "node_id": "PR_kwDOBxKjz85zTQ12",
            "html_url": f"{_WEB}/{repo['full_name']}/pull/{number}",
            "diff_url": f"{_WEB}/{repo['full_name']}/pull/{number}.diff",
            "number": number,
            "state": "open",
            "locked": False,
            "title": "Retry webhook deliveries with backoff when the broker is unavailable",
            "user": author,
            "body": "",
            "created_at": "2025-06-30T09:12:41Z",
            "updated_at": "2025-06-30T09:12:41Z",
            "draft": False,
            "head": {
                "label": "octocat:retry-backoff",
                "ref": "retry-backoff",
                "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            },
            "base": {
                "label": "octo-org:main",
                "ref": "main",
                "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
            },
            "commits": 3,
            "additions": 182,
            "deletions": 41,
            "changed_files": 7,
        },
        "repository": repo,
        "sender": author,
    }
    filler = "Adds bounded retries and a dead-letter topic. " * 200
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    payload["pull_request"]["body"] = filler[: max(0, TARGET_BYTES - size)]
    return payload


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
