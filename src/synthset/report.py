"""The report a data owner reads: static HTML (and Markdown) built from stage outputs only.

Every number and picture comes from files the pipeline wrote; nothing is typed in.
Images are copied beside index.html so the folder opens offline and can be handed on.
"""
from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from .baselines.figures import pca_curve_png
from .classify.figures import mixed_curve_png
from .figures import plt, save_figure
from .io import ImageSet, atomic_path, read_json
from .sampling import grid_png
from .summary import arch_verdict
from .verdict import DO_NOT, gap_to_real, interval_words

# summary table columns (seed 004's Table 2, extended): (header, metrics kind, key, format)
COLUMNS = [
    ("Acc (fake)", "tstr", "acc_fake", "pct"),
    ("Acc (mixed best)", "tstr", "acc_mixed_best", "pct"),
    ("Acc (SSIM-selected)", "tstr", "acc_ssim_selected", "pct"),
    ("Acc (real baseline)", "tstr", "acc_real", "pct"),
    ("GAN-test", "fidelity", "gan_test_accuracy", "pct"),
    ("Kept by filter", "sample", "kept_share", "pct"),
    ("IS", "fidelity", "inception_score", "num"),
    ("FID", "fidelity", "fid", "num"),
    ("KID", "fidelity", "kid", "sci"),
    ("Precision", "fidelity", "precision", "num"),
    ("Recall", "fidelity", "recall", "num"),
    ("Mean SSIM", "ssim", "mean", "num"),
    ("Copies", "privacy", "copy_share", "pct"),
    ("Attack AUC", "audit", "auc", "num"),
    ("Attack TPR@1%FPR", "audit", "tpr_at_0.01", "pct"),
    ("DP epsilon", "live", "dp_epsilon", "num"),
    ("Train (s)", "live", "train_seconds", "int"),
]


@dataclass
class ArchResult:
    """Where one architecture's outputs are, below the results folder."""

    name: str
    results: Path

    def metrics(self, kind: str) -> dict:
        path = (self.results / "live" / "train_gan" / self.name / "metrics.json" if kind == "live"
                else self.results / "metrics" / kind / f"{self.name}.json")
        return read_json(path) if path.exists() else {}

    def evaluation(self, kind: str, name: str) -> Path:
        return self.results / "evaluation" / kind / self.name / name

    def summary(self) -> dict:
        """Its entry in summary.json (the comparisons computed there), or {} before the summary ran."""
        path = self.results / "metrics" / "summary.json"
        return read_json(path).get(self.name, {}) if path.exists() else {}

    @property
    def samples(self) -> Path:
        return self.results / "samples" / self.name / "samples.npz"

    @property
    def mixed_curve(self) -> Path:
        return self.results / "plots" / "mixed" / f"{self.name}.csv"

    @property
    def label(self) -> str:
        return self.name


@dataclass
class PCAResult:
    """One PCA mode's outputs: its best n is a summary-table row, every n is on the curve."""

    mode: str
    results: Path

    @property
    def name(self) -> str:
        return f"pca_{self.mode}"

    @cached_property
    def _best(self) -> dict:
        path = self.results / "metrics" / "pca" / f"{self.mode}.json"
        return read_json(path) if path.exists() else {}

    def metrics(self, kind: str) -> dict:
        """The best n's numbers under the keys the GAN stages use."""
        best = self._best
        return {**best, "mean": best.get("mean_ssim"), "train_seconds": best.get("fit_seconds")}

    @property
    def label(self) -> str:
        best_n = self._best.get("best_n")
        return f"PCA {self.mode} (n={best_n})" if best_n else f"PCA {self.mode}"

    def curve(self) -> pd.DataFrame | None:
        path = self.results / "plots" / "pca" / f"{self.mode}.csv"
        return pd.read_csv(path) if path.exists() else None

    def previews(self) -> list[Path]:
        """The first images per class of every n (the pca stage's preview_n*.npz)."""
        return sorted((self.results / "evaluation" / "pca" / self.mode).glob("preview_n*.npz"))


def fmt(value, kind: str) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return {"pct": f"{value:.1%}", "num": f"{value:.3f}", "sci": f"{value:.2e}", "int": f"{value:.0f}"}[kind]


