"""README.md is the guide and docs/*.md the manual (issue 26): the README stays short, every
page is reachable from it, and what they tell a reader to type exists: relative links and
their #anchors, `make` targets, `python -m synthset.*` modules, `synthset` subcommands and
preset files. Reads files only: no network, no subprocess."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_MAX_LINES = 300  # issue 26: a guide of about 250 lines, 300 at most
FENCE = re.compile(r"^(```|~~~)")


def docs_pages() -> list[Path]:
    return sorted((ROOT / "docs").glob("*.md"))


def all_pages() -> list[Path]:
    return [README, *docs_pages()]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def split_code(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(prose lines, fenced code lines), each as (line number, text)."""
    prose, code, fenced = [], [], False
    for number, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif fenced:
            code.append((number, line))
        else:
            prose.append((number, line))
    return prose, code


def prose_text(text: str) -> str:
    """The text with its fenced code blocks blanked, so offsets still give line numbers."""
    prose, _ = split_code(text)
    keep = dict(prose)
    return "\n".join(keep.get(number, "") for number in range(1, text.count("\n") + 2))


# an `inline code` span, which may wrap onto the next line of its paragraph
INLINE = re.compile(r"`((?:[^`\n]|\n(?!\s*\n))+)`")


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def code_snippets(text: str) -> list[tuple[int, str]]:
    """Everything a reader may type: fenced code lines and `inline code` spans of the prose."""
    _, code = split_code(text)
    prose = prose_text(text)
    inline = [(line_of(prose, m.start()), m.group(1).replace("\n", " ")) for m in INLINE.finditer(prose)]
    return code + inline


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped (not - or _), spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose, _ = split_code(path.read_text())
    found: set[str] = set()
    for _, line in prose:
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings: x, x-1, x-2
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every Markdown link outside code that is not a URL; a link's text may
    hold `code` and wrap onto the next line."""
    prose = prose_text(path.read_text())
    # inline code is text, not markup: blank its brackets (a `[low, high]` is no link)
    masked = INLINE.sub(lambda m: re.sub(r"[\[\]()]", " ", m.group(0)), prose)
    links = []
    for match in re.finditer(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", masked):
        target = match.group(1)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            links.append((line_of(masked, match.start(1)), target))
    return links


def broken_links(path: Path) -> list[str]:
    problems = []
    for number, target in relative_links(path):
        where = f"{rel(path)}:{number}: ({target})"
        file_part, _, anchor = target.partition("#")
        if target.startswith("/"):
            problems.append(f"{where} is absolute; links must be relative")
            continue
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{where} points to {file_part}, which does not exist")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading in {rel(dest)} has the anchor #{anchor} "
                            f"(it has: {', '.join(sorted(anchors(dest)))})")
        elif anchor and dest.suffix != ".md":
            problems.append(f"{where}: an #anchor into {file_part}, which is not a Markdown page")
    return problems


def make_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


def make_commands(text: str) -> list[tuple[int, str]]:
    """(line, target) for every `make ...` in code: the first word after make that is neither an
    option (-C) nor a variable (P=...); a bare `make` has no target to check."""
    found = []
    for number, snippet in code_snippets(text):
        for match in re.finditer(r"(?:^|[\s;&|(])make((?:\s+[^\s;&|#)]+)*)", snippet):
            words = [w for w in match.group(1).split() if not w.startswith("-") and "=" not in w]
            if words:
                found.append((number, words[0]))
    return found


def cli_subcommands() -> set[str]:
    return set(re.findall(r"""add_parser\(\s*["']([\w-]+)["']""", (ROOT / "src/synthset/cli.py").read_text()))


def synthset_commands(text: str) -> list[tuple[int, str]]:
    """(line, subcommand) for every `synthset <word>` in code; `python -m synthset.x` and paths
    such as src/synthset/ are not the command."""
    found = []
    for number, snippet in code_snippets(text):
        for match in re.finditer(r"(?:^|[\s;&|(\"'])synthset\s+([A-Za-z][\w-]*)", snippet):
            if not re.search(r"\binstall\b[^;&|]*$", snippet[:match.start()]):  # pip install synthset
                found.append((number, match.group(1)))
    return found


def test_readme_is_a_guide_not_the_manual():
    lines = README.read_text().count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines, more than {README_MAX_LINES}: move the detail into a docs/ page "
        "and link it (issue 26)")


def test_every_docs_page_has_a_title_and_a_link_back():
    problems = []
    for page in docs_pages():
        lines = page.read_text().split("\n")
        if not lines[0].startswith("# "):
            problems.append(f"{rel(page)}:1 does not start with a '# ' title line")
        if "(../README.md)" not in "\n".join(lines[:4]):
            problems.append(f"{rel(page)}: no link back to ../README.md in its first lines")
    assert docs_pages(), "docs/ holds no page"
    assert not problems, "\n".join(problems)


def test_relative_links_and_anchors_exist():
    problems = [problem for page in all_pages() for problem in broken_links(page)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for _, target in relative_links(README)}
    unlinked = [rel(page) for page in docs_pages() if page.resolve() not in linked]
    assert not unlinked, f"README.md links no {', '.join(unlinked)}: add it to the Documentation list"


def test_make_targets_named_in_the_docs_exist():
    targets = make_targets()
    assert {"run", "test"} <= targets, f"Makefile parsed wrong: {sorted(targets)}"
    unknown = [f"{rel(page)}:{number}: make {target}" for page in all_pages()
               for number, target in make_commands(page.read_text()) if target not in targets]
    assert not unknown, (f"not a Makefile target ({', '.join(sorted(targets))}):\n" + "\n".join(unknown))


def test_python_m_modules_named_in_the_docs_exist():
    missing = []
    for page in all_pages():
        for number, line in enumerate(page.read_text().split("\n"), 1):
            for module in re.findall(r"python3?\s+-m\s+(synthset(?:\.[A-Za-z_]\w*)*)(?![\w.]*<)", line):
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{rel(page)}:{number}: python -m {module}")
    assert not missing, "no such module:\n" + "\n".join(missing)


def test_synthset_subcommands_named_in_the_docs_exist():
    subcommands = cli_subcommands()
    assert {"generate", "preset"} <= subcommands, f"cli.py parsed wrong: {sorted(subcommands)}"
    unknown = [f"{rel(page)}:{number}: synthset {command}" for page in all_pages()
               for number, command in synthset_commands(page.read_text()) if command not in subcommands]
    assert not unknown, (f"not a subcommand of src/synthset/cli.py ({', '.join(sorted(subcommands))}):\n"
                         + "\n".join(unknown))


def test_presets_named_in_the_docs_exist():
    """presets/<name>.yaml anywhere, and a bare `<name>.yaml` in code (the seeds' table names
    presets without the folder): each is a file, at the root or in presets/."""
    missing = []
    for page in all_pages():
        text = page.read_text()
        named = [(n, m) for n, line in enumerate(text.split("\n"), 1)
                 for m in re.findall(r"(?<![\w/.<-])(presets/[\w.-]+\.yaml)", line)]
        named += [(n, m) for n, snippet in code_snippets(text)
                  for m in re.findall(r"(?<![\w/.<>-])([\w-][\w.-]*\.yaml)\b", snippet)]
        missing += [f"{rel(page)}:{n}: {name}" for n, name in named
                    if not (ROOT / name).is_file() and not (ROOT / "presets" / name).is_file()]
    assert not missing, "no such preset or file:\n" + "\n".join(missing)


@pytest.mark.parametrize("heading, expected", [
    ("Comparing settings with `dvc exp`", "comparing-settings-with-dvc-exp"),
    ("Seed 004's five data sets", "seed-004s-five-data-sets"),
    ("Can I release this?", "can-i-release-this"),
    ("The race-car setup (seeds 000 and 002)", "the-race-car-setup-seeds-000-and-002"),
])
def test_slugs_follow_github(heading, expected):
    assert slug(heading) == expected
