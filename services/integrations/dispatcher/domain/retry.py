from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff for transient failures, before a record is dead-lettered."""

    max_attempts: int = 5
    initial_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay_s < 0 or self.max_delay_s < self.initial_delay_s:
            raise ValueError("need 0 <= initial_delay_s <= max_delay_s")

    def delay_after(self, attempt: int, jitter: float) -> float:
        """Pause after failed attempt `attempt` (1-based); `jitter` in [0, 1).

        Half fixed, half random: replicas that failed together (a broker blip) do not all
        retry in the same instant.
        """
        ceiling = min(self.max_delay_s, self.initial_delay_s * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * jitter)
