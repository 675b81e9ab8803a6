"""The model table: max output, context window, prices, cache multipliers and minimum. The data is
`data/models.json`, read once at the edge (adapters/package_data.py) and handed in as a ModelTable."""

from __future__ import annotations

import warnings

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
    min_cache_tokens: int = 1024  # the shortest prefix the API caches
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


class ModelTable(BaseModel):
    """The parsed `data/models.json` (loaded at the edge: adapters/package_data.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    cache_write_multiplier: float
    cache_read_multiplier: float
    models: dict[str, dict[str, float]]
    aliases: dict[str, str]
    default: dict[str, float]

    def _build(self, model_id: str, row: dict[str, float], known: bool) -> ModelInfo:
        price_in = float(row["input_usd_per_mtok"])
        return ModelInfo(
            id=model_id,
            max_output_tokens=int(row["max_output_tokens"]),
            context_window=int(row["context_window"]),
            input_usd_per_mtok=price_in,
            output_usd_per_mtok=float(row["output_usd_per_mtok"]),
            cache_write_usd_per_mtok=price_in * self.cache_write_multiplier,
            cache_read_usd_per_mtok=price_in * self.cache_read_multiplier,
            min_cache_tokens=int(row.get("min_cache_tokens", 1024)),
            known=known,
        )

    def known_models(self) -> list[str]:
        return sorted(self.models)

    def lookup(self, model_id: str, *, warn: bool = True) -> ModelInfo:
        """The table row for `model_id` (aliases and dated ids resolved); conservative defaults
        and an `UnknownModelWarning` for a model not in the table."""
        key = self.aliases.get(model_id, model_id)
        if key not in self.models:
            # Dated snapshot of a known family, e.g. claude-sonnet-4-6-20260101.
            stem = key.rsplit("-", 1)[0] if key.rsplit("-", 1)[-1].isdigit() else key
            key = self.aliases.get(stem, stem)
        if key in self.models:
            return self._build(model_id, self.models[key], known=True)
        if warn:
            warnings.warn(
                f"model {model_id!r} is not in the model table; using conservative defaults "
                f"(known: {', '.join(self.known_models())})",
                UnknownModelWarning,
                stacklevel=2,
            )
        return self._build(model_id, self.default, known=False)
