"""`pip install .` puts one package into site-packages: xpsync, with xpsync.bots, xpsync.listener and
the SQL as package data; an installed wheel finds its migrations without a checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# what a wheel is built from (the rest of the checkout must not matter)
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "xpsync", "bots", "listener", "sql")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work / "dist"),
         str(src)], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (found,) = (work / "dist").glob("xpsync-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_holds_one_top_level_package_and_every_module_and_sql_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    name, version = wheel.name.split("-")[:2]
    assert {n.split("/")[0] for n in names} == {"xpsync", f"{name}-{version}.dist-info"}
    expected = {f"xpsync/{p.relative_to(ROOT / 'xpsync')}" for p in (ROOT / "xpsync").rglob("*.py")}
    expected |= {f"xpsync/{top}/{p.relative_to(ROOT / top)}" for top in ("bots", "listener")
                 for p in (ROOT / top).rglob("*.py")}
    expected |= {f"xpsync/sql/{p.relative_to(ROOT / 'sql')}" for p in (ROOT / "sql").rglob("*.sql")}
    assert expected - names == set()  # every module and every SQL file is installed
    assert "xpsync/py.typed" in names


@pytest.mark.slow
def test_an_installed_wheel_finds_its_migrations_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    probe = ("import xpsync, xpsync.migrate as m; found = m.migrations(); "
             "print(xpsync.__file__); print(found[0].path); print(len(found))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(site)},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    module, where, count = result.stdout.split()
    assert module.startswith(str(site)) and where.startswith(str(site))
    from xpsync.migrate import migrations

    assert int(count) == len(migrations()) > 0
