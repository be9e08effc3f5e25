"""The package's layout: no import cycle between udml's modules (counting the imports inside
functions too), no module-level function copied from one module into another, and the folders the
README names are the package's subpackages."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "udml"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The udml modules ``path`` imports anywhere in its body (a name imported from a package
    that is itself a module counts as that module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem
                       for a in node.names]
        else:
            continue
        out.update(t for t in targets if t in modules and t != name)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_planted_cycle():
    graph = import_graph()
    graph["udml.config"] = graph["udml.config"] | {"udml.cli"}  # cli imports config
    assert any({"udml.cli", "udml.config"} <= set(c) for c in cycles(graph))


class _ByPosition(ast.NodeTransformer):
    """Renames a function's arguments to their positions, so that a copy whose arguments were
    renamed still reads as a copy."""

    def __init__(self, fn: ast.FunctionDef | ast.AsyncFunctionDef):
        a = fn.args
        names = [x.arg for x in (*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg) if x]
        self.names = {n: f"_arg{i}" for i, n in enumerate(names)}

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node


def body_of(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The dump of a function's body, its docstring left out and its arguments renamed by
    position."""
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    rename = _ByPosition(fn)
    return "\n".join(ast.dump(rename.visit(stmt)) for stmt in body)


def copies(sources: dict[str, str]) -> dict[str, list[str]]:
    """{function name: the modules defining it} for each module-level function (public or
    private) that two or more of ``sources`` ({module: source text}) define with one body."""
    where: dict[tuple[str, str], list[str]] = {}
    for module, text in sources.items():
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where.setdefault((node.name, body_of(node)), []).append(module)
    return {name: sorted(mods) for (name, _), mods in where.items() if len(mods) > 1}


def package_sources() -> dict[str, str]:
    return {module_name(p): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}


def test_no_function_is_defined_twice():
    """A function two modules define with the same name and body belongs in one of them (or a
    module both import), so that a fix reaches every caller."""
    assert copies(package_sources()) == {}


def test_copy_finder_finds_a_planted_copy():
    sources = {"a": 'def _f(x, *, k=1):\n    """One."""\n    return x + k\n',
               "b": "def _f(y, *, j=1):\n    return y + j\n",   # arguments renamed: a copy
               "c": "def _f(x, *, k=1):\n    return x - k\n",   # another body: not a copy
               "d": "def g(x, *, k=1):\n    return x + k\n"}    # another name: not a copy
    assert copies(sources) == {"_f": ["a", "b"]}
    real = package_sources()
    planted = copies({**real, "udml.planted": real["udml.paths"]})  # a module copied whole
    assert planted["atomic_write"] == ["udml.paths", "udml.planted"]


@pytest.mark.parametrize("package", ["method", "models", "training", "experiments", "analysis",
                                     "corrupt", "data", "plotting", "book", "bench", "av"])
def test_subpackage_says_what_it_holds(package):
    init = PACKAGE / package / "__init__.py"
    assert init.is_file()
    assert ast.get_docstring(ast.parse(init.read_text())), f"udml/{package} has no docstring"
