"""Dispatcher domain (pure: no I/O, no framework).

- `matching`: which of a webhook's triggers an event type selects (SPEC RT-10, RT-11);
- `request_ids`: deterministic execution-request ids;
- `fan_out`: the `GraphExecutionRequested`s one event causes (SPEC RT-9, RT-10);
- `deliveries`: the delivery log's model (what happened to each event);
- `rejections`: the trigger command an executor rejection calls for;
- `retry`, `replay`: the retry policy and the dead-letter replay filter;
- `ports`: what the handlers need from storage and the webhook view.
"""
