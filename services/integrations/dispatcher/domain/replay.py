from dataclasses import dataclass
from datetime import datetime

from integrations.contracts import DeadLetter


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which dead letters `integrations dlq replay` republishes: failed in [since, until),
    of one of `webhook_ids` (any webhook when empty)."""

    since: datetime | None = None
    until: datetime | None = None
    webhook_ids: frozenset[str] = frozenset()

    def admits(self, letter: DeadLetter) -> bool:
        if self.since is not None and letter.failed_at < self.since:
            return False
        if self.until is not None and letter.failed_at >= self.until:
            return False
        return not self.webhook_ids or letter.webhook_id in self.webhook_ids
