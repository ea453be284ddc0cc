"""One-way layers: each package imports only what lies below it, and files stay small.

survey_flows (pure core) < storage (the only SQL) < bot (shared services) < handlers (routers).
The one arrow up is the app assembly mounting the routers. The Bot API emulator is a package of
its own that the product never needs: only the command line (the demo) may start it. The demo
(`demo/`) sits on top of everything: it may import the product and the emulator, and nothing
imports it except `bot/cli.py`, lazily inside the `demo` subcommand.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("survey_flows", "storage", "bot", "handlers")
PACKAGES = (*PRODUCT, "locales", "telegram_emulator", "demo")
MAX_LINES = 500


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every import, relative ones resolved against the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                yield node.lineno, ".".join([*base, *([node.module] if node.module else [])])
            elif node.module:
                yield node.lineno, node.module


def under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# (who, what it must not import, why a reader would care)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "storage",
        ("bot", "handlers", "telegram_emulator", "aiogram", "demo"),
        "storage reaches up into the bot or Telegram",
    ),
    (
        "storage.records",
        ("storage.base", "storage.sqlite", "storage.postgres", "aiosqlite", "asyncpg"),
        "the records every backend shares depend on one",
    ),
    (
        "storage.base",
        ("storage.sqlite", "storage.postgres", "aiosqlite", "asyncpg"),
        "the repository Protocols depend on a backend",
    ),
    (
        "storage.sqlite",
        ("storage.postgres", "asyncpg"),
        "one backend depends on the other",
    ),
    (
        "storage.postgres",
        ("storage.sqlite", "aiosqlite"),
        "one backend depends on the other",
    ),
    (
        "bot",
        ("storage.sqlite", "storage.postgres", "aiosqlite"),
        "a service names a backend (only storage.open chooses one)",
    ),
    (
        "handlers",
        ("storage.sqlite", "storage.postgres", "aiosqlite", "asyncpg"),
        "a router names a backend instead of the Protocols",
    ),
    (
        "bot",
        ("handlers", "telegram_emulator", "demo"),
        "shared services depend on the routers above them (only bot.app mounts them)",
    ),
    ("handlers", ("telegram_emulator", "demo"), "a router depends on the test emulator or demo"),
    ("handlers", ("bot.workers",), "a router drives a worker instead of signalling it"),
    ("survey_flows", ("demo",), "the pure core depends on the demo"),
    (
        "locales",
        ("survey_flows", "storage", "bot", "handlers", "aiogram", "demo"),
        "the catalogues' loader depends on what shows their texts",
    ),
    (
        "bot.config",
        (
            "bot.telegram",
            "bot.views",
            "bot.workers",
            "bot.reports",
            "bot.intake.api",
            "bot.app",
            "bot.cli",
        ),
        "settings depend on the services they configure",
    ),
    (
        "bot.telegram",
        ("bot.views", "bot.workers", "bot.reports", "bot.intake.api", "bot.app", "bot.cli"),
        "the transport depends on what it carries",
    ),
    (
        "bot.views",
        ("bot.workers", "bot.reports", "bot.intake.api", "bot.app", "bot.cli", "bot.telegram"),
        "what people see depends on who sends it",
    ),
    (
        "bot.reports",
        ("bot.workers", "bot.intake.api", "bot.app", "bot.cli"),
        "composing a report depends on the loops that schedule it",
    ),
    ("bot.workers", ("bot.intake.api", "bot.app", "bot.cli"), "a worker depends on the assembly"),
    (
        "bot.conversation",
        ("bot.workers", "bot.intake", "bot.reports", "bot.app", "bot.cli"),
        "the conversation depends on the loops it signals or on the assembly",
    ),
]
# The assembly mounts the routers; the command line starts the emulator for the demo.
EXCEPTIONS = {
    ("bot.app", "handlers"),
    ("bot.cli", "telegram_emulator"),
    ("bot.cli", "demo"),
    # Only to tell the database's own failures (unreachable, refused) from the code's.
    ("bot.process.database", "asyncpg"),
}


def violations(path: Path) -> list[str]:
    me = module_of(path)
    found = []
    for line, target in imports(path):
        for who, banned, why in RULES:
            if not under(me, who) or not under(target, *banned):
                continue
            if any(under(me, m) and under(target, t) for m, t in EXCEPTIONS):
                continue
            found.append(f"{path.relative_to(ROOT)}:{line} imports {target}: {why}")
    return found


@pytest.mark.parametrize("path", sources(*PACKAGES), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_point_down(path: Path) -> None:
    assert violations(path) == []


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports (`from . import x` counts as importing x)."""
    paths = sources(package)
    known = {module_of(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        targets = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names = {
            (node.lineno, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        for line, target in imports(path):
            targets |= {f"{target}.{n}" for at, n in names if at == line} & known
            if target in known:
                targets.add(target)
        graph[module_of(path)] = targets - {module_of(path)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk, each as the modules around it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                walk(target, [*path, target])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            walk(module, [module])
    return found


def test_storage_has_no_import_cycles() -> None:
    """Inside storage too, imports go one way (records < base < the backend's modules), so a
    second backend plugs in beside the first without untangling it."""
    assert cycles(import_graph("storage")) == [], "storage modules import each other in a circle"


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


@pytest.mark.parametrize(
    "path", sources("telegram_emulator"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_emulator_needs_nothing_of_the_product(path: Path) -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for line, target in imports(path)
        if target.split(".")[0] not in sys.stdlib_module_names
        and target.split(".")[0] not in {"telegram_emulator", "aiohttp"}
    ]
    assert bad == [], "the emulator must run on a machine with only aiohttp installed"


def test_the_demo_is_loaded_only_by_its_subcommand() -> None:
    """`survey-bot run` must not load the demo (nor, through it, the emulator): bot/cli.py may
    import it only inside a function, never at module level."""
    tree = ast.parse((ROOT / "bot" / "cli.py").read_text(encoding="utf-8"))
    top = [
        node.lineno
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            under(name, "demo", "telegram_emulator")
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        )
    ]
    assert top == [], f"bot/cli.py imports the demo at module level (line {top})"


def test_the_rules_catch_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: an upward import in a bot module is reported, the assembly's is not."""
    fake = ROOT / "bot" / "workers" / "_layer_probe.py"
    fake.write_text("from handlers import customer\nfrom ..app import run\n", encoding="utf-8")
    try:
        found = violations(fake)
    finally:
        fake.unlink()
    assert len(found) == 2, found
    assert not violations(ROOT / "bot" / "app.py")


@pytest.mark.parametrize("package", sorted({p.parent for p in sources(*PACKAGES)}))
def test_every_subpackage_says_what_it_holds(package: Path) -> None:
    init = package / "__init__.py"
    assert init.exists(), f"{package.relative_to(ROOT)} has no __init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc, f"{init.relative_to(ROOT)} does not say what lives in it"
    assert len(doc.splitlines()[0]) <= 100


@pytest.mark.parametrize(
    "path", sources(*PACKAGES, "tests", "bench"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_files_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{path.relative_to(ROOT)} has {lines} lines: a newcomer cannot take it in; it holds"
        " two ideas, split it"
    )