def fmt_with_interval(metrics: dict, key: str, kind: str) -> str:
    """The number, and its interval where the stage measured one (`key`_low, `key`_high)."""
    low, high = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
    if kind != "pct" or not (isinstance(low, float) and isinstance(high, float)):
        return fmt(metrics.get(key), kind)
    return f"{fmt(metrics.get(key), kind)} [{low * 100:.1f}, {high * 100:.1f}]"


def summary_table(rows_from: list[ArchResult | PCAResult]) -> pd.DataFrame:
    rows = []
    for a in rows_from:
        found = {kind: a.metrics(kind) for kind in {c[1] for c in COLUMNS}}
        rows.append({"Generator": a.label, **{h: fmt_with_interval(found[k], key, f) for h, k, key, f in COLUMNS}})
    return pd.DataFrame(rows)


def read_live_metric(live: Path, name: str) -> pd.DataFrame:
    path = Path(live) / "plots" / "metrics" / f"{name}.tsv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing (train_gan writes it)")
    return pd.read_csv(path, sep="\t")


def training_curves_png(live: Path, path: Path, title: str) -> Path:
    """G/D losses and D accuracy on real and fake, per step (a diffusion model: its loss and
    learning rate)."""
    if (Path(live) / "plots" / "metrics" / "train" / "loss.tsv").exists():
        return diffusion_curves_png(live, path, title)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.2))
    for name, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        df = read_live_metric(live, f"train/{name}")
        ax_loss.plot(df["step"], df[name], label=label, lw=0.8)
    for name, label in (("d_acc_real", "D acc. on real"), ("d_acc_fake", "D acc. on fake")):
        df = read_live_metric(live, f"train/{name}")
        ax_acc.plot(df["step"], df[name], label=label, lw=0.8)
    ax_loss.set(xlabel="step", ylabel="loss", title=f"{title}: losses")
    ax_acc.set(xlabel="step", ylabel="accuracy", ylim=(-0.02, 1.02), title=f"{title}: discriminator")
    for ax in (ax_loss, ax_acc):
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    return path


def diffusion_curves_png(live: Path, path: Path, title: str) -> Path:
    """The denoising loss per step (noisy: each batch draws its own timesteps) with its
    running mean over an epoch-sized window, and the warmed-up learning rate."""
    loss, lr = read_live_metric(live, "train/loss"), read_live_metric(live, "train/lr")
    fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(10, 3.2))
    ax_loss.plot(loss["step"], loss["loss"], lw=0.5, alpha=0.4, label="per step")
    ax_loss.plot(loss["step"], loss["loss"].rolling(50, min_periods=1).mean(), lw=1.2, label="mean of 50 steps")
    ax_loss.set(xlabel="step", ylabel="noise prediction MSE", yscale="log", title=f"{title}: denoising loss")
    ax_lr.plot(lr["step"], lr["lr"], lw=1.0)
    ax_lr.set(xlabel="step", ylabel="learning rate", title=f"{title}: learning rate")
    ax_loss.legend(frameon=False)
    for ax in (ax_loss, ax_lr):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, tight=False)
    return path


def progress_frames(figures: Path, most: int = 6) -> list[Path]:
    """First, last and evenly spaced epochs between them."""
    frames = sorted(Path(figures).glob("epoch_*.png"))
    if len(frames) <= most:
        return frames
    picks = {round(i * (len(frames) - 1) / (most - 1)) for i in range(most)}
    return [frames[i] for i in sorted(picks)]


def release_advice(a: ArchResult, rules) -> str:
    """The verdict (the one summary.json and the model card hold) and the numbers behind it, in
    words; where to find the release folder unless the verdict is not to release. HTML."""
    v = arch_verdict(a.results, a.name, rules)
    text = f"<b>{html.escape(v.decision.capitalize())}.</b> " + html.escape(_first_upper("; ".join(v.reasons))) + "."
    if v.decision != DO_NOT:
        text += f" The release folder: <code>results/release/{html.escape(a.name)}/</code>."
    return text


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]  # str.capitalize would lower-case names such as LOGAN


