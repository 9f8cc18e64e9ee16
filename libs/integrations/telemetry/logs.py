import logging
import sys
from typing import Literal

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s %(message)s [trace=%(trace_id)s]"


class TraceContextFilter(logging.Filter):
    """Stamps every record with the active span's ids so a log line leads to its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        else:
            record.trace_id = ""
            record.span_id = ""
        return True


def configure_logging(
    service_name: str, level: str = "INFO", log_format: Literal["json", "text"] = "json"
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TraceContextFilter())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service_name},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    # Replacing handlers (not adding) keeps repeated bootstraps, e.g. in tests, from
    # printing every line twice.
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Access logs duplicate our own request metrics and can carry query strings.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
