"""Networks trained in numpy and recordings with known ground truth (and NWB files made from them)."""
