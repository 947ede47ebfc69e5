# The synthset DAG for Snakemake: the same stages, commands, outputs, deps and params as
# dvc.yaml (tests/test_workflows.py checks it). Settings come from params.yaml, validated
# against the schema generated from synthset.params; a job reruns when its outputs are
# missing, its inputs (data and the source files it runs) are newer, or its params changed.
#   snakemake --cores 2                       # this machine
#   snakemake --profile profiles/slurm        # a SLURM cluster (rules with gpu=1 ask for a GPU)
#   snakemake --cores 2 --sdm conda           # in the conda env of envs/synthset.yaml
#   snakemake --report report.zip             # afterwards: the outputs marked report(...) in
#                                             # rules/, with captions from report/, in one archive
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "params.yaml"


validate(config, "schemas/params.schema.json")


report: "report/workflow.rst"


include: "rules/common.smk"


# One run at a time: held from the first job to the end, the lock `dvc repro` holds too
# (synthset.runlock); a second run, by either tool, refuses instead of training the same GAN.
RUN_LOCK = []


onstart:
    from synthset.runlock import hold

    RUN_LOCK.append(hold())


wildcard_constraints:
    arch="|".join(config["gan"]["archs"]),
    mode="sample|reconstruct",


rule all:
    input:
        "results/report",
        "results/metrics/summary.json",
        expand("results/release/{arch}", arch=ARCHS),


include: "rules/data.smk"
include: "rules/gan.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"