def html_to_md(text: str) -> str:
    """The few tags release_advice writes, as markdown. Its escaped text stays escaped: a markdown
    viewer shows entities as the characters, and a name holding HTML never becomes markup."""
    return re.sub(r"</?b>", "**", re.sub(r"</?code>", "`", text))


def headline(archs: list[ArchResult], pcas: list[PCAResult]) -> str | None:
    """The comparison a data owner reads first: the best generator against the real baseline
    and against the PCA sample baseline, in points of train-on-synthetic accuracy."""
    scored = [(a.metrics("tstr").get("acc_fake"), a) for a in archs]
    scored = [(acc, a) for acc, a in scored if isinstance(acc, float)]
    if not scored:
        return None
    _, best = max(scored, key=lambda t: t[0])
    tstr = best.metrics("tstr")
    real = tstr.get("acc_real")
    parts = [f"Best generator: <b>{html.escape(best.label)}</b>, a classifier trained only on its images "
             f"scores {fmt_with_interval(tstr, 'acc_fake', 'pct')} on the real test images"]
    if isinstance(real, float):
        gap, low, high = gap_to_real(tstr)
        compared = (f"{abs(gap):.1f} points {'below' if gap >= 0 else 'above'} the same classifier trained "
                    f"on the real images ({real:.1%})")
        if low != high:
            tie = " (a tie: the interval covers 0)" if low <= 0 <= high else ""
            compared += f", {interval_words(low, high, tstr.get('interval_confidence', 0.95))}{tie}"
        parts.append(compared)
    pca = next((p for p in pcas if p.mode == "sample" and isinstance(p.metrics("tstr").get("acc_fake"), float)),
               None)
    if pca is not None:
        parts += versus_pca(scored, pca)
    return "; ".join(parts) + "."


def versus_pca(scored: list[tuple[float, ArchResult]], pca: PCAResult) -> list[str]:
    """The best generator against PCA sample, and which generators beat it, tie with it or fall
    below it: by the paired interval of the difference (summary.json's vs_pca) where the
    summary holds one, by the point estimate otherwise."""
    pca_metrics = pca.metrics("tstr")

    def lead(acc: float, a: ArchResult) -> tuple[float, float, float]:
        """Points above PCA sample (negative: below), and the interval's bounds."""
        point = round((acc - pca_metrics["acc_fake"]) * 100, 9)
        bounds = a.summary().get("vs_pca")
        if not bounds:
            return point, point, point
        return point, round(bounds[0] * 100, 9), round(bounds[1] * 100, 9)

    leads = [(lead(acc, a), a) for acc, a in scored]
    (point, low, high), _ = max(leads, key=lambda t: t[0][0])
    said = (f"{abs(point):.1f} points {'above' if point >= 0 else 'below'} the PCA sample baseline "
            f"({html.escape(pca.label)}: {fmt_with_interval(pca_metrics, 'acc_fake', 'pct')})")
    ranged = low != high
    if ranged:
        said += (f", {interval_words(-low, -high, pca_metrics.get('interval_confidence', 0.95))}"
                 + (" (a tie with it)" if low <= 0 <= high else ""))
    groups: dict[str, list[str]] = {"beating it": [], "tying with it": [], "below it": []}
    for (_, low, high), a in leads:
        groups["beating it" if low > 0 else "below it" if high < 0 else "tying with it"].append(a.label)
    if len(groups["beating it"]) == len(leads):
        return [said, "every generator beats that baseline" + (" (every interval above 0)" if ranged else "")]
    return [said, "; ".join(f"{kind}: {html.escape(', '.join(names))}" for kind, names in groups.items() if names)]


def _img(src: str, alt: str) -> str:
    return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" loading="lazy">'


def _copy(src: Path, out: Path, name: str) -> str | None:
    if not src.exists():
        return None
    shutil.copyfile(src, out / name)
    return name


