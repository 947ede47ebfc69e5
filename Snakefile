# The synthset DAG for Snakemake: the same stages, commands and outputs as dvc.yaml
# (tests/test_workflows.py checks it). Parameters come from params.yaml; a rule
# reruns when its outputs are missing, its inputs are newer, or its params changed.
#   snakemake --cores 2                       # this machine
#   snakemake --profile profiles/slurm        # a SLURM cluster (GPU rules ask for gpu=1)
#   snakemake --cores 2 --sdm conda           # in the conda env of envs/synthset.yaml
#   snakemake --report report.zip             # afterwards: the outputs marked report(...) below,
#                                             # with captions from report/, in one browsable archive

configfile: "params.yaml"


report: "report/workflow.rst"

ARCHS = config["gan"]["archs"]
PCA_MODES = config["pca"]["modes"]


rule all:
    input:
        "results/report",
        expand("results/release/{arch}", arch=ARCHS),


rule ingest:
    output:
        "data/prepared/ingest/train.npz",
        "data/prepared/ingest/val.npz",
        "data/prepared/ingest/test.npz",
        "data/prepared/ingest/skipped.csv",
        report("data/prepared/ingest/summary.json", caption="report/data.rst", category="Data"),
    params:
        data=config["data"],
        color=config["preprocess"]["color"],
    log:
        "logs/ingest.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.ingest --out data/prepared/ingest 2> {log}"


rule preprocess:
    input:
        "data/prepared/ingest/train.npz",
        "data/prepared/ingest/val.npz",
        "data/prepared/ingest/test.npz",
    output:
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/val.npz",
        "data/prepared/preprocess/test.npz",
    params:
        preprocess=config["preprocess"],
    log:
        "logs/preprocess.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.preprocess --ingested data/prepared/ingest --out data/prepared/preprocess 2> {log}"


rule train_gan:
    input:
        "data/prepared/preprocess/train.npz",
    output:
        directory("results/models/{arch}"),
        report(directory("results/figures/{arch}"), patterns=["{name}.png"], caption="report/training.rst",
               category="Training", subcategory="{arch}"),
        report("results/live/train_gan/{arch}/metrics.json", caption="report/training_metrics.rst",
               category="Training", subcategory="{arch}"),
        directory("results/live/train_gan/{arch}/plots/metrics"),
    params:
        arch=lambda w: config["gan"][w.arch],
        seed=config["gan"]["seed"],
        device=config["device"],
        threads=config["threads"],
    threads: 2
    resources:
        gpu=1,
    log:
        "logs/train_gan/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.train_gan --arch {wildcards.arch}"
        " --train data/prepared/preprocess/train.npz --model results/models/{wildcards.arch}"
        " --live results/live/train_gan/{wildcards.arch} --figures results/figures/{wildcards.arch}"
        " --checkpoints results/checkpoints/{wildcards.arch} 2> {log}"


rule sample:
    input:
        "results/models/{arch}",
    output:
        report(directory("results/samples/{arch}"), patterns=["{name}.png"], caption="report/samples.rst",
               category="Samples", subcategory="{arch}"),
    params:
        sample=config["sample"],
        grid=config["report"]["grid_per_class"],
        device=config["device"],
    resources:
        gpu=1,
    log:
        "logs/sample/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.sample --arch {wildcards.arch} --model results/models/{wildcards.arch}"
        " --out results/samples/{wildcards.arch} 2> {log}"


rule train_classifier:
    input:
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/val.npz",
        "data/prepared/preprocess/test.npz",
    output:
        report(directory("results/classifier/real"), patterns=["{name}.png"], caption="report/baseline.rst",
               category="Utility (TSTR)", subcategory="real baseline"),
        report("results/metrics/baseline.json", caption="report/baseline.rst",
               category="Utility (TSTR)", subcategory="real baseline"),
    params:
        classify=config["classify"],
        device=config["device"],
        threads=config["threads"],
    threads: 2
    resources:
        gpu=1,
    log:
        "logs/train_classifier.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.train_classifier --train data/prepared/preprocess/train.npz"
        " --val data/prepared/preprocess/val.npz --test data/prepared/preprocess/test.npz --out results/classifier/real"
        " --metrics results/metrics/baseline.json 2> {log}"


