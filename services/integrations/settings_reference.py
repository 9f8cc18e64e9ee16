"""The settings reference of docs/operations.md, rendered from the services' settings classes.

`python -m integrations.settings_reference docs/operations.md` rewrites the table between
the markers; a unit test fails when the document and the code disagree.
"""

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from integrations.catalog import SERVICES
from integrations.runtime.settings import CommonSettings

BEGIN = "<!-- settings-reference:begin (generated: python -m integrations.settings_reference) -->"
END = "<!-- settings-reference:end -->"


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return "*required*"
    if field.default is None:
        return ""
    value = field.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _row(name: str, field: FieldInfo) -> str:
    # Flat env names: pydantic-settings matches the field name case-insensitively.
    description = (field.description or "").replace("|", "\\|").replace("\n", " ")
    return f"| `{name.upper()}` | {_default(field)} | {description} |"


def _table(fields: dict[str, FieldInfo]) -> list[str]:
    header = ["| variable | default | meaning |", "| --- | --- | --- |"]
    return header + [_row(name, field) for name, field in fields.items()]


def render() -> str:
    common = CommonSettings.model_fields
    lines = ["#### Every service", "", *_table(dict(common))]
    for name, service in SERVICES.items():
        own: dict[str, Any] = {
            field_name: field
            for field_name, field in service.settings_class.model_fields.items()
            if field_name not in common
        }
        lines += ["", f"#### {name}", "", *_table(own)]
    return "\n".join(lines)


def splice(document: str, reference: str) -> str:
    """The document with the text between the markers replaced by `reference`."""
    head, found, rest = document.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise ValueError("the document has no settings-reference markers")
    return f"{head}{BEGIN}\n{reference}\n{END}{tail}"


def main(argv: list[str]) -> None:
    if not argv:
        print(render())
        return
    path = Path(argv[0])
    path.write_text(splice(path.read_text(encoding="utf-8"), render()), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
