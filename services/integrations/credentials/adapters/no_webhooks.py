class NoWebhookUsage:
    """`WebhookUsage` until this service manages webhooks: nothing is ever in use."""

    async def in_use(self, user_id: str, credentials_id: str) -> bool:
        return False

    async def release(self, user_id: str, credentials_id: str) -> None:
        return None