rule ssim:
    input:
        "results/samples/{arch}",
        "data/prepared/preprocess/train.npz",
    output:
        report(directory("results/evaluation/ssim/{arch}"), patterns=["{name}.png"],
               caption="report/ssim.rst", category="Realism (SSIM)", subcategory="{arch}"),
        report("results/metrics/ssim/{arch}.json",
               caption="report/ssim.rst", category="Realism (SSIM)", subcategory="{arch}"),
    params:
        k=config["evaluate"]["ssim_k"],
        keep=config["evaluate"]["ssim_keep"],
        seed=config["evaluate"]["seed"],
    log:
        "logs/ssim/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.ssim --arch {wildcards.arch} --samples results/samples/{wildcards.arch}/samples.npz"
        " --train data/prepared/preprocess/train.npz --out results/evaluation/ssim/{wildcards.arch}"
        " --metrics results/metrics/ssim/{wildcards.arch}.json 2> {log}"


rule fidelity:
    input:
        "results/samples/{arch}",
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/test.npz",
        "results/classifier/real",
    output:
        report(directory("results/evaluation/fidelity/{arch}"), patterns=["{name}.png"],
               caption="report/fidelity.rst", category="Realism (FID family)", subcategory="{arch}"),
        report("results/metrics/fidelity/{arch}.json",
               caption="report/fidelity.rst", category="Realism (FID family)", subcategory="{arch}"),
    params:
        evaluate={k: config["evaluate"][k] for k in
                  ("features", "inception_path", "kid_subsets", "kid_subset_size", "prdc_k", "seed")},
        device=config["device"],
    resources:
        gpu=1,
    log:
        "logs/fidelity/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.fidelity --arch {wildcards.arch} --samples results/samples/{wildcards.arch}/samples.npz"
        " --train data/prepared/preprocess/train.npz --test data/prepared/preprocess/test.npz"
        " --classifier results/classifier/real --out results/evaluation/fidelity/{wildcards.arch}"
        " --metrics results/metrics/fidelity/{wildcards.arch}.json 2> {log}"


rule tstr:
    input:
        "results/samples/{arch}",
        "results/evaluation/ssim/{arch}",
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/test.npz",
        "results/metrics/baseline.json",
    output:
        report(directory("results/evaluation/tstr/{arch}"), patterns=["{name}.png"],
               caption="report/tstr.rst", category="Utility (TSTR)", subcategory="{arch}"),
        report("results/metrics/tstr/{arch}.json",
               caption="report/tstr.rst", category="Utility (TSTR)", subcategory="{arch}"),
    params:
        classify=config["classify"],
        evaluate={k: config["evaluate"][k] for k in ("fake_per_class", "mixed_fractions", "seed")},
        device=config["device"],
        threads=config["threads"],
    threads: 2
    resources:
        gpu=1,
    log:
        "logs/tstr/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.tstr --arch {wildcards.arch} --samples results/samples/{wildcards.arch}/samples.npz"
        " --selected results/evaluation/ssim/{wildcards.arch}/selected.npz"
        " --train data/prepared/preprocess/train.npz --test data/prepared/preprocess/test.npz"
        " --baseline results/metrics/baseline.json --out results/evaluation/tstr/{wildcards.arch}"
        " --metrics results/metrics/tstr/{wildcards.arch}.json 2> {log}"


