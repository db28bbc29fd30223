"""Self-check of a reading: how likely it is exactly right, and where to look if not.

``signals`` turns what the search already computed (token log-probabilities, the n-best
list, the encoder's CTC head) into numbers; ``roundtrip`` renders the reading and compares
its ink layout with the snip; ``calibrate`` maps those numbers to a calibrated
probability with a small logistic regression stored in the model folder's
``snaptex.json`` (``"self_check"``); ``check`` puts them together for the recogniser.
Numpy and PIL only, plus matplotlib for the round-trip render; never Qt.
"""

# The model folder's snaptex.json key holding the fitted calibration (calibrate.py).
HINT_KEY = "self_check"

# Bumped whenever a signal is computed differently (a new renderer for the round trip,
# say): cached dev-set features of another version are then measured again, and a
# calibration fitted on them should be refitted.
SIGNALS_VERSION = 2
