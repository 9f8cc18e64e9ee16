"""What publishing and subscribing can raise.

BusError
├── BusUnavailable     not started, stopped, or the broker did not acknowledge in time:
│                      nothing was acknowledged, so the caller may retry (ingress: 503)
└── PublishRejected    the broker refused the record for good (too large, not allowed):
                       retrying the same record cannot help
"""


class BusError(Exception):
    pass


class BusUnavailable(BusError):
    pass


class PublishRejected(BusError):
    pass
