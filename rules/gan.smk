rule train_gan:
    input:
        train=rules.preprocess.output.train,
        code=code("train_gan"),
    output:
        model=directory("results/models/{arch}"),
        figures=report(directory("results/figures/{arch}"), patterns=["{name}.png"],
                       caption="../report/training.rst", category="Training", subcategory="{arch}"),
        live=report("results/live/train_gan/{arch}/metrics.json", caption="../report/training_metrics.rst",
                    category="Training", subcategory="{arch}"),
        curves=directory("results/live/train_gan/{arch}/plots/metrics"),
    params:
        settings=settings("train_gan"),
        live=lambda wildcards, output: os.path.dirname(output.live),
        checkpoints="results/checkpoints/{arch}",  # resumable state a rerun continues from (not an output)
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/train_gan/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.train_gan --arch {wildcards.arch}"
        " --train {input.train} --model {output.model}"
        " --live {params.live} --figures {output.figures}"
        " --checkpoints {params.checkpoints} 2> {log}"


rule sample:
    input:
        model=rules.train_gan.output.model,
        filter="results/classifier/filter",
        code=code("sample"),
    output:
        samples="results/samples/{arch}/samples.npz",
        stats="results/metrics/sample/{arch}.json",
    params:
        settings=settings("sample"),
    threads: THREADS
    resources:
        gpu=1,
    log:
        "logs/sample/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.sample --arch {wildcards.arch} --model {input.model} --filter {input.filter}"
        " --out {output.samples} --stats {output.stats} 2> {log}"


rule release:
    input:
        model=rules.train_gan.output.model,
        live=rules.train_gan.output.live,
        filter="results/classifier/filter",
        sample="results/metrics/sample/{arch}.json",
        tstr="results/metrics/tstr/{arch}.json",
        fidelity="results/metrics/fidelity/{arch}.json",
        memorisation="results/metrics/memorisation/{arch}.json",
        audit="results/metrics/audit/{arch}.json",
        ssim="results/metrics/ssim/{arch}.json",
        code=code("release"),
    output:
        release=report(directory("results/release/{arch}"), patterns=["{name}.md"], caption="../report/release.rst",
                       category="Release", subcategory="{arch}"),
    params:
        settings=settings("release"),
        live=lambda wildcards, input: os.path.dirname(input.live),
    log:
        "logs/release/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.release --arch {wildcards.arch} --model {input.model}"
        " --live {params.live} --metrics results/metrics --filter {input.filter} --out {output.release} 2> {log}"