rule privacy:
    input:
        "results/samples/{arch}",
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/test.npz",
        "results/classifier/real",
    output:
        report(directory("results/evaluation/privacy/{arch}"), patterns=["{name}.png"],
               caption="report/privacy.rst", category="Privacy", subcategory="{arch}"),
        report("results/metrics/privacy/{arch}.json",
               caption="report/privacy.rst", category="Privacy", subcategory="{arch}"),
    params:
        quantile=config["evaluate"]["copy_quantile"],
        device=config["device"],
    log:
        "logs/privacy/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.privacy --arch {wildcards.arch} --samples results/samples/{wildcards.arch}/samples.npz"
        " --train data/prepared/preprocess/train.npz --test data/prepared/preprocess/test.npz"
        " --classifier results/classifier/real --out results/evaluation/privacy/{wildcards.arch}"
        " --metrics results/metrics/privacy/{wildcards.arch}.json 2> {log}"


rule pca:
    input:
        "data/prepared/preprocess/train.npz",
        "data/prepared/preprocess/val.npz",
        "data/prepared/preprocess/test.npz",
        "results/classifier/real",
        "results/metrics/baseline.json",
    output:
        report(directory("results/evaluation/pca/{mode}"), patterns=["{name}.png"], caption="report/pca.rst",
               category="PCA baseline", subcategory="{mode}"),
        report("results/metrics/pca/{mode}.json", caption="report/pca.rst", category="PCA baseline",
               subcategory="{mode}"),
        report("results/plots/pca/{mode}.csv", caption="report/pca.rst", category="PCA baseline",
               subcategory="{mode}"),
    params:
        pca=config["pca"],
        per_class=config["sample"]["per_class"],
        classify=config["classify"],
        evaluate=config["evaluate"],
        grid=config["report"]["grid_per_class"],
        device=config["device"],
        threads=config["threads"],
    threads: 2
    resources:
        gpu=1,
    log:
        "logs/pca/{mode}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.pca --mode {wildcards.mode} --train data/prepared/preprocess/train.npz"
        " --val data/prepared/preprocess/val.npz --test data/prepared/preprocess/test.npz --classifier results/classifier/real"
        " --baseline results/metrics/baseline.json --out results/evaluation/pca/{wildcards.mode}"
        " --metrics results/metrics/pca/{wildcards.mode}.json --curve results/plots/pca/{wildcards.mode}.csv 2> {log}"


rule release:
    input:
        "results/models/{arch}",
        "results/live/train_gan/{arch}/metrics.json",
        "results/metrics/tstr/{arch}.json",
        "results/metrics/fidelity/{arch}.json",
        "results/metrics/privacy/{arch}.json",
        "results/metrics/ssim/{arch}.json",
    output:
        report(directory("results/release/{arch}"), patterns=["{name}.md"], caption="report/release.rst",
               category="Release", subcategory="{arch}"),
    log:
        "logs/release/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.release --arch {wildcards.arch} --model results/models/{wildcards.arch}"
        " --live results/live/train_gan/{wildcards.arch} --metrics results/metrics"
        " --out results/release/{wildcards.arch} 2> {log}"


rule report:
    input:
        "data/prepared/preprocess/train.npz",
        expand("results/samples/{arch}", arch=ARCHS),
        expand("results/live/train_gan/{arch}/metrics.json", arch=ARCHS),
        expand("results/figures/{arch}", arch=ARCHS),
        "results/classifier/real",
        "results/metrics/baseline.json",
        expand("results/metrics/{kind}/{arch}.json", kind=("ssim", "fidelity", "tstr", "privacy"), arch=ARCHS),
        expand("results/evaluation/{kind}/{arch}", kind=("ssim", "fidelity", "tstr", "privacy"), arch=ARCHS),
        expand("results/evaluation/pca/{mode}", mode=PCA_MODES),
        expand("results/metrics/pca/{mode}.json", mode=PCA_MODES),
        expand("results/plots/pca/{mode}.csv", mode=PCA_MODES),
    output:
        # a folder of HTML and images: `snakemake --report report.zip` (a single .html cannot hold it)
        report(directory("results/report"), htmlindex="index.html", caption="report/report.rst",
               category="Report"),
    params:
        archs=ARCHS,
        pca_modes=PCA_MODES,
        report=config["report"],
    log:
        "logs/report.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.report --train data/prepared/preprocess/train.npz --results results"
        " --out results/report 2> {log}"
