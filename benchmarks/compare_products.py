"""How far two seamless products of the same raw cube differ, on every ``--every``-th day.

For a change that must not move the product beyond its noise (``sgdsm fill --bfloat16``
against a float32 fill, say): whether the flags and observed values are identical, and the
largest, 99th-percentile and RMS differences of the filled values and of their sigma::

    python benchmarks/compare_products.py A B [--every 85]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sgdsm_cloud.product import FLAG, FLAG_FILLED, FLAG_OBSERVED, SM, SM_UNCERTAINTY, open_seamless


def compare(a_url: str, b_url: str, every: int) -> dict:
    a, b = open_seamless(a_url), open_seamless(b_url)
    days = np.arange(0, a.sizes["time"], every)
    fields = {name: (a[name].isel(time=days).values, b[name].isel(time=days).values)
              for name in (SM, FLAG, SM_UNCERTAINTY)}  # fmt: skip
    (flag_a, flag_b), (sm_a, sm_b) = fields[FLAG], fields[SM]
    filled, observed = flag_a == FLAG_FILLED, flag_a == FLAG_OBSERVED
    out = {
        "days": len(days),
        "flags identical": bool(np.array_equal(flag_a, flag_b)),
        "observed values identical": bool(np.array_equal(sm_a[observed], sm_b[observed])),
        "filled cells": int(filled.sum()),
    }
    for name in (SM, SM_UNCERTAINTY):
        diff = np.abs(fields[name][0] - fields[name][1])[filled]
        out[name] = {"max": float(np.nanmax(diff)), "p99": float(np.nanpercentile(diff, 99)),
                     "rms": float(np.sqrt(np.nanmean(diff**2)))}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--every", type=int, default=85, help="compare every n-th day")
    args = parser.parse_args()
    print(json.dumps(compare(args.a, args.b, args.every), indent=2))


if __name__ == "__main__":
    main()
