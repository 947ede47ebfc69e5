# The synthset DAG for Snakemake: the same stages, commands and outputs as dvc.yaml
# (tests/test_workflows.py checks it). Parameters come from params.yaml; a rule
# reruns when its outputs are missing, its inputs are newer, or its params changed.
#   snakemake --cores 2                       # this machine
#   snakemake --profile profiles/slurm        # a SLURM cluster (GPU rules ask for gpu=1)
#   snakemake --cores 2 --sdm conda           # in the conda env of envs/synthset.yaml

configfile: "params.yaml"

ARCHS = config["gan"]["archs"]


rule all:
    input:
        "results/report",
        expand("results/release/{arch}", arch=ARCHS),


rule ingest:
    output:
        "data/prepared/ingest/train.npz",
        "data/prepared/ingest/test.npz",
        "data/prepared/ingest/skipped.csv",
        "data/prepared/ingest/summary.json",
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
        "data/prepared/ingest/test.npz",
    output:
        "data/prepared/preprocess/train.npz",
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
        directory("results/figures/{arch}"),
        "results/live/train_gan/{arch}/metrics.json",
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
        directory("results/samples/{arch}"),
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


rule release:
    input:
        "results/models/{arch}",
        "results/live/train_gan/{arch}/metrics.json",
    output:
        directory("results/release/{arch}"),
    log:
        "logs/release/{arch}.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.release --arch {wildcards.arch} --model results/models/{wildcards.arch}"
        " --live results/live/train_gan/{wildcards.arch} --out results/release/{wildcards.arch} 2> {log}"


rule report:
    input:
        "data/prepared/preprocess/train.npz",
        expand("results/samples/{arch}", arch=ARCHS),
        expand("results/live/train_gan/{arch}/metrics.json", arch=ARCHS),
        expand("results/figures/{arch}", arch=ARCHS),
    output:
        directory("results/report"),
    params:
        archs=ARCHS,
        report=config["report"],
    log:
        "logs/report.log",
    conda:
        "envs/synthset.yaml"
    shell:
        "python -m synthset.stages.report --train data/prepared/preprocess/train.npz --results results"
        " --out results/report 2> {log}"
