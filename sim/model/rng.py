"""Counter-based random numbers: every draw is a pure function of its coordinates.

A draw is addressed by (master seed, run index, day, slot), where the slot
names who draws and why (actor x purpose). Hashing those four integers with
the SplitMix64 finaliser gives 64 random bits, of which the top 53 become a
uniform float in [0, 1). Because no generator state is carried from one run to
the next, run K sees the same numbers whether it is simulated alone, in a
batch of a million, in any chunk, on any worker: "run K is run K" holds by
construction. (The scheme is documented in docs/model.md, "Randomness and reproducibility".)
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DAY = np.uint64(0xD1B54A32D192ED03)
_SLOT = np.uint64(0x8CB92BA72F3D8DD7)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / float(1 << 53)

SLOTS_PER_ACTOR = 64
"""Slots reserved per actor: 0 is its daily choice, 1 its casualty draw, 2.. votes."""


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea and Flood 2014), elementwise on uint64."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


class RunStreams:
    """Uniform draws for a batch of runs, keyed by (seed, run index, day, slot)."""

    def __init__(self, seed: int, runs: np.ndarray):
        seed_key = _mix(np.array([seed], dtype=np.uint64) ^ _GOLDEN)
        with np.errstate(over="ignore"):
            self._run_keys = _mix(seed_key ^ (np.asarray(runs, dtype=np.uint64) * _GOLDEN))

    def uniform(self, day: int, slot: int) -> np.ndarray:
        """One uniform float in [0, 1) per run, for ``day`` and ``slot``."""
        counter = np.array([day & 0xFFFFFFFF], dtype=np.uint64) * _DAY
        counter = counter ^ (np.array([slot], dtype=np.uint64) * _SLOT)
        if kernels.enabled():  # the same integer arithmetic, compiled
            return kernels.uniforms(self._run_keys, counter[0])
        bits = _mix(_mix(self._run_keys ^ counter) + _GOLDEN)
        return (bits >> np.uint64(11)).astype(np.float64) * _TO_UNIT
