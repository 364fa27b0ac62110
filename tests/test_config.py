"""Config discovery and validation: a bad key or value is an error, never ignored."""
from __future__ import annotations

import pytest

from tenantlint.checked_settings import load_checked_settings
from tenantlint.config import ConfigError, find_config, load_settings


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_config(tmp_path):
    settings = load_settings(cwd=tmp_path)
    assert settings.tenant_columns == ("tenant_id",)
    assert settings.root == tmp_path.resolve()
    assert settings.dialect == "postgres"


def test_pyproject_section_found_walking_up(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.tenantlint]\ntenant-columns = ["Org_ID"]\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    settings = load_settings(cwd=nested)
    assert settings.tenant_columns == ("org_id",)
    assert settings.root == tmp_path.resolve()


def test_pyproject_without_section_is_skipped(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    write(tmp_path / "sub" / "pyproject.toml", "[tool.black]\nline-length = 80\n")
    assert find_config(tmp_path / "sub") is None


def test_tenantlint_toml_top_level_keys(tmp_path):
    write(tmp_path / "tenantlint.toml", 'tenant-tables = ["orders"]\nrequire-rls = true\n')
    settings = load_settings(cwd=tmp_path)
    assert settings.tenant_tables == ("orders",)
    assert settings.require_rls is True


def test_explicit_config_file(tmp_path):
    config = write(tmp_path / "conf" / "custom.toml", 'dialect = "mysql"\n')
    settings = load_settings(config, cwd=tmp_path)
    assert settings.dialect == "mysql"
    # An explicit config says how to lint, not what the project is: the current folder's.
    assert settings.root == tmp_path.resolve()


@pytest.mark.parametrize("text, fragment", [
    ('tenant-colums = ["x"]\n', "unknown key `tenant-colums`"),
    ('tenant_columns = ["x"]\n', "did you mean `tenant-columns`"),
    ('tenant-columns = "tenant_id"\n', "`tenant-columns` must be a list of strings"),
    ('tenant-columns = []\n', "at least one column"),
    ('trust-rls = "yes"\n', "`trust-rls` must be true or false"),
    ('dialect = "cobol"\n', "`dialect` must be one of"),
    ('select = ["TL999"]\n', "unknown rule code `TL999`"),
    ('per-file-ignores = {"tests/*" = ["XX1"]}\n', "unknown rule code `XX1`"),
    ('caches = ["x"]\n', "`caches` must be a table"),
    ('max-file-size = -1\n', "positive number"),
    ('tenant-columns = [\n', "invalid TOML"),
])
def test_bad_config_is_an_error_naming_the_problem(tmp_path, text, fragment):
    write(tmp_path / "tenantlint.toml", text)
    with pytest.raises(ConfigError) as info:
        load_checked_settings(cwd=tmp_path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_explicit_config(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", cwd=tmp_path)


def test_prefix_codes_are_accepted(tmp_path):
    write(tmp_path / "tenantlint.toml", 'select = ["TL1", "TL301"]\nignore = ["TL104"]\n')
    settings = load_settings(cwd=tmp_path)
    assert settings.select == ("TL1", "TL301")


def test_without_config_the_root_is_the_enclosing_project(tmp_path):
    (tmp_path / ".git").mkdir()
    nested = tmp_path / "app" / "views"
    nested.mkdir(parents=True)
    assert load_settings(cwd=nested).root == tmp_path.resolve()


def test_without_any_project_marker_the_root_is_the_current_folder(tmp_path):
    nested = tmp_path / "loose"
    nested.mkdir()
    markers = (".git", ".hg", "pyproject.toml", "setup.cfg", "setup.py")
    if any((p / m).exists() for p in nested.resolve().parents for m in markers):
        pytest.skip("the temporary folder is itself inside a project")
    assert load_settings(cwd=nested).root == nested.resolve()


def _outside_any_project(folder) -> bool:
    markers = (".git", ".hg", "pyproject.toml", "setup.cfg", "setup.py", "tenantlint.toml")
    return not any((p / m).exists() for p in (folder.resolve(), *folder.resolve().parents) for m in markers)


def test_from_outside_any_project_the_scanned_projects_config_is_used(tmp_path):
    """`tenantlint scan ~/proj/src` run from the home folder: the catalog pass must read
    ~/proj with its config, not the whole home folder."""
    home, proj = tmp_path / "home", tmp_path / "home" / "proj"
    (proj / "src").mkdir(parents=True)
    if not _outside_any_project(home):
        pytest.skip("the temporary folder is itself inside a project")
    write(proj / "tenantlint.toml", 'tenant-columns = ["org_id"]\n')
    settings = load_settings(cwd=home, targets=["proj/src"])
    assert settings.root == proj.resolve() and settings.tenant_columns == ("org_id",)
    (proj / "tenantlint.toml").unlink()
    (proj / ".git").mkdir()
    assert load_settings(cwd=home, targets=[str(proj / "src" / "x.py")]).root == proj.resolve()


def test_scan_targets_inside_the_current_project_keep_its_root(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "tenantlint.toml", 'tenant-columns = ["org_id"]\n')
    settings = load_settings(cwd=tmp_path, targets=["sub"])  # the config is found from the cwd, as the SPEC says
    assert settings.root == tmp_path.resolve() and settings.config_file is None


def test_explicit_pyproject_without_our_section_is_an_error(tmp_path):
    config = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.tenantlint\] section"):
        load_settings(config, cwd=tmp_path)


def test_a_found_config_roots_at_its_repository(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / "ci" / "tenantlint.toml", 'tenant-columns = ["org_id"]\n')
    settings = load_settings(cwd=tmp_path / "ci")
    assert settings.root == tmp_path.resolve() and settings.tenant_columns == ("org_id",)


def test_an_explicit_config_roots_at_the_repository_around_the_current_folder(tmp_path):
    repo, shared = tmp_path / "repo", tmp_path / "shared" / "tenantlint.toml"
    (repo / ".git").mkdir(parents=True)
    (repo / "app").mkdir()
    write(shared, 'tenant-columns = ["org_id"]\n')
    settings = load_settings(shared, cwd=repo / "app", targets=["."])
    assert settings.root == repo.resolve() and settings.config_file == shared.resolve()
    # Relative to the current folder, as in ruff.
    assert load_settings("../../shared/tenantlint.toml", cwd=repo / "app").root == repo.resolve()


def test_an_explicit_config_from_outside_any_project_roots_at_the_scanned_project(tmp_path):
    home, proj = tmp_path / "home", tmp_path / "home" / "proj"
    (proj / "src").mkdir(parents=True)
    if not _outside_any_project(home):
        pytest.skip("the temporary folder is itself inside a project")
    (proj / ".git").mkdir()
    config = write(home / "shared.toml", 'tenant-columns = ["org_id"]\n')
    assert load_settings(config, cwd=home, targets=["proj/src"]).root == proj.resolve()