def _figure(src: str | None, caption: str) -> str:
    if src is None:
        return ""
    return f"<figure>{_img(src, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def arch_section(a: ArchResult, out: Path, per_class: int, rules) -> tuple[list[str], list[str]]:
    name = a.name
    grid_png(ImageSet.load(a.samples), out / f"{name}_generated.png", per_class)
    training_curves_png(a.results / "live" / "train_gan" / name, out / f"{name}_curves.png", name)
    frames = progress_frames(a.results / "figures" / name)
    for f in frames:
        shutil.copyfile(f, out / f"{name}_{f.name}")
    figs = {key: _copy(a.evaluation(kind, file), out, f"{name}_{kind}_{file}") for key, kind, file in (
        ("confusion", "tstr", "confusion_fake.png"), ("mixed", "tstr", "mixed.png"),
        ("ssim_hist", "ssim", "histogram.png"), ("ssim_best", "ssim", "best_worst.png"),
        ("knn", "privacy", "knn_pixels.png"), ("dcr", "privacy", "dcr_pixels.png"),
        ("gan_test", "fidelity", "confusion_gan_test.png"), ("roc", "audit", "roc.png"))}
    seconds = a.metrics("live").get("train_seconds")
    advice = release_advice(a, rules)
    timing = f"Training took {seconds:.0f} s." if isinstance(seconds, (int, float)) else ""
    body = [f'<section id="{html.escape(name)}"><h2>{html.escape(name)}</h2><p>{timing}</p>',
            f'<p class="advice"><b>Can I release this?</b> {advice}</p>',
            '<div class="pair"><figure>' + _img("real_grid.png", "real images per class")
            + "<figcaption>Original (real train images)</figcaption></figure><figure>"
            + _img(f"{name}_generated.png", f"{name} generated images per class")
            + f"<figcaption>Generated by {html.escape(name)}</figcaption></figure></div>",
            "<h3>Training progression (fixed noise)</h3><div class=\"frames\">"
            + "".join(f"<figure>{_img(f'{name}_{f.name}', f.stem)}<figcaption>{f.stem.replace('_', ' ')}"
                      "</figcaption></figure>" for f in frames) + "</div>",
            "<h3>Training curves</h3>" + _img(f"{name}_curves.png", f"{name} training curves"),
            "<h3>Utility, realism and privacy</h3><div class=\"pair\">"
            + _figure(figs["confusion"], "classifier trained on generated images, tested on real ones")
            + _figure(figs["mixed"], "accuracy against the real share of the training set")
            + _figure(figs["gan_test"], "GAN-test: the real-data classifier labels generated images")
            + _figure(figs["ssim_hist"], "SSIM to real images of the same class")
            + _figure(figs["ssim_best"], "best (top) and worst (bottom) images by SSIM")
            + _figure(figs["knn"], "generated image | its 3 nearest real training images (closest first)")
            + _figure(figs["dcr"], "distance to the closest training image: generated vs unseen real")
            + _figure(figs["roc"], "membership inference: training images found (TPR) against unseen images "
                      "wrongly accused (FPR), log scales; the dashed diagonal is guessing")
            + "</div></section>"]
    md = [f"## {name}", "", timing, "", f"**Can I release this?** {html_to_md(advice)}", "",
          "| Original | Generated |", "| --- | --- |",
          f"| ![real](real_grid.png) | ![{name}]({name}_generated.png) |", "",
          f"![training curves]({name}_curves.png)", ""]
    md += [f"![{key}]({src})" for key, src in figs.items() if src] + [""]
    return body, md


PCA_COLUMNS = [("n", "n", "int"), ("Variance held", "explained_variance", "pct"),
               ("Acc (val)", "acc_val", "pct"), ("Acc (fake)", "acc_fake", "pct"), ("GAN-test", "gan_test_accuracy", "pct"),
               ("FID", "fid", "num"), ("Precision", "precision", "num"), ("Recall", "recall", "num"),
               ("Mean SSIM", "mean_ssim", "num"), ("Copies", "copy_share", "pct")]


