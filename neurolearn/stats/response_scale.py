"""The response scale a session was recorded on, and the statistic that needs one scale across sessions.

``kernel_change`` (``||H(K_t - K_0)H||_F / ||H K_0 H||_F``) and ``kernel_scale`` (``||H K_t H||_F / ||H K_0 H||_F``)
compare a session's kernel with the reference session's in absolute terms: a session recorded in other units
(counts beside rates, counts over windows of another length) reads the change of scale as a change of
representation (adversary F6: 0.36 became 0.86 when one of three sessions was converted from spikes/s to counts
in 0.5 s windows). The other cross-session statistics
(kernel_similarity, code_overlap, target_agreement) normalise each session's kernel and do not depend on it.
"""

from __future__ import annotations

import numpy as np

from neurolearn.stats.flags import warn_unsupported

__all__ = ["response_scale", "flag_other_scales", "unit_name"]

#: units whose values scale with the counting window's length
_COUNT_UNITS = ("count", "counts", "spikes")
#: spellings of one rate unit (adversary S6-4: "Hz" beside "spikes/s" read as another scale)
_RATE_SPELLINGS = ("spikes/s", "spikes/sec", "spikes per second", "spike/s", "sp/s", "hz", "1/s", "/s", "s^-1",
                   "s-1", "events/s", "spikes s-1", "spikes.s-1")


def unit_name(units) -> str:
    """``units`` as written, except one rate's spellings ("Hz", "1/s", "spikes/sec", ...) read as "spikes/s".

    Examples
    --------
    >>> unit_name("Hz"), unit_name(" spikes per  second"), unit_name("dF/F"), unit_name(None)
    ('spikes/s', 'spikes/s', 'dF/F', '')
    """
    units = str(units or "")
    return "spikes/s" if " ".join(units.strip().lower().split()) in _RATE_SPELLINGS else units


def response_scale(recording) -> str:
    """What one unit of ``recording``'s responses is: its ``units`` attr, with the window length for counts.

    "" when the recording does not say (arrays built in memory).

    Examples
    --------
    >>> import xarray as xr
    >>> response_scale(xr.DataArray([1.0], attrs={"units": "count", "window": (0.0, 0.5)}))
    'count per 0.5 s window'
    >>> response_scale(xr.DataArray([1.0], attrs={"units": "spikes/s", "window": (0.0, 0.5)}))
    'spikes/s'
    >>> response_scale(xr.DataArray([1.0], attrs={"units": "Hz"}))  # one rate, however it is spelled
    'spikes/s'
    """
    units = unit_name(recording.attrs.get("units", ""))
    window = recording.attrs.get("window")
    if units.strip().lower() in _COUNT_UNITS and window is not None:
        try:
            length = float(window[1]) - float(window[0])
        except (TypeError, ValueError, IndexError):
            return units
        return f"{units} per {length:g} s window"
    return units


def flag_other_scales(ds, recordings, *, stacklevel: int = 4):
    """``kernel_change`` and ``kernel_scale`` NaN, with the reason and one warning each, for sessions on another
    scale than the reference.

    The reference is the first session. Sessions that state no units, or a reference that states none, are
    left as they are (nothing is declared to compare).
    """
    names = [name for name in ("kernel_change", "kernel_scale") if name in ds.data_vars]
    if not names or not recordings:
        return ds
    keys = list(recordings)
    scales = [response_scale(recordings[k]) for k in keys]
    reference = scales[0]
    other = np.array([bool(s) and bool(reference) and s != reference for s in scales])
    if not other.any():
        return ds
    reason = (f"recorded in other units than the reference session {keys[0]!r} ({reference}): the change would "
              "read the change of scale (if both are one unit spelled two ways, set attrs['units'] alike)")
    ds = ds.copy()
    for name in names:
        flags = np.asarray(ds[f"{name}_flag"].values, dtype=object).copy()
        for i in np.flatnonzero(other):
            flags[i] = f"{reason}; this session: {scales[i]}"
        for key in (name, f"{name}_se", f"{name}_ci", f"{name}_boot"):
            if key in ds.data_vars:
                da = ds[key]
                mask = np.reshape(other, [-1 if d == "session" else 1 for d in da.dims])
                ds[key] = da.where(~np.broadcast_to(mask, da.shape))
        ds[f"{name}_flag"] = (ds[f"{name}_flag"].dims, flags.astype(str), ds[f"{name}_flag"].attrs)
        for i in np.flatnonzero(other):
            warn_unsupported(name, keys[i], flags[i], stacklevel=stacklevel)
    return ds
