"""SnapTeX training: recipes, data, rendering, the trainer, evaluation, export. May import
``model`` (it trains what the runtime loads); ``model`` never imports it.

recipe.py + recipes/   one dataclass read from JSON files (``snaptex train --recipe NAME``)
data/                  data sets as (image, LaTeX) pairs, collators
render/                formulas -> training images with real LaTeX (``snaptex render``)
trainer/               ``snaptex train``: Seq2SeqTrainer, pre-flight checks, encoder losses
models/                shapes training starts from (bundled, T5Gemma-2), checkpoint surgery
evaluate/              metrics, ``snaptex eval``, peer comparison, image-reliance probe
export/                checkpoint (or average) -> ``model/bundled/``
"""
