# make run   - set up .venv, run the whole pipeline on the embedded MNIST digits (Snakemake, a stage
#              per core; DVC records the outputs), print the report path
# make preset P=presets/photos32.yaml - write a preset's values into params.yaml, then make run
# make diffusion, make dp - the default run with the diffusion model / the DP-SGD cdcgan beside the
#              GANs, as one named dvc experiment (git keeps the baseline's params.yaml)
# make test  - set up .venv, run the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

.PHONY: run preset experiment diffusion dp test install clean

install: $(VENV)/.installed .dvc/offline_plots.html

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv "$(VENV)"
	"$(BIN)/python" -m pip install --upgrade pip
	"$(BIN)/python" -m pip install -e '.[test]'
	touch $@

# dvc plots show / diff pages with Vega inlined, for machines without the internet (synthset.offline_plots)
.dvc/offline_plots.html: $(VENV)/.installed
	"$(BIN)/python" -m synthset.offline_plots

# Snakemake runs the stages side by side, one per core (params.yaml `threads: 1`), the same
# commands as dvc.yaml's; dvc commit then records the outputs in dvc.lock, so `dvc repro`,
# `dvc status` and `dvc exp` take the run as their own. --keep-going: a failed job stops only what
# needs its outputs, and the next `make run` redoes only that (an interrupted GAN resumes from its checkpoint)
# Before it starts: no other run may hold the project (synthset.runlock: the lock dvc repro and the
# Snakefile take); then a Snakemake killed earlier left only its lock and incomplete marks, cleared here;
# outputs a failed job deleted are made again, with what depends on them (synthset.rerun).
# --max-checksum-file-size: a photo (or IDX file) up to 100 MB with a new time but the same bytes
# reruns nothing (Snakemake checksums files up to 1 MB unless told; camera photos are larger)
run: install
	@"$(BIN)/python" -m synthset.runlock
	@"$(BIN)/snakemake" --unlock --quiet all > /dev/null
	"$(BIN)/snakemake" --cores all --keep-going --rerun-incomplete --max-checksum-file-size 100000000 \
		$$("$(BIN)/python" -m synthset.rerun)
	"$(BIN)/dvc" commit --force --quiet
	@echo
	@echo "Report: $(CURDIR)/results/report/index.html"

preset: install
	@test -n "$(P)" || { echo "make preset P=<file>: a preset, e.g. one of: $$(ls presets | tr '\n' ' ')" >&2; exit 2; }
	"$(BIN)/synthset" preset "$(P)"
	@$(MAKE) --no-print-directory run

# A preset as a dvc experiment named after it: `dvc exp run -S ...` with the preset's values, the
# baseline in git; DVC sets the values in the workspace's params.yaml and runs there (git checkout
# params.yaml returns to the baseline); stages the preset does not change come from DVC's run cache
# (after a make run), the others run one at a time (dvc repro)
experiment: install
	@test -n "$(P)" || { echo "make experiment P=<file>: a preset, e.g. one of: $$(ls presets | tr '\n' ' ')" >&2; exit 2; }
	@"$(BIN)/python" -m synthset.runlock
	"$(BIN)/dvc" exp run -n "$(basename $(notdir $(P)))" $$("$(BIN)/synthset" preset --dvc-args "$(P)")
	@echo
	@echo "Report: $(CURDIR)/results/report/index.html  (compare: dvc exp show --only-changed)"

diffusion:
	@$(MAKE) --no-print-directory experiment P=presets/diffusion.yaml

dp:
	@$(MAKE) --no-print-directory experiment P=presets/dp.yaml

# one worker per core: the pipeline tests run their stages one at a time on one thread each,
# so a second worker uses the second core; a test file stays on one worker (its fixtures, SLURM)
test: install
	"$(BIN)/python" -m pytest -n auto --dist loadfile

clean:
	rm -rf results data/prepared logs .snakemake dvc.lock
