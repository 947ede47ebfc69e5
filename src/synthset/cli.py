"""`synthset generate`: labelled images from a release folder, with nothing else needed.
`synthset preset`: apply a preset (a short file of overrides) to params.yaml.
`synthset cifar`: CIFAR's binary batches as class folders, read without unpickling anything.
`synthset validate`: a GAN's settings scored on the validation split, where choices are made."""
from __future__ import annotations

import argparse
import os
import sys

from .device import resolve_device
from .layout import Layout
from .params import ParamsError
from .release import (
    check_output_folder,
    load_release,
    load_release_filter,
    release_label_temperature,
    write_image_folder,
)
from .sampling import sample_kept


def check_fits_in_memory(spec: dict, per_class: int) -> None:
    """The images and their noise are held in memory until written: say so before drawing any."""
    h, w, c = spec["image_shape"]
    per_image = h * w * c + 4 * spec["latent_dim"]
    free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES") // 2
    classes = len(spec["class_names"])
    fits = free // (per_image * classes)
    if per_class > fits:
        raise ValueError(f"--per-class {per_class} would need {per_class * classes * per_image / 2**30:.1f} GiB "
                         f"of memory, more than half of what is free here; at most {fits} per class fits "
                         "(run generate again with another --seed and --out for more)")


def generate(ns) -> None:
    device = resolve_device(ns.device)
    check_output_folder(ns.out)
    generator, spec = load_release(ns.release, device)
    check_fits_in_memory(spec, ns.per_class)
    judge = load_release_filter(ns.release, device)
    images, stats = sample_kept(generator, spec["class_names"], ns.per_class, ns.seed,
                                "agreeing" if judge is not None else "all", judge, release_label_temperature(ns.release))
    out = write_image_folder(images, ns.out)
    kept = f"; the release's filter kept {stats['kept_share']:.1%} of {stats['drawn']} draws" if judge is not None else ""
    print(f"wrote {len(images)} images ({ns.per_class} per class, {images.num_classes} classes) to {out}{kept}")


def preset(ns) -> None:
    from .presets import apply_preset, dvc_set_args  # ruamel only for this command

    if ns.dvc_args:
        print(" ".join(dvc_set_args(*ns.presets, params_path=ns.params)))
        return
    for key, value in apply_preset(ns.params, *ns.presets):
        print(f"{ns.params}: {key} = {value!r}")


def cifar(ns) -> None:
    from .data.cifar import cifar_to_folders

    counts = cifar_to_folders(ns.src, ns.out)
    print(f"{ns.out}: {sum(counts.values())} images in {len(counts)} class folders")


def epoch_list(text: str) -> list[int]:
    """--at 50,100,150."""
    try:
        return [int(e) for e in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: epochs separated by commas, e.g. 50,100,150") from None


def scale_list(text: str) -> list[float]:
    """--guidance 1,2,3."""
    try:
        return [float(g) for g in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: guidance scales separated by commas, e.g. 1,2,3") from None


def validate(ns) -> None:
    import json

    from .params import load_params
    from .validation import main as score, nested_overrides

    def log(result: dict) -> None:  # each epoch's score as it comes: a stopped run keeps what it scored
        if ns.log:
            with open(ns.log, "a") as f:
                f.write(json.dumps({"set": ns.set, **result}) + "\n")

    # the filter, when validate trains one, follows params.yaml's classify, whatever -S changes
    score(ns, load_params(ns.params, nested_overrides(ns.set)), on_result=log,
          filter_recipe=load_params(ns.params).classify)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="synthset", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write an ImageFolder of generated PNGs and labels.csv")
    g.add_argument("release", help="a release folder (results/release/<arch>)")
    g.add_argument("--per-class", type=int, default=100, help="images per class (default 100)")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--seed", type=int, default=0, help="noise seed; the same seed gives the same images")
    g.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p = sub.add_parser("preset", help="write a preset's values into params.yaml (comments kept)")
    p.add_argument("presets", nargs="+", help="preset files (presets/*.yaml), applied in order")
    p.add_argument("--params", default="params.yaml", help="the params file to change (default: params.yaml)")
    p.add_argument("--dvc-args", action="store_true",
                   help="change nothing; print `-S key=value` flags for `dvc exp run` instead")
    c = sub.add_parser("cifar", help="CIFAR-10/100's binary batches as class folders of PNGs (no pickle)")
    c.add_argument("src", help="the folder the binary version unpacks to (cifar-10-batches-bin, cifar-100-binary)")
    c.add_argument("out", help="output folder, e.g. data/raw/cifar10 (the seed004_cifar presets read it)")
    v = sub.add_parser("validate", help="train a generator with params.yaml plus -S overrides and score its images on "
                       "the validation split (never the test split)")
    v.add_argument("arch", help="a generator listed in gan.archs (a GAN, ddpm or dpmerf)")
    v.add_argument("-S", "--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an override of params.yaml, as dvc exp run's -S: gan.cdcgan.epochs=150 (repeatable)")
    v.add_argument("--seeds", type=int, default=2, help="classifier seeds trained on the images (default 2)")
    v.add_argument("--at", type=epoch_list, default=None, metavar="EPOCHS",
                   help="score the one training at these epochs, e.g. 50,100,150 (default: its last epoch)")
    v.add_argument("--guidance", type=scale_list, default=None, metavar="SCALES",
                   help="ddpm: sample each scored epoch at these classifier-free guidance scales, e.g. 1,2,3 "
                   "(default: gan.ddpm.guidance_scale); sampling only, so one training answers them all")
    v.add_argument("--params", default="params.yaml")
    v.add_argument("--prepared", default=str(Layout().preprocessed("train").parent),
                   help="folder of preprocess's train/val.npz")
    v.add_argument("--filter", default=str(Layout().classifier("filter")),
                   help="train_classifier's filter (trained on train alone); trained here when missing")
    v.add_argument("--grid", help="folder for the training's progress grids (default: none kept)")
    v.add_argument("--log", help="a JSON-lines file each result is appended to")
    ns = parser.parse_args(argv)
    if ns.command == "generate" and ns.per_class < 1:
        parser.error("--per-class must be at least 1")
    try:
        {"generate": generate, "preset": preset, "cifar": cifar, "validate": validate}[ns.command](ns)
    except (ParamsError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
