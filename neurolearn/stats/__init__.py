"""Summary statistics of learning, extracted from recordings (xarray in, xarray out)."""
