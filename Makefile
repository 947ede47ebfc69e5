# make run   - set up .venv, run the whole pipeline on the embedded MNIST digits (Snakemake, a stage
#              per core; DVC records the outputs), print the report path
# make preset P=presets/photos32.yaml - write a preset's values into params.yaml, then make run
# make test  - set up .venv, run the test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

.PHONY: run preset test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv "$(VENV)"
	"$(BIN)/python" -m pip install --upgrade pip
	"$(BIN)/python" -m pip install -e '.[test]'
	touch $@

# Snakemake runs the stages side by side, one per core (params.yaml `threads: 1`), the same
# commands as dvc.yaml's; dvc commit then records the outputs in dvc.lock, so `dvc repro`,
# `dvc status` and `dvc exp` take the run as their own. --keep-going: a failed job stops only what
# needs its outputs, and the next `make run` redoes only that (an interrupted GAN resumes from its checkpoint)
# Before it starts: no other run may hold the project (synthset.runlock: the lock dvc repro and the
# Snakefile take); then a Snakemake killed earlier left only its lock and incomplete marks, cleared here;
# outputs a failed job deleted are made again, with what depends on them (synthset.rerun)
run: install
	@"$(BIN)/python" -m synthset.runlock
	@"$(BIN)/snakemake" --unlock --quiet all > /dev/null
	"$(BIN)/snakemake" --cores all --keep-going --rerun-incomplete $$("$(BIN)/python" -m synthset.rerun)
	"$(BIN)/dvc" commit --force --quiet
	@echo
	@echo "Report: $(CURDIR)/results/report/index.html"

preset: install
	@test -n "$(P)" || { echo "make preset P=<file>: a preset, e.g. one of: $$(ls presets | tr '\n' ' ')" >&2; exit 2; }
	"$(BIN)/synthset" preset "$(P)"
	@$(MAKE) --no-print-directory run

# one worker per core: the pipeline tests run their stages one at a time on one thread each,
# so a second worker uses the second core; a test file stays on one worker (its fixtures, SLURM)
test: install
	"$(BIN)/python" -m pytest -n auto --dist loadfile

clean:
	rm -rf results data/prepared logs .snakemake dvc.lock
