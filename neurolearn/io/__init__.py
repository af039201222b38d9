"""NWB -> xarray, read-only."""
