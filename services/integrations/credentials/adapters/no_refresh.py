from integrations.credentials.domain.stored import StoredCredentials


class NoRefresh:
    """`CredentialsRefresher` until refresh-on-read exists: credentials as stored."""

    async def ensure_fresh(self, stored: StoredCredentials) -> StoredCredentials:
        return stored
