"""No two parts of webapp import each other (a part: a subpackage or a top-level module).

Features depend one way: clips on recordings, shares on both, the library page on both, tasks on
everything; the bottom (config, errors, media, storage, delivery, jobs) on no feature. The app
factory in webapp/__init__.py puts them together and is left out.
"""
import ast
from collections import defaultdict

from webapp.config import PROJECT_ROOT

WEBAPP = PROJECT_ROOT / "webapp"


def imports_between_parts():
    """{part: {other part: [files of part that import it]}} over every import, top-level or not."""
    edges = defaultdict(lambda: defaultdict(list))
    for path in WEBAPP.rglob("*.py"):
        relative = path.relative_to(WEBAPP)
        part = relative.parts[0].removesuffix(".py")
        if part == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "webapp":
                modules = [f"webapp.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                if module.startswith("webapp.") and module.split(".")[1] != part:
                    edges[part][module.split(".")[1]].append(str(relative))
    return edges


def test_no_two_parts_import_each_other():
    edges = imports_between_parts()
    both_ways = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, {})})
    assert both_ways == [], {f"{a} <-> {b}": (edges[a][b], edges[b][a]) for a, b in both_ways}


def test_the_bottom_imports_no_feature():
    features = {"auth", "recordings", "clips", "shares", "library", "posters", "tasks"}
    edges = imports_between_parts()
    for part in ("config", "errors", "media", "storage", "delivery", "jobs", "extensions", "security"):
        assert not features & set(edges.get(part, {})), (part, dict(edges[part]))
