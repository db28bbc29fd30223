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


# The [train] extra, less accelerate: transformers imports that by itself when it is
# installed (it is not needed to load or run a model; a fresh install without the extra
# shows that).
TRAIN_ONLY = ("datasets", "pyarrow", "nltk", "rapidfuzz", "training")


def test_ocr_and_the_worker_never_import_training_packages(tmp_path):
    """A real ``snaptex ocr`` run (the bundled model loads and reads an image) and the
    worker's modules: nothing the ``[train]`` extra installs."""
    image = REPO / "tests" / "bundled" / "data" / "eq0_120dpi.png"
    modules = loaded_after(
        "from model.ocr import main\n"
        f"assert main([{str(image)!r}, '--threads', '1']) == 0\n"
        "import model.worker, bench.worker_process")
    assert not {name.split(".")[0] for name in modules} & set(TRAIN_ONLY)


def test_the_app_never_imports_training_packages():
    modules = loaded_after("import desktop_app.app, desktop_app.composition")
    assert not {name.split(".")[0] for name in modules} & set(TRAIN_ONLY)
