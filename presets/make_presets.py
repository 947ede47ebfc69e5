"""Write presets/*.yaml: params.yaml (every key, every comment) with the values each setup changes.

    python presets/make_presets.py

Run it again when params.yaml gains a key (tests/test_presets.py fails until then); the
changed values and why are in the tables below, and marked in each file by their comment.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "params.yaml").read_text().splitlines()
KEY = re.compile(r"^(\s*)([A-Za-z_]\w*):(\s*)([^#]*?)(\s*)(#.*)?$")


def preset(name: str, header: str, changes: dict[str, tuple[str, str]]) -> None:
    """presets/<name>.yaml: `header`, then params.yaml with each dotted key in `changes` set to
    (value as YAML, comment)."""
    lines = BASE[:]
    while lines and lines[0].startswith("#"):  # params.yaml's own header
        lines.pop(0)
    stack: list[str] = []
    done = set()
    out = []
    while lines and not lines[0].strip():
        lines.pop(0)
    skip_continuation = False
    for line in lines:
        if skip_continuation and line.lstrip().startswith("#") and line.startswith(" "):
            continue  # the replaced value's comment went on over more lines
        skip_continuation = False
        m = KEY.match(line)
        if m:
            indent, key, _, value, _, comment = m.groups()
            depth = len(indent) // 2
            stack[depth:] = [key]
            path = ".".join(stack)
            if path in changes:
                new, why = changes[path]
                assert value != "", path  # only leaves
                head = f"{indent}{key}: {new}"
                col = max(len(head) + 2, {0: 20, 1: 20, 2: 28}[depth])
                first, *more = why.split("\n")  # a long reason goes on over comment-only lines
                line = "\n".join([f"{head.ljust(col)}# {first}"] + [f"{'':{col}}# {m}" for m in more])
                done.add(path)
                skip_continuation = True
        out.append(line)
    missing = set(changes) - done
    assert not missing, missing
    text = "\n".join(header.strip().splitlines() + [""] + out) + "\n"
    (ROOT / "presets" / f"{name}.yaml").write_text(text)


def seed_optimiser(arch: str, seed: str) -> dict[str, tuple[str, str]]:
    """The seeds' Adam 2e-4 and no weight averaging, in place of params.yaml's faster 1e-3 + EMA."""
    return {f"gan.{arch}.lr_g": ("0.0002", f"{seed}: Adam 2e-4 (params.yaml's 1e-3 learns faster on short runs)"),
            f"gan.{arch}.lr_d": ("0.0002", seed),
            f"gan.{arch}.ema_decay": ("null", f"{seed} sampled the trained weights (no EMA)")}


RACECAR = {
    "data.source": ("folder", "photos in one sub-folder per class"),
    "data.path": ("../shared/data/vehicles", "6 classes x 800 photos, 100 px; your own: data/raw/<name>/<class>/"),
    "data.classes": ("[car, minibus, pickup, truck]", "4 of the 6 classes, as seed 000 used 4 cars; pick yours"),
    "preprocess.color": ("rgb", "colour photos"),
    "sample.per_class": ("4000", "seed 000 trained its classifier on 4,000 generated images per class"),
    "classify.model": ("resnet18", "the RGB classifier (seed 004); lenet is faster and weaker"),
    "classify.epochs": ("10", "ResNet-18 on 4 x 4,000 generated photos"),
    "pca.modes": ("[sample]", "the PCA baseline is seed 003's (MNIST); one mode, two sizes keep it cheap here"),
    "pca.n_components": ("[8, 64]", "capped per class at its train image count"),
}
SNGAN_50K = {
    "gan.sngan.batch_size": ("64", "seed 000: batch 64"),
    **seed_optimiser("sngan", "seed 000"),
    # one iteration = one batch (a D and a G update); an epoch = floor(train images / batch) of them
    "gan.sngan.epochs": ("1389", "seed 000's 50,000 iterations at batch 64. Here: 4 x 800 photos - 20 % test\n"
                                 "- 10 % validation = 2,304 train / 64 = 36 iterations per epoch;\n"
                                 "50,000 / 36 = 1,389 epochs (rounded up)\n"
                                 "(recompute for your data: 50,000 / floor(train images / 64))"),
    "gan.sngan.grid_every": ("50", "28 progress grids, not 1,389"),
    "gan.sngan.checkpoint_every": ("25", "every 1,000 iterations"),
}

preset("racecar64", """
# Seed 000's race-car setup at 64 px: DCGAN (one per class), CGAN with experience replay and
# SN-GAN (50,000 iterations at batch 64), 4 classes of colour photos shrunk and centre-cropped.
# Here on the local vehicles folder (100 px photos); point data.path and data.classes at your own.
#   cp presets/racecar64.yaml params.yaml && dvc repro      (README: "Reproducing the seeds")
# The 50,000 SN-GAN iterations want a CUDA GPU (about half a day on a 2-core CPU; README: "Cost").
""", {
    **RACECAR,
    "preprocess.image_size": ("64", "seed 000 trained at 64 x 64"),
    "gan.archs": ("[dcgan, cgan, sngan]", "seed 000's three GANs"),
    "gan.dcgan.leaky_slope": ("0.1", "seed 000"),
    "gan.dcgan.width": ("64", "seed 000: the pytorch/examples DCGAN (ngf = ndf = 64)"),
    **seed_optimiser("dcgan", "seed 000"),
    "gan.dcgan.epochs": ("30", "seed 000: 30 epochs at batch 32 (init std 1.0 there; 0.02 kept, as DCGAN's)"),
    "gan.dcgan.batch_size": ("32", "seed 000"),
    "gan.cgan.leaky_slope": ("0.1", "seed 000 (alpha=0.1)"),
    "gan.cgan.epochs": ("60", "seed 000: 60 epochs at batch 32"),
    "gan.cgan.batch_size": ("32", "seed 000"),
    "gan.cgan.replay": ("true", "seed 000 added experience replay against mode collapse"),
    **seed_optimiser("cgan", "seed 000"),
    **SNGAN_50K,
})

preset("racecar128", """
# Seed 000's SN-GAN at 128 px: 4 classes of colour photos, centre-cropped, 50,000 iterations at
# batch 64 (Adam 2e-4, betas 0.5 / 0.999, hinge loss). The vehicles photos are 100 px, so here they
# are enlarged to 128; with your own 224 px photos (data.path) they are shrunk, as in the seed.
#   cp presets/racecar128.yaml params.yaml && dvc repro      (README: "Reproducing the seeds")
# Needs a CUDA GPU (about four days on a 2-core CPU; README: "Cost").
""", {
    **RACECAR,
    "preprocess.image_size": ("128", "seed 000's SN-GAN: 128 x 128, centre-cropped"),
    "gan.archs": ("[sngan]", "seed 000's best GAN"),
    **SNGAN_50K,
})

SEED004 = {
    "gan.archs": ("[cgan, cdcgan, cdcgan_late]", "seed 004's cGAN, cDCGAN and cDCGAN2 (late concatenation)"),
    "evaluate.mixed_fractions": ("[0.5]", "seed 004's mixed set: real and generated, half each"),
}


def seed004(name, title, data, size, color, epochs, per_class, classifier, extra=None, note=""):
    changes = {**SEED004, **data,
               "preprocess.image_size": (str(size), "the generators make b * 2^k px" if size not in (28, 32)
                                         else "native size"),
               "preprocess.color": (color, "as the data set comes"),
               "sample.per_class": (str(per_class), "about as many generated as real train images per class"),
               "classify.model": classifier}
    for arch in ("cgan", "cdcgan", "cdcgan_late"):
        kind = "grayscale" if color == "gray" else "RGB"
        changes[f"gan.{arch}.epochs"] = (str(epochs), f"seed 004: {epochs} epochs ({kind} sets), Adam 2e-4, beta1 0.5")
        changes.update(seed_optimiser(arch, "seed 004"))
    changes.update(extra or {})
    preset(name, f"""
