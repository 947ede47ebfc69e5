"""The report's summary rows and PCA section are read from the stage outputs, nothing else."""
from __future__ import annotations

import html
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import shipped
from hypothesis import example, given, settings
from hypothesis import strategies as st

from synthset.figures.classify import confusion_png
from synthset.files import write_json
from synthset.imagesets import ImageSet
from synthset.release import model_card
from synthset.report import ArchResult, PCAResult, build_report, headline, release_line, report_tables


def pca_outputs(results, mode: str, accs: list[float], vals: list[float] | None = None) -> None:
    """What pca@mode writes; n is chosen by the validation accuracies `vals` (default: `accs`)."""
    curve = pd.DataFrame({"n": [1, 4, 16][:len(accs)], "explained_variance": [0.2, 0.5, 0.8][:len(accs)],
                          "fit_seconds": 0.5, "acc_val": vals or accs, "acc_fake": accs, "gan_test_accuracy": 0.99, "inception_score": 9.0,
                          "fid": 100.0, "kid": 0.1, "precision": 0.9, "recall": 0.3, "density": 1.0,
                          "coverage": 0.5, "mean_ssim": 0.25, "copy_share": [0.01, 0.2, 0.9][:len(accs)],
                          "evaluate_seconds": 20.0})
    (results / "plots" / "pca").mkdir(parents=True, exist_ok=True)
    curve.to_csv(results / "plots" / "pca" / f"{mode}.csv", index=False)
    best = curve.loc[curve.acc_val.idxmax()].to_dict()
    write_json(results / "metrics" / "pca" / f"{mode}.json",
               {"mode": mode, "best_n": int(best.pop("n")), "acc_real": 0.97, **best})
    folder = results / "evaluation" / "pca" / mode
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = ImageSet(rng.integers(0, 255, (6, 8, 8, 1), dtype=np.uint8), np.repeat([0, 1], 3), ["a", "b"])
    for n in curve.n:
        images.save(folder / f"preview_n{n:04d}.npz")


def test_pca_rows_quote_the_n_chosen_on_validation_from_its_metrics_file(tmp_path):
    pca_outputs(tmp_path, "sample", [0.8, 0.915, 0.93], vals=[0.8, 0.95, 0.94])  # test would pick n=16
    tables = report_tables([PCAResult("sample", tmp_path)])
    utility, realism, privacy = (tables[t].iloc[0] for t in ("utility", "realism", "privacy"))
    assert utility["Generator"] == realism["Generator"] == privacy["Generator"] == "PCA sample (n=4)"
    assert (utility["Acc (fake)"], privacy["Copies"]) == ("91.5%", "20.0%")
    assert realism["Mean SSIM"] == "0.250" and utility["Train (s)"] == "0"  # fit_seconds 0.5 rounds to 0
    assert utility["Acc (mixed best)"] == "–" and privacy["Attack"] == "–"  # PCA has no mixed sets, no audit


def test_missing_metrics_show_a_dash_not_a_number(tmp_path):
    for table in report_tables([ArchResult("dcgan", tmp_path), PCAResult("reconstruct", tmp_path)]).values():
        assert set(table.iloc[:, 1:].to_numpy().ravel()) == {"–"}
        assert list(table["Generator"]) == ["dcgan", "PCA reconstruct"]


def test_inception_fid_is_a_column_only_where_some_row_measured_it(tmp_path):
    """evaluate.fid_inception is off by default: its column would be dashes in every run that did not ask
    for it. Where one generator has it, the column is there, with a dash for the rows without."""
    def realism_columns() -> list[str]:
        return list(report_tables([ArchResult("dcgan", tmp_path), ArchResult("sngan", tmp_path),
                                   PCAResult("sample", tmp_path)])["realism"].columns)

    write_json(tmp_path / "metrics" / "fidelity" / "dcgan.json", {"fid": 3.0, "kid": 0.01})
    assert "FID" in realism_columns() and "FID (Inception)" not in realism_columns()
    write_json(tmp_path / "metrics" / "fidelity" / "sngan.json", {"fid": 2.0, "fid_inception": 41.25})
    realism = report_tables([ArchResult("dcgan", tmp_path), ArchResult("sngan", tmp_path)])["realism"]
    assert list(realism["FID (Inception)"]) == ["–", "41.250"]
    assert list(realism.columns).index("FID (Inception)") == list(realism.columns).index("FID") + 1


