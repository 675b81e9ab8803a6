"""The model table (data in `data/models.json`): max output, context window, prices, cache multipliers."""

from __future__ import annotations

import json
import warnings
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict

from autopack.core.usage import Usage

DEFAULT_MODEL = "claude-sonnet-5-5"


class ModelInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    max_output_tokens: int
    context_window: int
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    cache_write_usd_per_mtok: float
    cache_read_usd_per_mtok: float
    known: bool = True

    def cost_usd(self, usage: Usage) -> float:
        """USD for one request's usage. Only generated tokens are billed as output."""
        return (
            usage.input_tokens * self.input_usd_per_mtok
            + usage.output_tokens * self.output_usd_per_mtok
            + usage.cache_creation_input_tokens * self.cache_write_usd_per_mtok
            + usage.cache_read_input_tokens * self.cache_read_usd_per_mtok
        ) / 1_000_000


class UnknownModelWarning(UserWarning):
    """A model is not in the model table; conservative default prices and limits are used."""


@cache
def _table() -> dict[str, object]:
    text = resources.files("autopack").joinpath("data/models.json").read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


def _build(model_id: str, row: dict[str, float], known: bool) -> ModelInfo:
    table = _table()
    write_mult = float(table["cache_write_multiplier"])  # type: ignore[arg-type]
    read_mult = float(table["cache_read_multiplier"])  # type: ignore[arg-type]
    price_in = float(row["input_usd_per_mtok"])
    return ModelInfo(
        id=model_id,
        max_output_tokens=int(row["max_output_tokens"]),
        context_window=int(row["context_window"]),
        input_usd_per_mtok=price_in,
        output_usd_per_mtok=float(row["output_usd_per_mtok"]),
        cache_write_usd_per_mtok=price_in * write_mult,
        cache_read_usd_per_mtok=price_in * read_mult,
        known=known,
    )


def known_models() -> list[str]:
    models = _table()["models"]
    assert isinstance(models, dict)
    return sorted(models)


def lookup(model_id: str, *, warn: bool = True) -> ModelInfo:
    """The table row for `model_id` (aliases and dated ids resolved); conservative defaults and an
    `UnknownModelWarning` for a model not in the table."""
    table = _table()
    models = table["models"]
    aliases = table["aliases"]
    assert isinstance(models, dict) and isinstance(aliases, dict)
    key = aliases.get(model_id, model_id)
    if key not in models:
        # Dated snapshot of a known family, e.g. claude-sonnet-4-6-20260101.
        stem = key.rsplit("-", 1)[0] if key.rsplit("-", 1)[-1].isdigit() else key
        key = aliases.get(stem, stem)
    if key in models:
        return _build(model_id, models[key], known=True)
    if warn:
        warnings.warn(
            f"model {model_id!r} is not in the model table; using conservative defaults "
            f"(known: {', '.join(known_models())})",
            UnknownModelWarning,
            stacklevel=2,
        )
    default = table["default"]
    assert isinstance(default, dict)
    return _build(model_id, default, known=False)
