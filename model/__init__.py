"""SnapTeX model core: loading, pre-processing, generation, LaTeX clean-up, worker.

Import-light on purpose: ``model.protocol`` and ``model.options`` are used by the desktop
app, which must never pull in torch, so nothing heavy is imported here.
"""
