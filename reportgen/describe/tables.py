"""The user's tables (rules, segment names, RFM groups) declared as pydantic models, like the config.

Each ``[[rule]]``, ``[[name]]`` or ``[[group]]`` table of a TOML file is validated against its model: types,
ranges, required and unknown keys. A field's ``description`` says what it expects, and every problem comes back
in the file's words, ``'priority' must be an integer from 1 (highest) to 5 but received 9``, all at once. What a
model cannot say (a condition that reads unknown metrics, an action that fails to render, RFM boxes that overlap)
is checked by the reader of each file on the validated values.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from reportgen.describe.vocabulary import hint

Model = TypeVar("Model", bound=BaseModel)



def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]  # text with something in it, kept as written


class UserTable(BaseModel):
    """A table of a user file: nothing but the declared keys, each of its declared type (no coercion)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _problem(model: type[BaseModel], raw: dict[str, Any], error: Any) -> str:
    key = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "missing":
        return f"missing key '{key}'"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{key}'{hint(key, model.model_fields)} but received {raw[key]!r}"
    expected = model.model_fields[key].description if key in model.model_fields else None
    if expected is None:  # a check of the whole table: its message says it all
        return str(error["msg"]).removeprefix("Value error, ")
    return f"'{key}' must be {expected} but received {raw[key]!r}"


def read_table(model: type[Model], raw: Any, kind: str) -> tuple[Model | None, list[str]]:
    """Validate one table against ``model``: the model, or None and every problem found in it.

    ``kind`` names the table in the one problem raised when ``raw`` is not a table at all
    (``expected a [[rule]] table``).
    """
    if not isinstance(raw, dict):
        return None, [f"expected a [[{kind}]] table but received {raw!r}"]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        seen: dict[str, None] = {}
        for error in exc.errors():
            seen.setdefault(_problem(model, raw, error))
        return None, list(seen)