def test_report_has_the_pca_curve_tables_and_every_grid(tmp_path):
    results = tmp_path / "results"
    pca_outputs(results, "sample", [0.8, 0.9, 0.85])
    pca_outputs(results, "reconstruct", [0.7, 0.95, 0.96])
    rng = np.random.default_rng(1)
    real = ImageSet(rng.integers(0, 255, (6, 8, 8, 1), dtype=np.uint8), np.repeat([0, 1], 3), ["a", "b"])
    page = build_report(real, [], tmp_path / "report", 3, {"model": "lenet", "accuracy": 0.97, "test_images": 10},
                        pcas=[PCAResult("sample", results), PCAResult("reconstruct", results)])
    html = page.read_text()
    assert "<h2>PCA baseline</h2>" in html and (page.parent / "pca_curve.png").stat().st_size > 10_000
    for mode in ("sample", "reconstruct"):
        for n in (1, 4, 16):
            assert f'src="pca_{mode}_grid_n{n:04d}.png"' in html
            assert (page.parent / f"pca_{mode}_grid_n{n:04d}.png").is_file()
    assert "PCA reconstruct (n=16)" in html and "96.0%" in html
    md = (page.parent / "report.md").read_text()
    assert "## PCA baseline" in md and "| 16 | 80.0% | 96.0% | 96.0% |" in md


def test_headline_compares_the_best_generator_with_real_and_with_pca_sample(tmp_path):
    for arch, acc in (("dcgan", 0.90), ("sngan", 0.955), ("cdcgan", 0.95)):
        write_json(tmp_path / "metrics" / "tstr" / f"{arch}.json", {"acc_fake": acc, "acc_real": 0.97})
    pca_outputs(tmp_path, "sample", [0.8, 0.925, 0.93], vals=[0.8, 0.95, 0.94])
    archs = [ArchResult(a, tmp_path) for a in ("dcgan", "sngan", "cdcgan")]
    text = headline(archs, [PCAResult("sample", tmp_path)])
    assert text.startswith("Best generator: <b>sngan</b>") and "95.5%" in text
    assert "1.5 points below the same classifier trained on the real images (97.0%)" in text
    assert "3.0 points above the PCA sample baseline (PCA sample (n=4): 92.5%)" in text
    assert text.endswith("beating it: sngan, cdcgan; below it: dcgan.")
    write_json(tmp_path / "metrics" / "tstr" / "dcgan.json", {"acc_fake": 0.93, "acc_real": 0.97})
    assert headline(archs, [PCAResult("sample", tmp_path)]).endswith("every generator beats that baseline.")
    assert headline([ArchResult("wgan_gp", tmp_path)], []) is None


def test_headline_says_a_generator_ties_with_pca_when_the_paired_interval_covers_zero(tmp_path):
    """The summary's paired intervals decide, not the point estimates: sngan is 3 points above PCA
    but its interval reaches 0.4 below, so it ties; cdcgan's whole interval is above."""
    for arch, acc in (("sngan", 0.955), ("cdcgan", 0.95)):
        write_json(tmp_path / "metrics" / "tstr" / f"{arch}.json", {"acc_fake": acc, "acc_real": 0.97})
    pca_outputs(tmp_path, "sample", [0.8, 0.925, 0.93], vals=[0.8, 0.95, 0.94])
    write_json(tmp_path / "metrics" / "summary.json",
               {"sngan": {"vs_pca": [-0.004, 0.061]}, "cdcgan": {"vs_pca": [0.01, 0.04]}})
    archs = [ArchResult(a, tmp_path) for a in ("sngan", "cdcgan")]
    text = headline(archs, [PCAResult("sample", tmp_path)])
    assert ("3.0 points above the PCA sample baseline (PCA sample (n=4): 92.5%), 95 % interval: 0.4 below to "
            "6.1 above (a tie with it)") in text
    assert text.endswith("beating it: cdcgan; tying with it: sngan.")
    write_json(tmp_path / "metrics" / "summary.json",
               {"sngan": {"vs_pca": [0.004, 0.061]}, "cdcgan": {"vs_pca": [0.01, 0.04]}})
    text = headline(archs, [PCAResult("sample", tmp_path)])
    assert "0.4 above to 6.1 above;" in text
    assert text.endswith("every generator beats that baseline (every interval above 0).")


