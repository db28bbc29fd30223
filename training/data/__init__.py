"""Training data: data sets as (image, LaTeX) pairs and the collators that batch them."""
