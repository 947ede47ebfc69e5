#!/usr/bin/env bash
# The photo preset's sngan at the SN-GAN papers' widths, scored on the vehicles' validation split, on a
# GPU machine that has PyTorch but no internet and none of synthset's other dependencies (issue 28: on
# one CPU core a width of 128 costs 9.1 s a step, so the papers' networks were never tried on photos).
#
# Here, once the photo preset's preprocess and filter exist (`make preset P=presets/photos32.yaml`, or
# in a clone with the preset applied: `snakemake --cores 2 results/classifier/filter`):
#
#   bash benchmarks/gpu_photo_widths.sh kit [PREPARED] [FILTER]
#
# puts into .device-kit/ (git-ignored, about 15 MB): wheels of what synthset imports beyond what the GPU
# machine's image holds (built for its Python, KIT_PYTHON, default 3.12, at this machine's versions), the
# vehicles' train and validation splits, the pipeline's filter (so the GPU keeps the draws a CPU run
# keeps) and params.yaml with the photo preset applied. There, with .device-kit/ carried along:
#
#   bash benchmarks/gpu_photo_widths.sh run [OUT] [WIDTHS]
#
# installs the wheels (no index), trains sngan at each width (default "32 128": the preset's width is the
# baseline, measured in the same run) side by side on the one GPU, scores each at epochs 50, 100 and 150
# with `synthset validate` (2 classifier seeds, the 256 validation photos), and prints each width's
# accuracy and training time against the baseline's. The test split is never read. DEVICE (default cuda),
# AT (default 50,100,150) and SETTINGS (more -S overrides) let the same run be tried on a CPU first, e.g.
# DEVICE=cpu AT=2 SETTINGS="-S gan.sngan.epochs=2 -S sample.per_class=20 -S classify.epochs=1". ARCH (default
# sngan) asks the same of another arch in the preset's gan.archs, e.g. ARCH=cdcgan.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${KIT:-.device-kit}  # another folder: for the test that runs it on a CPU

kit() {
    local prepared=${1:-data/prepared/preprocess} filter=${2:-results/classifier/filter}
    local python=${KIT_PYTHON:-3.12}
    for f in "$prepared/train.npz" "$prepared/val.npz" "$filter/model.pt" "$filter/spec.json"; do
        [[ -f $f ]] || { echo "missing $f: run the photo preset's preprocess and train_classifier first" >&2; exit 2; }
    done
    rm -rf "$KIT" && mkdir -p "$KIT/prepared" "$KIT/filter" "$KIT/wheels"
    cp "$prepared/train.npz" "$prepared/val.npz" "$KIT/prepared/"
    cp "$filter/model.pt" "$filter/spec.json" "$KIT/filter/"
    cp params.yaml "$KIT/params.yaml"
    synthset preset presets/photos32.yaml --params "$KIT/params.yaml" > /dev/null
    # What `synthset validate` imports (dvclive pulls in part of DVC) beyond what the GPU machine's image
    # holds (PyTorch, numpy, pandas, scipy, scikit-learn/-image, matplotlib, requests, ...), pinned to the
    # versions installed here; the CPU test in a fresh environment of those found nothing else missing
    local wanted=(annotated-types atpublic configobj diskcache dpath dulwich dvc dvc-data dvc-http dvc-objects
        dvc-render dvc-studio-client dvclive flatten-dict flufl-lock funcy orjson platformdirs pydantic
        pydantic-core pydot pygtrie pysocks ruamel-yaml scmrepo sqltrie typing-inspection voluptuous wcwidth
        zc-lockfile)
    local pins
    pins=$(python - "${wanted[@]}" <<'EOF'
import importlib.metadata as md, sys
print(" ".join(f"{name}=={md.version(name)}" for name in sys.argv[1:]))
EOF
)
    # shellcheck disable=SC2086  # one argument per pin
    python -m pip download --quiet --no-deps --only-binary=:all: -d "$KIT/wheels" --python-version "$python" \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 $pins
    du -sh "$KIT"
}

run() {
    local out=${1:-${OUT:-results/gpu_photo_widths}} widths=${2:-32 128}
    [[ -d $KIT/wheels ]] || { echo "no $KIT: build it with 'bash $0 kit' where the photo preset ran" >&2; exit 2; }
    mkdir -p "$out"
    local wheels=()
    mapfile -t wheels < <(compgen -G "$KIT/wheels/*.whl" || true)
    if ((${#wheels[@]})); then python3 -m pip install --quiet --no-index --no-deps "${wheels[@]}"; fi
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
    fi
    export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
    local width pids=() arch=${ARCH:-sngan}
    for width in $widths; do
        # shellcheck disable=SC2086  # SETTINGS: one argument per word
        python3 -m synthset.cli validate "$arch" --params "$KIT/params.yaml" --prepared "$KIT/prepared" \
            --filter "$KIT/filter" -S device="${DEVICE:-cuda}" -S gan."$arch".width="$width" --at "${AT:-50,100,150}" \
            ${SETTINGS:-} \
            --log "$out/width$width.jsonl" > "$out/width$width.log" 2>&1 &
        pids+=($!)
    done
    local failed=0 pid
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    # shellcheck disable=SC2086  # one argument per width
    python3 - "$out" "$arch" $widths <<'EOF'
import json, sys
from pathlib import Path
out, arch, widths = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
rows = {w: {r["epoch"]: r for r in map(json.loads, (out / f"width{w}.jsonl").open())}
        for w in widths if (out / f"width{w}.jsonl").exists()}
base = rows.get(widths[0], {})
first = next((r for by_epoch in rows.values() for r in by_epoch.values()), None)
bar = f"; the filter reads them at {first['real_filter_acc_val']:.1%}" if first else ""
print(f"{arch} on the vehicles' validation photos, width {widths[0]} the baseline{bar}")
for w, by_epoch in rows.items():
    for epoch, r in sorted(by_epoch.items()):
        b = base.get(epoch)
        vs = (f"; {100 * (r['acc_val'] - b['acc_val']):+.1f} points, {r['train_seconds'] / b['train_seconds']:.2f}x "
              f"the baseline's training time" if b and w != widths[0] else "")
        print(f"width {w:>4} epoch {epoch:>3}: {r['acc_val']:.1%} [{r['acc_val_low']:.1%}, {r['acc_val_high']:.1%}] "
              f"(seeds {', '.join(f'{a:.1%}' for a in r['acc_val_seeds'])}), kept {r['kept_share']:.1%}, "
              f"trained {r['train_seconds']:.0f} s{vs}")
EOF
    if ((failed)); then tail -n 5 "$out"/width*.log >&2; exit 1; fi
}

case ${1:-} in
    kit) shift; kit "$@" ;;
    run) shift; run "$@" ;;
    *) echo "usage: bash $0 kit [PREPARED] [FILTER] | run [OUT] [WIDTHS]" >&2; exit 2 ;;
esac
