"""Counter-based random numbers: every draw is a pure function of its coordinates.

A draw is addressed by (master seed, run, day, slot), where the slot names
who draws and why: an actor's or Council seat's key, made from its id, with
the purpose in the low byte (the daily choice, a casualty draw, a vote).
Hashing those with the SplitMix64 finaliser (Steele, Lea and Flood 2014,
"Fast splittable pseudorandom number generators", OOPSLA) gives 64 random
bits, of which the top 53 become a uniform float in [0, 1). No generator
state passes from one draw to the next, so run K sees the same numbers
alone, in a batch of a million, in any chunk, on any worker; and an actor's
numbers do not depend on where it stands in the scenario file.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DAY = np.uint64(0xD1B54A32D192ED03)
_SLOT = np.uint64(0x8CB92BA72F3D8DD7)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_LOW32 = np.uint64(0xFFFFFFFF)
_TO_UNIT = 1.0 / float(1 << 53)


@njit(cache=True, nogil=True, inline="always")
def _mix(x):
    """SplitMix64 finaliser on one uint64."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@njit(cache=True, nogil=True, inline="always")
def uniform(run_key, day, slot):
    """The uniform number in [0, 1) of run ``run_key`` for ``day`` and ``slot``."""
    counter = (np.uint64(day) & _LOW32) * _DAY ^ slot * _SLOT
    return np.float64(_mix(_mix(run_key ^ counter) + _GOLDEN) >> _S11) * _TO_UNIT


@njit(cache=True, nogil=True)
def _uniforms(run_keys, day, slot):
    out = np.empty(run_keys.shape[0])
    for r in range(run_keys.shape[0]):
        out[r] = uniform(run_keys[r], day, slot)
    return out


@njit(cache=True, nogil=True)
def _run_keys(seed, runs):
    out = np.empty(runs.shape[0], dtype=np.uint64)
    seed_key = _mix(seed ^ _GOLDEN)
    for r in range(runs.shape[0]):
        out[r] = _mix(seed_key ^ (runs[r] * _GOLDEN))
    return out


def run_keys(seed: int, runs) -> np.ndarray:
    """Each run's key: a hash of (master seed, run number)."""
    return _run_keys(np.uint64(seed), np.asarray(runs, dtype=np.uint64).reshape(-1))


def slot_key(name: str) -> np.uint64:
    """The stream key of an actor or Council seat: a hash of its id, low byte free.

    Keyed by the id, not the position, so reordering or adding actors leaves
    every other actor's numbers as they were.
    """
    digest = hashlib.sha256(b"escsim slot " + name.encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "little") & ~0xFF)


class RunStreams:
    """Uniform draws for a batch of runs, keyed by (seed, run number, day, slot)."""

    def __init__(self, seed: int, runs):
        self.keys = run_keys(seed, runs)

    def uniform(self, day: int, slot) -> np.ndarray:
        """One uniform float in [0, 1) per run, for ``day`` and ``slot``."""
        return _uniforms(self.keys, day, np.uint64(slot))
