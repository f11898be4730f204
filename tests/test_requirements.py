"""`make run` installs requirements.txt only: every package the app imports must come with it (listed,
or a dependency of one listed), not only with requirements-test.txt (requests once did, and `make run`
failed on a fresh clone while the suite passed)."""
import ast
import re
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires

from packaging.requirements import Requirement

from webapp.config import PROJECT_ROOT


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements():
    names = set()
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\[=<>~!; ]", line)[0]))
    return names


def with_their_dependencies(names):
    """The distributions that installing `names` brings (extras left out, as pip would)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            needs = requires(name) or []
        except PackageNotFoundError:
            continue
        for text in needs:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonical(requirement.name))
    return seen


def imported_top_level_modules(paths):
    modules = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"webapp", "__future__"}


def test_every_package_the_app_imports_is_a_runtime_requirement():
    distributions = packages_distributions()
    installed_by_make_run = with_their_dependencies(runtime_requirements())
    app_files = [*(PROJECT_ROOT / "webapp").rglob("*.py"), PROJECT_ROOT / "wsgi.py", PROJECT_ROOT / "gunicorn.conf.py"]
    missing = {}
    for module in imported_top_level_modules(app_files):
        owners = {canonical(name) for name in distributions.get(module, [module])}
        if not owners & installed_by_make_run:
            missing[module] = sorted(owners)
    assert missing == {}, f"imported by the app but not installed by requirements.txt: {missing}"
