"""What the delivery-log verbs refuse.

DeliveryError
├── DeliveryNotFound    no such event for this user's webhook (or someone else's: same answer)
└── EventNotKept        the event was too large to keep, so it cannot be redelivered
"""


class DeliveryError(Exception):
    pass


class DeliveryNotFound(DeliveryError):
    pass


class EventNotKept(DeliveryError):
    pass