def test_intervals_stand_beside_the_accuracies_and_a_gap_whose_interval_covers_zero_is_a_tie(tmp_path):
    """tstr's own numbers: fake 95.5 % [94.0, 97.0], 0.5 below real with a paired interval of
    1.6 below to 0.6 above (vs_real is fake minus real)."""
    write_json(tmp_path / "metrics" / "tstr" / "sngan.json",
               {"acc_fake": 0.955, "acc_fake_low": 0.94, "acc_fake_high": 0.97, "acc_real": 0.96,
                "acc_real_low": 0.948, "acc_real_high": 0.972, "vs_real": -0.005, "vs_real_low": -0.016,
                "vs_real_high": 0.006, "interval_confidence": 0.95})
    sngan = ArchResult("sngan", tmp_path)
    row = report_tables([sngan])["utility"].iloc[0]
    assert (row["Acc (fake)"], row["vs real (points)"]) == ("95.5% [94.0, 97.0]", "-0.5 [-1.6, +0.6]")
    text = headline([sngan], [])
    assert ("0.5 points below the same classifier trained on the real images (96.0%), 95 % interval: 0.6 above "
            "to 1.6 below (a tie: the interval covers 0)") in text
    write_json(tmp_path / "metrics" / "tstr" / "sngan.json",
               {"acc_fake": 0.93, "acc_real": 0.96, "vs_real_low": -0.042, "vs_real_high": -0.018})
    assert "95 % interval: 1.8 below to 4.2 below." in headline([sngan], [])  # no tie


def test_report_header_says_what_ingest_and_preprocess_did_to_the_data(tmp_path):
    real = ImageSet(np.zeros((4, 8, 8, 1), np.uint8), np.repeat([0, 1], 2), ["a", "b"])
    summary = {"images": {"train": 30, "val": 4, "test": 8}, "skipped": 2}  # ingest's summary.json
    resize = {"image_size": 32,  # preprocess's resize.json
              "upscaled": {"train": 2, "val": 0, "test": 1, "total": 3},
              "cropped_over_half": {"train": 1, "val": 0, "test": 0, "total": 1},
              "examples": {"upscaled": ["a/icon.png", "a/tall.png", "b/s&m.png"], "cropped_over_half": ["b/strip.png"]}}
    page = build_report(real, [], tmp_path / "report", 2, data_summary=summary, resize_summary=resize)
    line = ("Data: 2 unreadable file(s) skipped; 3 of 42 images smaller than 32 px, upscaled "
            "(e.g. a/icon.png, a/tall.png, b/s&m.png); 1 of 42 images longer than 2:1, over half their area "
            "cropped away (e.g. b/strip.png).")
    html = page.read_text()
    assert f"<p>{line.replace('&', '&amp;')}</p>" in html
    assert html.index(line[:30]) < html.index("<h2>Summary</h2>")  # in the header, above the results
    md = (page.parent / "report.md").read_text()
    assert line.replace("&", "&amp;") in md and md.index(line[:30]) < md.index("## Summary")  # shown as "&"
    assert "Data:" not in build_report(real, [], tmp_path / "bare", 2).read_text()  # no summary, no line
    copies = {**summary, "duplicates": {"groups": 2, "images": 5, "label_conflicts": 1, "dropped_from_test": 3,
                                        "examples": [["a/x.png", "a/x_copy.png"]], "conflict_examples": []}}
    md = (build_report(real, [], tmp_path / "copies", 2, data_summary=copies).parent / "report.md").read_text()
    assert ("5 identical images in 2 groups, each kept inside one split (1 groups filed under more than one class); "
            "3 test images that copy a train image dropped (e.g. a/x.png, a/x_copy.png).") in md
    no_copies = {**summary, "duplicates": {"groups": 0, "images": 0, "label_conflicts": 0, "examples": [],
                                           "conflict_examples": []}}
    md = (build_report(real, [], tmp_path / "none", 2, data_summary=no_copies).parent / "report.md").read_text()
    assert "identical" not in md


