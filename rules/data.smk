rule ingest:
    input:
        source=images_read,
        code=code("ingest"),
    output:
        train=f"{INGESTED}/train.npz",
        val=f"{INGESTED}/val.npz",
        test=f"{INGESTED}/test.npz",
        skipped=f"{INGESTED}/skipped.csv",
        summary=report(f"{INGESTED}/summary.json", caption="../report/data.rst", category="Data"),
    params:
        settings=settings("ingest"),
        out=lambda wildcards, output: os.path.dirname(output.train),
    log:
        "logs/ingest.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.ingest --out {params.out} 2> {log}"


rule preprocess:
    input:
        train=rules.ingest.output.train,
        val=rules.ingest.output.val,
        test=rules.ingest.output.test,
        code=code("preprocess"),
    output:
        train=f"{PREP}/train.npz",
        val=f"{PREP}/val.npz",
        test=f"{PREP}/test.npz",
        resize=report(f"{PREP}/resize.json", caption="../report/data.rst", category="Data"),
    params:
        settings=settings("preprocess"),
        ingested=lambda wildcards, input: os.path.dirname(input.train),
        out=lambda wildcards, output: os.path.dirname(output.train),
    log:
        "logs/preprocess.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.preprocess --ingested {params.ingested} --out {params.out} 2> {log}"
