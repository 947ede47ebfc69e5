rule train_classifier:
    input:
        train=rules.preprocess.output.train,
        val=rules.preprocess.output.val,
        test=rules.preprocess.output.test,
        code=code("train_classifier"),
    output:
        classifier=report(directory("results/classifier/real"), patterns=["{name}.png"],
                          caption="../report/baseline.rst", category="Utility (TSTR)", subcategory="real baseline"),
        filter=directory("results/classifier/filter"),
        metrics=report("results/metrics/baseline.json", caption="../report/baseline.rst",
                       category="Utility (TSTR)", subcategory="real baseline"),
    params:
        settings=settings("train_classifier"),
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/train_classifier.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.train_classifier --train {input.train}"
        " --val {input.val} --test {input.test} --out {output.classifier}"
        " --metrics {output.metrics} --filter-out {output.filter} 2> {log}"


rule ssim:
    input:
        samples=rules.sample.output.samples,
        train=rules.preprocess.output.train,
        code=code("ssim"),
    output:
        evaluation=report(directory("results/evaluation/ssim/{arch}"), patterns=["{name}.png"],
                          caption="../report/ssim.rst", category="Realism (SSIM)", subcategory="{arch}"),
        metrics=report("results/metrics/ssim/{arch}.json",
                       caption="../report/ssim.rst", category="Realism (SSIM)", subcategory="{arch}"),
        selected="results/samples/{arch}/ssim_selected.npz",
    params:
        settings=settings("ssim"),
    threads: THREADS
    log:
        "logs/ssim/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.ssim --arch {wildcards.arch} --samples {input.samples}"
        " --train {input.train} --out {output.evaluation}"
        " --selected {output.selected} --metrics {output.metrics} 2> {log}"


rule inception_real:
    input:
        train=rules.preprocess.output.train,
        test=rules.preprocess.output.test,
        code=code("inception_real"),
    output:
        features="results/features/inception_real.npz",
    params:
        settings=settings("inception_real"),
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/inception_real.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.inception_real --train {input.train} --test {input.test}"
        " --out {output.features} 2> {log}"


rule fidelity:
    input:
        samples=rules.sample.output.samples,
        train=rules.preprocess.output.train,
        test=rules.preprocess.output.test,
        classifier=rules.train_classifier.output.classifier,
        real_inception=rules.inception_real.output.features,
        code=code("fidelity"),
    output:
        evaluation=report(directory("results/evaluation/fidelity/{arch}"), patterns=["{name}.png"],
                          caption="../report/fidelity.rst", category="Realism (FID family)", subcategory="{arch}"),
        metrics=report("results/metrics/fidelity/{arch}.json",
                       caption="../report/fidelity.rst", category="Realism (FID family)", subcategory="{arch}"),
    params:
        settings=settings("fidelity"),
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/fidelity/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.fidelity --arch {wildcards.arch} --samples {input.samples}"
        " --train {input.train} --test {input.test} --classifier {input.classifier}"
        " --out {output.evaluation} --metrics {output.metrics} --real-inception {input.real_inception} 2> {log}"


rule tstr:
    input:
        samples=rules.sample.output.samples,
        selected=rules.ssim.output.selected,
        train=rules.preprocess.output.train,
        test=rules.preprocess.output.test,
        baseline=rules.train_classifier.output.metrics,
        classifier=rules.train_classifier.output.classifier,
        code=code("tstr"),
    output:
        evaluation=report(directory("results/evaluation/tstr/{arch}"), patterns=["{name}.png"],
                          caption="../report/tstr.rst", category="Utility (TSTR)", subcategory="{arch}"),
        metrics=report("results/metrics/tstr/{arch}.json",
                       caption="../report/tstr.rst", category="Utility (TSTR)", subcategory="{arch}"),
        curve=report("results/plots/mixed/{arch}.csv",
                     caption="../report/tstr.rst", category="Utility (TSTR)", subcategory="{arch}"),
    params:
        settings=settings("tstr"),
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/tstr/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.tstr --arch {wildcards.arch} --samples {input.samples}"
        " --selected {input.selected} --train {input.train} --test {input.test}"
        " --baseline {input.baseline} --classifier {input.classifier} --out {output.evaluation}"
        " --metrics {output.metrics} --curve {output.curve} 2> {log}"


