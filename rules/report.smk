rule summary:
    input:
        baseline=rules.train_classifier.output.metrics,
        metrics=expand("results/metrics/{kind}/{arch}.json", kind=("sample", "tstr", "fidelity", "memorisation", "audit"),
                       arch=ARCHS),
        pca=expand("results/metrics/pca/{mode}.json", mode=PCA_MODES),
        live=expand("results/live/train_gan/{arch}/metrics.json", arch=ARCHS),
        # each test image's answers: the paired differences to PCA sample and of private to non-private
        answers=expand("results/evaluation/{kind}/{name}", zip, kind=["tstr"] * len(ARCHS) + ["pca"] * len(PCA_MODES),
                       name=ARCHS + PCA_MODES),
        code=code("summary"),
    output:
        summary="results/metrics/summary.json",
    params:
        settings=settings("summary"),
    log:
        "logs/summary.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.summary --results results --out {output.summary} 2> {log}"


rule report:
    input:
        train=rules.preprocess.output.train,
        data_summary=rules.ingest.output.summary,
        resize_summary=rules.preprocess.output.resize,
        samples=expand("results/samples/{arch}/samples.npz", arch=ARCHS),
        live=expand("results/live/train_gan/{arch}/metrics.json", arch=ARCHS),
        figures=expand("results/figures/{arch}", arch=ARCHS),
        classifier=rules.train_classifier.output.classifier,
        baseline=rules.train_classifier.output.metrics,
        metrics=expand("results/metrics/{kind}/{arch}.json", kind=("sample", "ssim", "fidelity", "tstr", "memorisation", "audit"),
                       arch=ARCHS),
        summary=rules.summary.output.summary,
        evaluation=expand("results/evaluation/{kind}/{arch}", kind=("ssim", "fidelity", "tstr", "memorisation", "audit"),
                            arch=ARCHS),
        pca=expand("results/evaluation/pca/{mode}", mode=PCA_MODES),
        pca_metrics=expand("results/metrics/pca/{mode}.json", mode=PCA_MODES),
        plots=expand("results/plots/{kind}/{name}.csv", zip, kind=["mixed"] * len(ARCHS) + ["pca"] * len(PCA_MODES),
                     name=ARCHS + PCA_MODES),
        code=code("report"),
    output:
        # a folder of HTML and images: `snakemake --report report.zip` (a single .html cannot hold it)
        report=report(directory("results/report"), htmlindex="index.html", caption="../report/report.rst",
                      category="Report"),
    params:
        settings=settings("report"),
    log:
        "logs/report.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.report --train {input.train} --results results"
        " --data-summary {input.data_summary} --resize-summary {input.resize_summary} --out {output.report} 2> {log}"
