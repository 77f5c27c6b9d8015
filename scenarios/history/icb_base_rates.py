"""Recompute the ICB base-rate table of the historical case set from the ICB data files.

Usage (the files are the system-level and actor-level CSV files of ICB version 14,
downloaded from https://sites.duke.edu/icbdata/data-collections/):

    python scenarios/history/icb_base_rates.py icb1v14.csv icb2v14.csv > icb_base_rates.yaml
    python scenarios/history/icb_base_rates.py icb1v14.csv icb2v14.csv --list

The first form prints the table that ships as sim/inputs/data/icb_base_rates.yaml; the
second lists every crisis of the reference class with its class, the list that
scenarios/history/README.md samples from. Only the standard library is used.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter

CLASSES = ("deescalated", "frozen", "militarized_clash", "war", "great_power_confrontation")

# Correlates of War codes of the five states that hold the permanent Council seats today.
WEST = {"2": "USA", "200": "UKG", "220": "FRN"}
EAST = {"365": "RUS", "710": "CHN"}
PERMANENT = WEST | EAST

FIRST_YEAR, LAST_YEAR = 1946, 2015

REFERENCE_CLASS = (
    f"Every ICB crisis triggered {FIRST_YEAR}-{LAST_YEAR} (system-level YRTRIG) in which a crisis "
    "actor that is not one of the five states holding the permanent Council seats (United "
    "States, United Kingdom, France, USSR/Russia, People's Republic of China; COW codes 2, "
    "200, 220, 365, 710) had its crisis triggered by one of them (actor-level TRIGENT): a "
    "permanent member's coercion of a smaller state. The rule reads only who triggered whose "
    "crisis, never how the crisis ended.")

MAPPING = (
    "great_power_confrontation: a crisis actor among the United States, United Kingdom and "
    "France had its crisis triggered by the USSR/Russia or China, or the reverse (actor-level "
    "CRACID and TRIGENT), whatever the violence; else war: SEVVIOSY 4 (full-scale war); else "
    "militarized_clash: SEVVIOSY 2 or 3 (minor or serious clashes); else (SEVVIOSY 1, no "
    "violence) deescalated: FOROUT 1-5 (formal or semi-formal agreement, tacit understanding, "
    "unilateral act, imposed agreement: the crisis ended); frozen: FOROUT 6 or 7 (other, "
    "crisis faded: no act ended it).")


def read(path: str) -> list[dict[str, str]]:
    """Rows of an ICB CSV file (the files start with a byte-order mark)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def classify(crisis: dict[str, str], actors: list[dict[str, str]]) -> str:
    """The crisis's class under MAPPING."""
    for a in actors:
        if ((a["cracid"] in WEST and a["trigent"] in EAST)
                or (a["cracid"] in EAST and a["trigent"] in WEST)):
            return "great_power_confrontation"
    severity = int(crisis["sevviosy"])
    if severity == 4:
        return "war"
    if severity in (2, 3):
        return "militarized_clash"
    return "deescalated" if crisis["forout"] in {"1", "2", "3", "4", "5"} else "frozen"


def reference_class(system: list[dict[str, str]], actor_rows: list[dict[str, str]]
                    ) -> list[tuple[dict[str, str], str]]:
    """The crises of REFERENCE_CLASS in crisis-number order, each with its class."""
    by_crisis: dict[str, list[dict[str, str]]] = {}
    for a in actor_rows:
        by_crisis.setdefault(a["crisno"], []).append(a)
    chosen = []
    for crisis in sorted(system, key=lambda c: int(c["crisno"])):
        if not crisis["yrtrig"] or not FIRST_YEAR <= int(crisis["yrtrig"]) <= LAST_YEAR:
            continue
        actors = by_crisis.get(crisis["crisno"], [])
        if any(a["cracid"] not in PERMANENT and a["trigent"] in PERMANENT for a in actors):
            chosen.append((crisis, classify(crisis, actors)))
    return chosen


def main(argv: list[str]) -> int:
    """Print the base-rate table (or, with --list, the crises) to standard output."""
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--list"):
        print(__doc__, file=sys.stderr)
        return 2
    chosen = reference_class(read(argv[0]), read(argv[1]))
    if len(argv) == 3:
        for i, (crisis, cls) in enumerate(chosen):
            print(f"{i:>2}  {crisis['crisno']:>3}  {crisis['yrtrig']}  "
                  f"{crisis['crisname'].strip():<36} {cls}")
        return 0
    counts = Counter(cls for _, cls in chosen)
    print(f"reference_class: >\n  {REFERENCE_CLASS}")
    print("source: ICB version 14, system-level file (icb1v14.csv) and actor-level file "
          "(icb2v14.csv), Brecher and Wilkenfeld, https://sites.duke.edu/icbdata/")
    print(f"mapping: >\n  {MAPPING}")
    print("counts: {" + ", ".join(f"{c}: {counts[c]}" for c in CLASSES) + "}")
    print(f"total: {len(chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