def pca_section(pcas: list[PCAResult], out: Path, acc_real: float | None,
                per_class: int) -> tuple[list[str], list[str]]:
    """Seed 003's curve (accuracy against n) for every mode, each n's numbers and images."""
    curves = {p.mode: p.curve() for p in pcas}
    curves = {mode: df for mode, df in curves.items() if df is not None}
    if not curves:
        return [], []
    pca_curve_png(curves, acc_real, out / "pca_curve.png")
    intro = ("One PCA per class, fitted on the real train images, with n components. <i>sample</i> draws new "
             "images from the Gaussian the PCA fitted; <i>reconstruct</i> projects real train images onto n "
             "components and back (seed 003), so its images are blurred copies of private ones. The summary "
             "row shows the n whose images trained the best classifier on the validation split (carved from "
             "the train split); the test split only measures the numbers shown.")
    body = ['<section id="pca"><h2>PCA baseline</h2>', f"<p>{intro}</p>",
            _figure("pca_curve.png", "accuracy on real test images against the number of PCA components, "
                    "and the share of generated images that are copies of training images")]
    md = ["## PCA baseline", "", re.sub(r"</?i>", "*", intro), "", "![PCA curve](pca_curve.png)", ""]
    for p in pcas:
        df = curves.get(p.mode)
        if df is None:
            continue
        table = pd.DataFrame({h: [fmt(v, f) for v in df[key]] for h, key, f in PCA_COLUMNS})
        frames = []
        for preview in p.previews():
            n = int(preview.stem.removeprefix("preview_n"))
            frames.append((f"{p.name}_grid_n{n:04d}.png", f"n = {n}"))
            grid_png(ImageSet.load(preview), out / frames[-1][0], per_class)
        body += [f"<h3>{html.escape(p.mode)}</h3>", table.to_html(index=False, classes="summary", border=0),
                 '<div class="frames">' + "".join(f"<figure>{_img(src, cap)}<figcaption>{html.escape(cap)}"
                                                  "</figcaption></figure>" for src, cap in frames) + "</div>"]
        md += [f"### {p.mode}", "", "| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
        md += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)] + [""]
        md += [f"![{cap}]({src})" for src, cap in frames] + [""]
    body.append("</section>")
    return body, md


def data_note(summary: dict | None) -> str | None:
    """One plain-text header line on what ingest did to the data (its summary.json): files
    skipped, images upscaled, images that lost over half their area to the centre crop,
    identical images kept together, with example names, so that results built on blown-up icons or slivers of strips are not read
    without knowing it."""
    if not summary:
        return None
    parts = [f"{summary.get('skipped', 0)} unreadable file(s) skipped"]
    resize = summary.get("resize")
    if resize:
        total = sum(summary["images"].values())
        for key, words in (("upscaled", f"smaller than {resize['image_size']} px, upscaled"),
                           ("cropped_over_half", "longer than 2:1, over half their area cropped away")):
            n, names = resize[key]["total"], resize["examples"][key]
            parts.append(f"{n} of {total} images {words}" + (f" (e.g. {', '.join(names)})" if names else ""))
    copies = summary.get("duplicates")
    if copies and copies["groups"]:
        text = f"{copies['images']} identical images in {copies['groups']} groups, each kept inside one split"
        if copies.get("label_conflicts"):
            text += f" ({copies['label_conflicts']} groups filed under more than one class)"
        if copies.get("dropped_from_test"):
            text += f"; {copies['dropped_from_test']} test images that copy a train image dropped"
        if copies["examples"]:
            text += f" (e.g. {', '.join(copies['examples'][0])})"
        parts.append(text)
    return "Data: " + "; ".join(parts) + "."


def filter_note(archs: list[ArchResult]) -> str | None:
    """What sample.keep: agreeing did, under the table: it changes what GAN-test means."""
    kept = {a.label: a.metrics("sample") for a in archs}
    if not any(k.get("keep") == "agreeing" for k in kept.values()):
        return None
    text = ("Every generator's images, and PCA's samples, are the draws that a classifier of the real train split "
            "reads as the class asked for (sample.keep: agreeing); Kept by filter is the share of draws kept, "
            "the generator's label faithfulness as that classifier sees it. GAN-test, by a classifier that also "
            "saw the validation split, is near 100 % on filtered images by construction.")
    unfiltered = {name: k["unfiltered_because"] for name, k in kept.items() if k.get("unfiltered_because")}
    for name, why in unfiltered.items():
        text += f" Not filtered: {name}, {why}."
    return text


