"""SnapTeX training: recipes, data, rendering, evaluation. May import ``model``."""
