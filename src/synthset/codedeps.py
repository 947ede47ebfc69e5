"""Which source code each stage runs: the code dependencies of the workflow.

A stage must rerun when the code it runs changes, and only then. The stage script's
imports, followed through the package (lazy imports inside functions included), give the
modules it can run; they are named at the grain of the package's folders (a subpackage is
one dependency, a top-level module is its file), the grain dvc.yaml lists them at. The
Snakefile asks this module for its rules' code inputs; tests/test_workflows.py checks
dvc.yaml against it.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "synthset"


def _file(module: str, src: Path) -> Path | None:
    path = src.joinpath(*module.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


@cache
def _imports(module: str, src: Path) -> frozenset[str]:
    """Package modules `module` imports anywhere in its source, with their parent packages
    (importing a.b.c runs a/__init__.py and a/b/__init__.py)."""
    path = _file(module, src)
    if path is None:
        raise ValueError(f"{module}: no such module under {src}")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            names = [f"{target}.{a.name}" for a in node.names]
            found |= {n if _file(n, src) else target for n in names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    found = {m for m in found if m.split(".")[0] == PACKAGE and _file(m, src)}
    return frozenset(".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 2))


def modules_run_by(stage: str, src: Path = Path("src")) -> set[str]:
    """Every package module the stage script `synthset.stages.<stage>` can run."""
    seen, todo = set(), [f"{PACKAGE}.stages.{stage}"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += _imports(module, src)
    return seen


def stage_code(stage: str, src: str | Path = "src") -> list[str]:
    """The stage's code dependencies, as paths from the project root (src's parent): a
    subpackage's folder, a top-level module's file; under stages/ the files themselves."""
    src = Path(src)
    paths = set()
    for module in modules_run_by(stage, src):
        parts = module.split(".")
        if len(parts) == 1 or parts[1] == "stages":
            path = _file(module, src)
        elif (src / PACKAGE / parts[1]).is_dir():
            path = src / PACKAGE / parts[1]
        else:
            path = _file(module, src)
        if path.name != "__init__.py" or path.stat().st_size:  # an empty __init__ runs nothing
            paths.add(path.relative_to(src.parent).as_posix())
    return sorted(paths)


def stage_code_files(stage: str, src: str | Path = "src") -> list[str]:
    """stage_code with folders listed as their .py files (Snakemake watches files, not folders)."""
    root = Path(src).parent
    files = []
    for path in stage_code(stage, src):
        if (root / path).is_dir():
            files += sorted(p.relative_to(root).as_posix() for p in (root / path).rglob("*.py"))
        else:
            files.append(path)
    return files