def build_report(real: ImageSet, archs: list[ArchResult], out: Path, per_class: int = 8,
                 baseline: dict | None = None, baseline_confusion: Path | None = None,
                 pcas: list[PCAResult] = (), data_summary: dict | None = None, release_rules=None) -> Path:
    """The report folder; `data_summary` is ingest's summary.json, shown in the header;
    `release_rules` (params report.release) decide each generator's "Can I release this?"."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grid_png(real, out / "real_grid.png", per_class)
    names = ", ".join(html.escape(c) for c in real.class_names)
    h, w, c = real.image_shape
    table = summary_table([*archs, *pcas])
    intro = (f"Real train split: {len(real)} images, {real.num_classes} classes ({names}), {h}&times;{w} px, "
             f"{'RGB' if c == 3 else 'gray'}. Rows of every grid are classes in that order. Every accuracy is "
             "measured on the held-out real test split that no generator saw.")
    verdict = headline(archs, list(pcas))
    note = data_note(data_summary)
    filtered = filter_note(archs)
    body = ["<h1>synthset report</h1>", f"<p>{intro}</p>", *([f"<p>{html.escape(note)}</p>"] if note else []),
            "<h2>Summary</h2>",
            *([f'<p class="headline">{verdict}</p>'] if verdict else []),
            table.to_html(index=False, classes="summary", border=0, escape=True),
            *([f"<p>{html.escape(filtered)}</p>"] if filtered else [])]
    md = ["# synthset report", "", intro.replace("&times;", "x"), "",
          *([html.escape(note, quote=False), ""] if note else []), "## Summary", "",
          *([re.sub(r"</?b>", "**", verdict), ""] if verdict else []),
          "| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    md += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)] + [""]
    md += [filtered, ""] if filtered else []
    if baseline:
        body.append(f"<p>Real baseline: {html.escape(str(baseline.get('model')))} trained on "
                    f"{html.escape(str(baseline.get('train_images', '?')))} real images (train and validation, every "
                    f"one outside test), {baseline['accuracy']:.1%} on "
                    f"{html.escape(str(baseline.get('test_images', '?')))} real test images"
                    + (f"; {html.escape(str(baseline['reference']['model']))}, trained the same way, scores "
                       f"{baseline['reference']['accuracy']:.1%}" if baseline.get("reference") else "") + ".</p>")
    overview = []
    mixed = {a.name: pd.read_csv(a.mixed_curve) for a in archs if a.mixed_curve.exists()}
    if mixed:
        mixed_curve_png(mixed, out / "mixed_curves.png", "accuracy against the real share of the training set")
        overview.append(_figure("mixed_curves.png", "mixed-data curve: classifiers trained on real and generated "
                                "images at equal size; 0 % = generated only, 100 % = the real baseline"))
        md += ["![mixed-data curve](mixed_curves.png)", ""]
    if baseline_confusion and baseline_confusion.exists():
        shutil.copyfile(baseline_confusion, out / "baseline_confusion.png")
        overview.append(_figure("baseline_confusion.png", "real baseline: confusion matrix on real test images"))
    body.append('<div class="pair">' + "".join(overview) + "</div>")
    for a in archs:
        b, m = arch_section(a, out, per_class, release_rules)
        body += b
        md += m
    b, m = pca_section(list(pcas), out, baseline.get("accuracy") if baseline else None, per_class)
    body += b
    md += m
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>synthset report</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
            ".pair,.frames{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure{margin:0}"
            "img{max-width:100%}.pair img{max-width:420px}.frames img{width:150px}"
            "figcaption{font-size:.85em;color:#555;max-width:420px}.advice{background:#f4f7fb;padding:.6em}"
            ".headline{font-size:1.1em;background:#eef6ee;padding:.6em}"
            "table.summary{border-collapse:collapse;font-size:.9em}table.summary td,table.summary th"
            "{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:right}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    with atomic_path(out / "index.html") as tmp:
        tmp.write_text(page)
    with atomic_path(out / "report.md") as tmp:
        tmp.write_text("\n".join(md) + "\n")
    return out / "index.html"
