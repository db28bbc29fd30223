"""Export: a training checkpoint (or an average of several) -> the shipped ``model/bundled/``."""
