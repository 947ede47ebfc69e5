"""What every params section shares: strict models (an unknown key is an error) and the user-facing error."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ParamsError(ValueError):
    """A params.yaml problem, phrased for the user."""


class Strict(BaseModel):
    # allow_inf_nan: YAML reads .inf and .nan as numbers, and a bound like ge=0 lets inf through
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
