# What every stage shares: paths, the params each one reads and the code each one runs.
# Plain Python (tests/test_workflows.py reads STAGE_PARAMS from here and checks it against dvc.yaml).
import os

from snakemake.io import WILDCARD_REGEX

from synthset.codedeps import stage_code_files
from synthset.data.sources import files_read
from synthset.params import ClassifyParams

ARCHS = config["gan"]["archs"]
PCA_MODES = config["pca"]["modes"]
INGESTED = "data/prepared/ingest"
PREP = "data/prepared/preprocess"
# Each torch job reserves the threads params.yaml gives torch (`threads`; 0 = torch's default,
# every core, so the job reserves every core it is given). The stages read `threads` from
# params.yaml as under DVC, so both runners give the same numbers: the thread count moves them.
THREADS = config["threads"] or workflow.cores

# params.yaml keys each stage reads ("{arch}", "{mode}": its wildcard), as dvc.yaml lists them
EVALUATE_PCA = [f"evaluate.{k}" for k in ("fake_per_class", "ssim_k", "features", "inception_path", "fid_inception",
                                          "kid_subsets", "kid_subset_size", "prdc_k", "copy_quantile",
                                          "interval_bootstrap", "interval_confidence", "seed")]
# what one classifier fit reads, for a stage that fits the recipe once
CLASSIFY_RECIPE = [f"classify.{k}" for k in ClassifyParams.RECIPE]
STAGE_PARAMS = {
    "ingest": ["data", "preprocess.color"],
    "preprocess": ["preprocess"],
    "train_gan": ["device", "threads", "gan.seed", "gan.defaults", "gan.{arch}"],
    "sample": ["device", "threads", "sample"],
    "train_classifier": ["device", "threads", "classify", "evaluate.interval_bootstrap", "evaluate.interval_confidence",
                         "evaluate.seed"],
    "ssim": ["threads", "evaluate.ssim_k", "evaluate.ssim_keep", "evaluate.seed"],
    "inception_real": ["device", "threads"] + [f"evaluate.{k}" for k in ("features", "inception_path", "fid_inception",
                                                                         "seed")],
    "fidelity": ["device", "threads"] + [f"evaluate.{k}" for k in ("features", "inception_path", "fid_inception",
                                                                   "kid_subsets", "kid_subset_size", "prdc_k", "seed")],
    "tstr": ["device", "threads", "classify"] + [f"evaluate.{k}" for k in ("fake_per_class", "mixed_fractions",
                                                                         "interval_bootstrap", "interval_confidence",
                                                                         "seed")],
    "memorisation": ["device", "threads", "evaluate.copy_quantile"],
    "filter_references": ["device", "threads", "sample.keep"] + CLASSIFY_RECIPE + [
        f"evaluate.{k}" for k in ("audit_candidates", "audit_references", "seed")],
    "audit": ["device", "threads", "sample.keep"] + [f"evaluate.{k}" for k in ("audit_candidates", "audit_bootstrap",
                                                                "audit_confidence", "audit_delta",
                                                                "audit_latent_inits", "audit_latent_restarts",
                                                                "audit_latent_steps", "audit_latent_lr", "seed")],
    "pca": ["device", "threads", "pca", "sample.per_class", "sample.keep", "sample.label_temperature",
            "classify"] + EVALUATE_PCA,
    "release": ["sample.keep", "sample.label_temperature", "report.release"],
    "summary": ["gan.archs", "pca.modes", "report.release", "evaluate.interval_bootstrap",
                "evaluate.interval_confidence", "evaluate.seed"],
    "report": ["gan.archs", "pca.modes", "report"],
}


def setting(key):
    value = config
    for part in key.split("."):
        value = value[part]
    return value


def settings(stage):
    """The stage's params as {key: value}: Snakemake reruns a job when one of them changes."""
    def of(wildcards):
        return {key.format(**wildcards): setting(key.format(**wildcards)) for key in STAGE_PARAMS[stage]}
    return of


def images_read(wildcards):
    """Ingest's inputs: the files it reads, one by one, so that a copied folder (new times, same bytes)
    reruns nothing (sources.files_read). A name Snakemake cannot take as a file (one with `{name}` in
    it reads as a wildcard, a line break it warns about) puts the folder in their place, as before:
    then only the folder's own time counts."""
    data = config["data"]
    files = files_read(data["source"], data["path"], data["classes"])
    if any(WILDCARD_REGEX.search(f) or "\n" in f or "\r" in f for f in files):
        return [data["path"]]
    return files


def code(stage):
    """The source files the stage runs (synthset.codedeps follows its imports)."""
    return stage_code_files(stage)