rule memorisation:
    input:
        samples=rules.sample.output.samples,
        train=rules.preprocess.output.train,
        test=rules.preprocess.output.test,
        classifier=rules.train_classifier.output.classifier,
        code=code("memorisation"),
    output:
        evaluation=report(directory("results/evaluation/memorisation/{arch}"), patterns=["{name}.png"],
                          caption="../report/memorisation.rst", category="Privacy", subcategory="{arch}"),
        metrics=report("results/metrics/memorisation/{arch}.json",
                       caption="../report/memorisation.rst", category="Privacy", subcategory="{arch}"),
    params:
        settings=settings("memorisation"),
    threads: THREADS
    resources:
        gpu=1,
    log:
        "logs/memorisation/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.memorisation --arch {wildcards.arch} --samples {input.samples}"
        " --train {input.train} --test {input.test} --classifier {input.classifier}"
        " --out {output.evaluation} --metrics {output.metrics} 2> {log}"


rule filter_references:
    input:
        train=rules.preprocess.output.train,
        val=rules.preprocess.output.val,
        test=rules.preprocess.output.test,
        code=code("filter_references"),
    output:
        references="results/classifier/filter_references.npz",
    params:
        settings=settings("filter_references"),
    threads: THREADS
    resources:
        gpu=1,
    log:
        "logs/filter_references.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.filter_references --train {input.train} --val {input.val}"
        " --test {input.test} --out {output.references} 2> {log}"


rule audit:
    input:
        samples=rules.sample.output.samples,
        model=rules.train_gan.output.model,
        filter=rules.train_classifier.output.filter,
        references=rules.filter_references.output.references,
        train=rules.preprocess.output.train,
        val=rules.preprocess.output.val,
        test=rules.preprocess.output.test,
        code=code("audit"),
    output:
        evaluation=report(directory("results/evaluation/audit/{arch}"), patterns=["{name}.png"],
                          caption="../report/audit.rst", category="Privacy", subcategory="{arch}"),
        metrics=report("results/metrics/audit/{arch}.json",
                       caption="../report/audit.rst", category="Privacy", subcategory="{arch}"),
    params:
        settings=settings("audit"),
    threads: THREADS
    resources:
        gpu=1,
    log:
        "logs/audit/{arch}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.audit --arch {wildcards.arch} --samples {input.samples}"
        " --model {input.model} --filter {input.filter} --references {input.references}"
        " --train {input.train} --val {input.val}"
        " --test {input.test} --out {output.evaluation} --metrics {output.metrics} 2> {log}"


rule pca:
    input:
        train=rules.preprocess.output.train,
        val=rules.preprocess.output.val,
        test=rules.preprocess.output.test,
        classifier=rules.train_classifier.output.classifier,
        filter=rules.train_classifier.output.filter,
        baseline=rules.train_classifier.output.metrics,
        real_inception=rules.inception_real.output.features,
        code=code("pca"),
    output:
        evaluation=report(directory("results/evaluation/pca/{mode}"), patterns=["{name}.png"],
                          caption="../report/pca.rst", category="PCA baseline", subcategory="{mode}"),
        metrics=report("results/metrics/pca/{mode}.json", caption="../report/pca.rst", category="PCA baseline",
                       subcategory="{mode}"),
        curve=report("results/plots/pca/{mode}.csv", caption="../report/pca.rst", category="PCA baseline",
                     subcategory="{mode}"),
    params:
        settings=settings("pca"),
    threads: THREADS
    resources:
        gpu=1,
        mem_mb=4000,
    log:
        "logs/pca/{mode}.log",
    conda:
        "../envs/synthset.yaml"
    shell:
        "python -m synthset.stages.pca --mode {wildcards.mode} --train {input.train}"
        " --val {input.val} --test {input.test} --classifier {input.classifier}"
        " --baseline {input.baseline} --filter {input.filter} --out {output.evaluation}"
        " --metrics {output.metrics} --curve {output.curve} --real-inception {input.real_inception} 2> {log}"
