"""Evaluation: metrics, ``snaptex eval``, the peer comparison and image-reliance probe."""
