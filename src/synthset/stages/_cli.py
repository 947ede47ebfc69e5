"""What every stage script shares: argument parsing basics and one-line errors."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from ..params import Params, ParamsError, load_params


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="the params file (default: params.yaml)")
    return p


def evaluation_parser(description: str, out_help: str) -> argparse.ArgumentParser:
    """The arguments of a stage that compares one arch's samples with the real splits
    through the real classifier (fidelity, privacy)."""
    p = parser(description)
    p.add_argument("--arch", required=True)
    p.add_argument("--samples", required=True, help="the arch's generated samples.npz")
    p.add_argument("--train", required=True, help="real train split")
    p.add_argument("--test", required=True, help="real test split")
    p.add_argument("--classifier", required=True, help="train_classifier's folder")
    p.add_argument("--out", required=True, help=out_help)
    p.add_argument("--metrics", required=True, help="the stage's metrics JSON")
    return p


def run(main: Callable[[argparse.Namespace, Params], None], args: argparse.ArgumentParser) -> None:
    """Parse, load params, run; a mistake a user can make ends with one line and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ns = args.parse_args()
    try:
        params = load_params(ns.params)
        main(ns, params)
    except (ParamsError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
