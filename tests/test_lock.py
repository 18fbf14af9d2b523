"""The lock that `make` installs agrees with pyproject's ranges, and this environment was built from it."""
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def locked_versions() -> dict[str, str]:
    """Name -> version of every pin that applies to this interpreter and platform."""
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        pin, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, _, pinned = pin.strip().partition("==")
        pins[_normal(name)] = pinned
    return pins


def declared_requirements() -> list[Requirement]:
    """What `make` installs: the dependencies and the test and packaging extras, with the extras that one of
    them names in turn (the test set takes sslstudio[tensorboard,parquet])."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted, found = ["test", "packaging"], [Requirement(r) for r in project["dependencies"]]
    while wanted:
        for requirement in map(Requirement, extras[wanted.pop()]):
            if requirement.name == project["name"]:
                wanted += sorted(requirement.extras)
            else:
                found.append(requirement)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_locked_within_its_range():
    pins = locked_versions()
    missing = [str(r) for r in declared_requirements() if _normal(r.name) not in pins]
    assert missing == [], "run `make lock`: these are not in requirements-lock.txt"
    outside = [f"{r} locked at {pins[_normal(r.name)]}" for r in declared_requirements()
               if not r.specifier.contains(pins[_normal(r.name)], prereleases=True)]
    assert outside == [], "run `make lock`: the lock no longer satisfies pyproject"


def test_this_environment_runs_the_locked_versions():
    pins = locked_versions()
    drifted = [f"{r.name} {version(r.name)} (locked {pins[_normal(r.name)]})" for r in declared_requirements()
               if version(r.name) != pins[_normal(r.name)]]
    assert drifted == [], "the venv was not built from requirements-lock.txt; `make clean test` rebuilds it"
