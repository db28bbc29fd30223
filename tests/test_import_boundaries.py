"""The process boundary: the UI never loads torch, the worker never loads Qt."""

import subprocess
import sys

import pytest
from worker_client import REPO


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return set(done.stdout.decode().split())


@pytest.mark.parametrize("statement", [
    "import desktop_app.cli",
    "import model.protocol, model.options, model.delimiters",
])
def test_ui_side_never_imports_torch(statement):
    assert not {"torch", "transformers"} & loaded_after(statement)


def test_ui_app_never_imports_torch():
    pytest.importorskip("desktop_app.app")
    assert not {"torch", "transformers"} & loaded_after("import desktop_app.app")


@pytest.mark.parametrize("statement", [
    "import model.worker",
    "import model.loading, model.recognizer, model.ocr",
])
def test_worker_side_never_imports_qt(statement):
    modules = loaded_after(statement)
    assert not any(name.startswith(("PySide6", "shiboken6")) for name in modules)


def test_model_package_resolves_inside_repo():
    import model

    assert str(REPO) in model.__file__