def test_each_generator_gets_a_verdict_and_only_a_releasable_one_a_folder(tmp_path):
    from synthset.report.sections import release_advice

    rules = shipped().report.release
    for arch, acc, copies, tpr in (("dcgan", 0.95, 0.02, 0.012), ("sngan", 0.80, 0.02, 0.012),
                                   ("cdcgan", 0.95, 0.30, 0.012), ("cgan", 0.95, 0.02, 0.4)):
        write_json(tmp_path / "metrics" / "tstr" / f"{arch}.json", {"acc_fake": acc, "acc_real": 0.96})
        write_json(tmp_path / "metrics" / "memorisation" / f"{arch}.json", {"copy_share": copies, "test_share": 0.05})
        write_json(tmp_path / "metrics" / "audit" / f"{arch}.json",
                   {"strongest": "gan_leaks", "auc": 0.5 + tpr, "tpr_at_0.01": tpr})
    good, useless, copying, leaking = (release_advice(ArchResult(a, tmp_path), rules)
                                       for a in ("dcgan", "sngan", "cdcgan", "cgan"))
    assert good.startswith("<b>Release.</b>") and "results/release/dcgan/" in good
    assert useless.startswith("<b>Do not release.</b>") and "results/release" not in useless
    assert copying.startswith("<b>Do not release.</b>") and "reproduces training images" in copying
    assert leaking.startswith("<b>Do not release.</b>") and "membership in the training set leaks" in leaking
    assert "GAN-Leaks, from the released images" in leaking
    archs = [ArchResult(a, tmp_path) for a in ("dcgan", "sngan", "cdcgan", "cgan")]
    privacy = report_tables(archs, rules)["privacy"]  # the summary's privacy table ends with the same verdicts
    assert list(privacy["Verdict"]) == ["release"] + ["do not release"] * 3
    assert list(privacy.columns[-6:]) == ["Attack", "Attack AUC", "Control AUC (unseen vs unseen)", "Attack TPR@1%FPR",
                                          "DP epsilon", "Verdict"]
    assert release_line(archs, rules) == ("<b>Can I release this?</b> Release: dcgan; do not release: sngan, "
                                          "cdcgan, cgan (each generator's section says why).")


def test_filter_note_names_the_generators_left_unfiltered(tmp_path):
    from synthset.report.sections import filter_note

    write_json(tmp_path / "metrics" / "sample" / "cdcgan.json", {"keep": "agreeing", "kept_share": 0.98})
    write_json(tmp_path / "metrics" / "sample" / "cdcgan_dp.json",
               {"keep": "all", "kept_share": 1.0, "unfiltered_because": "trained with differential privacy"})
    note = filter_note([ArchResult("cdcgan", tmp_path), ArchResult("cdcgan_dp", tmp_path)])
    assert "sample.keep: agreeing" in note and "Not filtered: cdcgan_dp, trained with differential privacy." in note
    assert "temperature" not in note
    write_json(tmp_path / "metrics" / "sample" / "cdcgan.json",
               {"keep": "agreeing", "kept_share": 0.98, "label_temperature": 4.0})
    note = filter_note([ArchResult("cdcgan", tmp_path), ArchResult("cdcgan_dp", tmp_path)])
    assert "probabilities at temperature 4 (sample.label_temperature)" in note


HOSTILE_NAMES = st.sampled_from(["$\\frac{x$", "$$", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
                                 "a & b", "**bold** _it_", "caf\\xe9"])
