"""pix2tex 0.1.4 as a peer: its own cached venv, a JSON-lines worker, the comparison."""
