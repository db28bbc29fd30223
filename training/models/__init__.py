"""Model shapes training starts from: built from scratch or reshaped from a checkpoint."""
