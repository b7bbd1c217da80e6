"""The package's shape: data flows one way (data -> nets/methods -> train -> metrics ->
experiments -> cli), with no circle of imports, lazy (function-level) imports included."""
import ast
from pathlib import Path

import csacgan

ROOT = Path(csacgan.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Every csacgan module and the csacgan modules it imports anywhere in its body."""
    graph = {}
    for path in ROOT.rglob("*.py"):
        name, deps = _module(path), set()
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("csacgan"):
                    deps.add(target)
                    deps.update(f"{target}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("csacgan"))
        graph[name] = deps
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_no_circle_of_imports():
    graph = imports()

    def parents(m):  # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = m.split(".")
        return {".".join(parts[:i]) for i in range(2, len(parts))} & set(graph)

    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph[m] | (parents(m) - {m})):
            if d in stack and state.get(d) == "open" and not m.startswith(d + "."):
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_layers_import_only_downwards():
    graph = imports()
    above_files = ("csacgan.checkpoint", "csacgan.nets", "csacgan.methods", "csacgan.data", "csacgan.fit",
                   "csacgan.train", "csacgan.metrics", "csacgan.evaluate", "csacgan.augment", "csacgan.experiments",
                   "csacgan.cli", "csacgan.run_folder")
    below = {  # a module of the key's layer may not import any of these
        # the ground floor: errors, then files (atomic writes, locks), then the fitting loop
        "csacgan.errors": ("csacgan.",),
        "csacgan.files": above_files,
        "csacgan.classifier_losses": ("csacgan.",),
        "csacgan.fit": ("csacgan.checkpoint", "csacgan.methods", "csacgan.train", "csacgan.metrics",
                        "csacgan.evaluate", "csacgan.experiments", "csacgan.cli"),
        "csacgan.data": ("csacgan.nets", "csacgan.methods", "csacgan.train", "csacgan.metrics",
                         "csacgan.evaluate", "csacgan.augment", "csacgan.experiments", "csacgan.cli"),
        "csacgan.nets": ("csacgan.methods", "csacgan.train", "csacgan.metrics", "csacgan.experiments", "csacgan.cli"),
        "csacgan.methods": ("csacgan.train", "csacgan.metrics", "csacgan.evaluate", "csacgan.experiments",
                            "csacgan.cli"),
        "csacgan.metrics": ("csacgan.train", "csacgan.evaluate", "csacgan.experiments", "csacgan.cli"),
        "csacgan.evaluate": ("csacgan.train", "csacgan.experiments"),
        "csacgan.augment": ("csacgan.train", "csacgan.experiments", "csacgan.sampler"),
    }
    wrong = [(m, d) for m, deps in graph.items() for layer, banned in below.items()
             if m == layer or m.startswith(layer + ".") for d in deps if d.startswith(banned)]
    assert not wrong, wrong
