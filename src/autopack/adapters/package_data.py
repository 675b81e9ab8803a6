"""Autopack's own package data, read once: the model table (`data/models.json`) and the output-size
estimator's constants (`data/estimator.json`). The core gets them as values."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from autopack.core.budget.estimator import EstimatorParams
from autopack.core.modeltable import ModelInfo, ModelTable


def _read(name: str) -> object:
    return json.loads(resources.files("autopack").joinpath(f"data/{name}").read_text("utf-8"))


@cache
def model_table() -> ModelTable:
    return ModelTable.model_validate(_read("models.json"))


@cache
def estimator_params() -> EstimatorParams:
    return EstimatorParams.model_validate(_read("estimator.json"))


def lookup(model_id: str, *, warn: bool = True) -> ModelInfo:
    """The model table's row for `model_id` (see ModelTable.lookup)."""
    return model_table().lookup(model_id, warn=warn)


def known_models() -> list[str]:
    return model_table().known_models()
