"""`synthset generate`: labelled images from a release folder, with nothing else needed."""
from __future__ import annotations

import argparse
import sys

from .device import resolve_device
from .release import load_release, write_image_folder
from .sampling import sample_per_class


def generate(ns) -> None:
    generator, spec = load_release(ns.release, resolve_device(ns.device))
    images = sample_per_class(generator, spec["class_names"], ns.per_class, ns.seed)
    out = write_image_folder(images, ns.out)
    print(f"wrote {len(images)} images ({ns.per_class} per class, {images.num_classes} classes) to {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="synthset", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write an ImageFolder of generated PNGs and labels.csv")
    g.add_argument("release", help="a release folder (results/release/<arch>)")
    g.add_argument("--per-class", type=int, default=100, help="images per class (default 100)")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same images")
    g.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ns = parser.parse_args(argv)
    if ns.per_class < 1:
        parser.error("--per-class must be at least 1")
    try:
        generate(ns)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
