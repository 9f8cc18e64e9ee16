from pydantic import Field

from integrations.runtime.settings import CommonSettings


class DispatcherSettings(CommonSettings):
    database_name: str = Field(
        default="integrations_dispatcher", description="This service's own MongoDB database."
    )
    consumer_group: str = Field(
        default="integrations-dispatcher", description="Kafka consumer group of the replicas."
    )
