"""The trainer: ``snaptex train`` runs a recipe with ``Seq2SeqTrainer``; its losses, checks."""
