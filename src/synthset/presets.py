"""Presets: short files of overrides, applied on top of params.yaml.

params.yaml stays the one full list of settings; a preset names only what a setup
changes. Applying one rewrites those values in params.yaml and keeps every comment,
so `dvc repro` and `snakemake` read the result the same way; for an experiment that
leaves the workspace alone, `dvc_set_args` turns the preset into `dvc exp run -S` flags.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from .files import atomic_path
from .params import merge_overrides, parse_params, read_mapping


def leaves(overrides: dict, prefix: str = "") -> list[tuple[str, object]]:
    """("gan.dcgan.epochs", 400) for every value the overrides set."""
    out = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            out += leaves(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _as_node(value):
    """Lists in params.yaml's own style: `[a, b]` on one line."""
    if isinstance(value, list):
        seq = CommentedSeq(value)
        seq.fa.set_flow_style()
        return seq
    return value


def _represent_float(representer, value: float):
    """1.0e-05, not ruamel's 1e-05: PyYAML (YAML 1.1), which Snakemake reads the config with, takes
    an exponent without a dot for a string, and the schema check then refuses the file."""
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if not e or not math.isfinite(value):
        return representer.represent_float(value)
    return representer.represent_scalar("tag:yaml.org,2002:float",
                                        f"{mantissa if '.' in mantissa else mantissa + '.0'}e{exponent}")


def checked_changes(params_path: str | Path, *presets: str | Path) -> list[tuple[str, object]]:
    """Every value the presets set, in order, once the merged settings are known to be valid."""
    raw = read_mapping(params_path)
    changes = []
    for preset in presets:
        overrides = read_mapping(preset)
        raw = merge_overrides(raw, overrides, str(preset))
        changes += leaves(overrides)
    parse_params(raw, f"{params_path} with {', '.join(map(str, presets))}")
    return changes


def apply_preset(params_path: str | Path, *presets: str | Path) -> list[tuple[str, object]]:
    """Write each preset's values into params.yaml (comments kept); returns what changed.
    The result is validated before anything is written: a bad preset leaves the file alone."""
    params_path = Path(params_path)
    changes = checked_changes(params_path, *presets)
    yaml = YAML()  # round trip: comments, order and layout survive
    yaml.width = 4096
    yaml.representer.add_representer(  # `key: null`, as written, not `key:`
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    yaml.representer.add_representer(float, _represent_float)
    doc = yaml.load(params_path.read_text())
    for key, value in changes:
        *parents, last = key.split(".")
        node = doc
        for part in parents:  # every key exists: checked_changes refused unknown ones
            node = node[part]
        node[last] = _as_node(value)
    with atomic_path(params_path) as tmp, open(tmp, "w") as f:
        yaml.dump(doc, f)
    return changes


def dvc_set_args(*presets: str | Path, params_path: str | Path = "params.yaml") -> list[str]:
    """`-S key=value` for `dvc exp run`, one per value the presets set (checked against params.yaml).
    Values are JSON, which DVC's override grammar reads: lists, null, numbers and quoted text. A GAN
    setting its block leaves to gan.defaults is added to the block: `+key=value`, Hydra's syntax."""
    raw = read_mapping(params_path)
    return [arg for key, value in checked_changes(params_path, *presets)
            for arg in ("-S", f"{'' if _listed(raw, key) else '+'}{key}={json.dumps(value, separators=(',', ':'))}")]


def _listed(raw: dict, key: str) -> bool:
    node = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
