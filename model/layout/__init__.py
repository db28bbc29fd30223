"""Layout of multi-line formulas: finding rows in the image, composing their readings."""