# Seed 004 on {title}:
# cGAN, cDCGAN and cDCGAN2, judged by a classifier trained on generated, mixed and real images
# and tested on real ones (its Table 2).
{note.strip()}
#   cp presets/{name}.yaml params.yaml && dvc repro      (README: "Reproducing the seeds")
""", changes)


seed004("seed004_fashion_mnist", "Fashion-MNIST (60,000 + 10,000 grayscale 28 px images, 10 classes)",
        {"data.source": ("idx", "IDX files; their official 60,000 / 10,000 split is kept"),
         "data.path": ("/usr/share/datasets/fashion-mnist", "Debian: apt-get install dataset-fashion-mnist")},
        28, "gray", 10, 6000, ("softmax", "seed 004: softmax regression for the grayscale sets"),
        note="# Trains on a CPU: about half an hour for the three GANs (10 epochs of 60,000 images each).")
seed004("seed004_mnist", "MNIST (60,000 + 10,000 grayscale 28 px digits)",
        {"data.source": ("idx", "IDX files; their official 60,000 / 10,000 split is kept"),
         "data.path": ("data/raw/mnist", "the four *-ubyte(.gz) files of MNIST"),
         },
        28, "gray", 10, 6000, ("softmax", "seed 004: softmax regression for the grayscale sets"),
        note="# Needs the MNIST IDX files in data/raw/mnist. Trains on a CPU: about half an hour for the\n"
             "# three GANs (10 epochs of 60,000 images each).")
seed004("seed004_cifar10", "CIFAR-10 (60,000 colour 32 px images, 10 classes)",
        {"data.source": ("folder", "one sub-folder per class (README: exporting CIFAR)"),
         "data.path": ("data/raw/cifar10", "train and test images of all 10 classes"),
         "data.test_fraction": ("0.1667", "10,000 of 60,000 held out, the size of the official test split")},
        32, "rgb", 100, 5000, ("resnet18", "seed 004: ResNet-18 for the RGB sets"),
        note="# Needs CIFAR-10 exported to data/raw/cifar10/<class>/ and a CUDA GPU (100 epochs per GAN).")
seed004("seed004_cifar100", "CIFAR-100 (60,000 colour 32 px images, 100 classes)",
        {"data.source": ("folder", "one sub-folder per class (README: exporting CIFAR)"),
         "data.path": ("data/raw/cifar100", "train and test images of all 100 fine classes"),
         "data.test_fraction": ("0.1667", "10,000 of 60,000 held out, the size of the official test split")},
        32, "rgb", 100, 500, ("resnet18", "seed 004: ResNet-18 for the RGB sets"),
        extra={"report.grid_per_class": ("2", "100 classes: two images each keep the grids readable")},
        note="# Needs CIFAR-100 exported to data/raw/cifar100/<class>/ and a CUDA GPU (100 epochs per GAN).")
seed004("seed004_intel", "Intel Natural Scenes (about 17,000 labelled colour 150 px photos, 6 classes)",
        {"data.source": ("folder", "one sub-folder per class, as the download comes"),
         "data.path": ("data/raw/intel", "seg_train/ and seg_test/ class folders merged (or seg_train alone)")},
        128, "rgb", 100, 2000, ("resnet18", "seed 004: ResNet-18 for the RGB sets"),
        note="# Needs the photos in data/raw/intel/<class>/ and a CUDA GPU (100 epochs per GAN at 128 px).")

# the default data and GANs, trained long: for a GPU, or a CPU left running
preset("mnist_long", """
# The default MNIST-5k run, trained long: the same four GANs and settings as params.yaml,
# 400 epochs each instead of 60-90, seed 000's 4,000 generated images per class, and the
# whole PCA curve. Cost on this project's 2-core CPU, scaled from the default run's measured
# speeds (1.65 s per GAN epoch; the classifier learns about 1,800 images/s): about 45 minutes
# for the GANs, 20 for the evaluation and 20 for PCA, 1.5 hours in all (an estimate: not run
# end to end here). A CUDA GPU is used when present (device: auto); no GPU was available to
# time it.
#   cp presets/mnist_long.yaml params.yaml && dvc repro      (or: dvc exp run with -S overrides)
""", {
    **{f"gan.{arch}.{key}": change for arch in ("dcgan", "cdcgan", "cdcgan_late", "sngan")
       for key, change in (("epochs", ("400", "params.yaml: 60-90, what fits 20 minutes on 2 cores")),
                           ("grid_every", ("20", "20 progress grids")),
                           ("checkpoint_every", ("20", "resumable every 20 epochs")))},
    "sample.per_class": ("4000", "seed 000 trained its classifier on 4,000 generated images per class"),
    "pca.n_components": ("[1, 2, 4, 8, 16, 32, 64, 128]", "the whole curve (seed 003)"),
})