FOLDER_NAMES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1,
                       max_size=12)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.one_of(HOSTILE_NAMES, FOLDER_NAMES), min_size=2, max_size=4, unique=True))
@example(["$\\frac{x$", "<script>alert(1)</script>", "it's \"quoted\""])
def test_any_class_or_file_name_reaches_figures_report_and_card_as_text(names):
    """Names are the owner's folder and file names: TeX in them does not break a figure, HTML in
    them never becomes markup in the HTML report, report.md or the model card, and each is shown
    as it is (HTML-escaped, which both kinds of viewer show as the characters)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        confusion_png(np.eye(len(names)), names, tmp / "confusion.png", "names")  # mathtext raised here
        rng = np.random.default_rng(0)
        real = ImageSet(rng.integers(0, 255, (2 * len(names), 8, 8, 1), dtype=np.uint8),
                        np.repeat(np.arange(len(names)), 2), names)
        summary = {"skipped": 0, "duplicates": {"groups": 1, "images": 2, "label_conflicts": 0, "dropped_from_test": 0,
                                                "examples": [[f"{n}/x.png" for n in names[:2]]],
                                                "conflict_examples": []}}
        page = build_report(real, [], tmp / "report", 2, data_summary=summary)
        spec = {"arch": "dcgan", "latent_dim": 8, "image_shape": [8, 8, 1], "class_names": names,
                "train_images": 10, "params": {"epochs": 1}}
        for text in (page.read_bytes().decode(), (page.parent / "report.md").read_bytes().decode(),
                     model_card(spec, {})):
            for name in names:
                assert html.escape(name, quote=False) in text or html.escape(name) in text
                if name.startswith(("<script", "<img")):
                    assert name not in text


def arch_outputs(results: Path, arch: str, rng: np.random.Generator, shape=(32, 32, 3)) -> None:
    """What the stages write for one generator, every number the report shows at its widest
    (intervals everywhere, a DP budget), for a layout check."""
    images = ImageSet(rng.integers(0, 255, (8, *shape), dtype=np.uint8), np.repeat(np.arange(4), 2),
                      ["car", "minibus", "pickup", "truck"])
    images.save(results / "samples" / arch / "samples.npz")
    live = results / "live" / "train_gan" / arch
    for name in ("loss_d", "loss_g", "d_acc_real", "d_acc_fake"):
        (live / "plots" / "metrics" / "train").mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"step": range(20), name: rng.random(20)}).to_csv(
            live / "plots" / "metrics" / "train" / f"{name}.tsv", sep="\t", index=False)
    write_json(live / "metrics.json", {"train_seconds": 12345.6, "dp_epsilon": 9.998, "dp_delta": 1e-5})
    shares = {k: 0.8765 for k in ("acc_fake", "acc_real", "acc_mixed_best", "acc_ssim_selected")}
    write_json(results / "metrics" / "tstr" / f"{arch}.json",
               {**shares, "acc_fake_low": 0.8512, "acc_fake_high": 0.8999, "vs_real": -0.1234,
                "vs_real_low": -0.1456, "vs_real_high": -0.1012, "interval_confidence": 0.95})
    write_json(results / "metrics" / "fidelity" / f"{arch}.json",
               {"fid": 1234.567, "kid": 0.01234, "inception_score": 3.456, "precision": 0.876, "recall": 0.543,
                "gan_test_accuracy": 0.9876})
    write_json(results / "metrics" / "sample" / f"{arch}.json", {"keep": "agreeing", "kept_share": 0.8123})
    write_json(results / "metrics" / "ssim" / f"{arch}.json", {"mean": 0.1234})
    write_json(results / "metrics" / "memorisation" / f"{arch}.json", {"copy_share": 0.0123, "test_share": 0.01})
    write_json(results / "metrics" / "audit" / f"{arch}.json",
               {"strongest": "gan_leaks_g", "auc": 0.5123, "auc_ci": [0.4912, 0.5341], "tpr_at_0.01": 0.0123,
                "tpr_at_0.01_ci": [0.005, 0.021], "control_auc": 0.5181, "control_auc_ci": [0.4819, 0.5453],
                "attacks": {"gan_leaks_g": {"description": "GAN-Leaks with G (white-box: the released generator)"}}})


def test_report_fits_a_laptop_screen_with_every_generator_and_pca(tmp_path):
    """Issue 26: at a 1,280 px window the summary's tables, with intervals on every accuracy, eight
    generators and both PCA modes, on colour photos, fit the page: nothing scrolls sideways, neither
    the page nor a table inside it."""
    from browser import check_page

    results, rng = tmp_path / "results", np.random.default_rng(0)
    archs = ["dcgan", "cdcgan", "cdcgan_late", "sngan", "cgan", "wgan_gp", "cdcgan_dp", "ddpm"]
    for arch in archs:
        arch_outputs(results, arch, rng)
    pca_outputs(results, "sample", [0.8, 0.9, 0.85])
    pca_outputs(results, "reconstruct", [0.7, 0.95, 0.96])
    real = ImageSet(rng.integers(0, 255, (8, 32, 32, 3), dtype=np.uint8), np.repeat(np.arange(4), 2),
                    ["car", "minibus", "pickup", "truck"])
    page = build_report(real, [ArchResult(a, results) for a in archs], tmp_path / "report", 2,
                        {"model": "resnet14", "accuracy": 0.94, "test_images": 640},
                        pcas=[PCAResult("sample", results), PCAResult("reconstruct", results)],
                        release_rules=shipped().report.release)
    text = page.read_text()
    for title in ("Utility: ", "Realism: ", "Privacy: "):
        assert f"<h3>{title}" in text
    assert "87.6% [85.1, 90.0]" in text and "-12.3 [-14.6, -10.1]" in text and "GAN-Leaks with G" in text
    assert "1.2% [0.5, 2.1]" in text  # the gating attack with its interval (the audit's tpr_at_0.01_ci)
    assert "0.512 [0.491, 0.534]" in text and "0.518 [0.482, 0.545]" in text  # the AUC, and its control's
    seen = check_page(page)
    assert seen.errors == [] and seen.broken_images == []
    assert seen.window_width == 1280
    assert seen.page_width <= seen.window_width, f"the page is {seen.page_width} px wide"
    assert seen.scrolled_boxes == [], f"these scroll sideways at 1,280 px: {seen.scrolled_boxes}"


def test_one_line_in_the_metric_registry_reaches_report_summary_and_model_card(tmp_path, monkeypatch):
    """Issue 30: a metric is added where it is listed once; the report's table, summary.json (so
    `dvc exp show`) and the release's model card all pick it up from there."""
    from synthset import metric_registry
    from synthset.stages.release import card_metrics
    from synthset.summary import summarize

    results = tmp_path / "results"
    arch_outputs(results, "sngan", np.random.default_rng(0))
    write_json(results / "metrics" / "fidelity" / "sngan.json", {"fid": 12.0, "density": 0.4321})
    write_json(results / "metrics" / "baseline.json", {"accuracy": 0.9})
    density = metric_registry.Metric("density", "fidelity", "Density", "num", "realism", summary="density", card=True)
    params = shipped()
    before = summarize(results, ["sngan"], [], params.report.release, params.evaluate)["sngan"]
    monkeypatch.setattr(metric_registry, "METRICS", (*metric_registry.METRICS, density))
    realism = report_tables([ArchResult("sngan", results)])["realism"]
    assert realism["Density"].tolist() == ["0.432"] and "Density" not in report_tables([])["utility"]
    after = summarize(results, ["sngan"], [], params.report.release, params.evaluate)["sngan"]
    assert after == {**before, "density": 0.4321} and "density" not in before
    assert before["attack_tpr"] == 0.0123 and before["attack_tpr_interval"] == [0.005, 0.021]  # a list: no column
    assert card_metrics(results / "live" / "train_gan" / "sngan", results / "metrics", "sngan")["fidelity.density"] == 0.4321
