"""The pure core stays pure and secrets come from config (layer direction: test_layers.py)."""

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"bot", "handlers", "survey_flows", "storage", "telegram_emulator", "tests", "bench"}
ENV_ALLOWED = {"bot/config/__init__.py"}  # bot/cli.py asks it (environment, log_level)


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level module) for each import; relative imports resolve to the own package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    own = path.relative_to(ROOT).parts[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, own
            elif node.module:
                yield node.lineno, node.module.split(".")[0]


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_there_is_something_to_scan() -> None:
    for pkg in ("survey_flows", "storage", "bot"):
        assert sources(pkg), f"no sources found under {pkg}/: the import checks would prove nothing"


@pytest.mark.parametrize(
    "path", sources("survey_flows"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_survey_flows_uses_only_the_standard_library(path: Path) -> None:
    bad = [
        f"{where(path, line)} imports {mod}"
        for line, mod in imported(path)
        if mod != "survey_flows" and mod not in sys.stdlib_module_names
    ]
    assert not bad, (
        "the pure survey core depends on something outside the standard library, so it can no"
        f" longer be tested or reused without I/O: {bad}"
    )


@pytest.mark.parametrize(
    "path",
    sources("bot", "handlers", "survey_flows", "storage", "telegram_emulator"),
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_environment_is_read_only_by_config(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    if rel in ENV_ALLOWED:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    bad = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in {"getenv", "environ", "environb", "putenv"}
        ):
            bad.append(f"{rel}:{node.lineno} os.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            bad += [
                f"{rel}:{node.lineno} from os import {a.name}"
                for a in node.names
                if a.name in {"getenv", "environ", "environb", "putenv"}
            ]
    assert not bad, (
        "settings read from the environment outside bot/config would bypass config"
        f" validation and its one-line errors: {bad}"
    )
