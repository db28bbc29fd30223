"""Training commands without the ``[train]`` extra say how to install it, in one line."""

from __future__ import annotations

import pytest
from conftest import REPO

from training.command import INSTALL_TRAIN, TRAIN_EXTRA, guarded, missing_extra


def _missing(name: str) -> ModuleNotFoundError:
    return ModuleNotFoundError(f"No module named '{name}'", name=name)


@pytest.mark.parametrize(
    ("error", "package"),
    [
        (_missing("datasets"), "datasets"),
        (_missing("nltk.translate"), "nltk"),
        (_missing("rapidfuzz"), "rapidfuzz"),
        # transformers' Trainer without accelerate: an ImportError naming it
        (ImportError("Using the `Trainer` with `PyTorch` requires `accelerate>=1.1.0`"),
         "accelerate"),
        (_missing("latex_ocr_junia"), None),
        (ImportError("cannot import name 'x' from 'y'"), None),
    ],
)
def test_missing_extra(error, package):
    message = missing_extra(error)
    if package is None:
        assert message is None
    else:
        assert package in message and message.endswith(INSTALL_TRAIN)


def test_guarded_turns_a_missing_extra_into_one_line(capsys):
    def action():
        raise _missing("datasets")

    assert guarded("snaptex eval", action, (ValueError,)) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("snaptex eval: error: this command needs datasets, part of the "
                   "training extra: pip install 'snaptex[train]'")


def test_other_import_errors_keep_their_traceback():
    def action():
        raise _missing("latex_ocr_junia")

    with pytest.raises(ModuleNotFoundError):
        guarded("snaptex eval", action, (ValueError,))


def test_the_extra_named_in_messages_is_the_one_pyproject_declares():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    train = {spec.split(">")[0].split("=")[0] for spec in project["optional-dependencies"]["train"]}
    runtime = {spec.split(">")[0].split("=")[0].split("!")[0] for spec in project["dependencies"]}
    assert train == set(TRAIN_EXTRA)
    assert not train & runtime
