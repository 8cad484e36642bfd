"""``make bench``: every benchmark, one after another, each in a process of its own.

``python -m bench.run [AREA ...]`` runs only the areas named (topology, contacts, dispatch,
receipts, reconciliation, load). Each benchmark prints its figures and the machine; the figures
are copied by hand into ``docs/benchmarks/<area>.md`` after a run on quiet hardware, so a noisy
run never overwrites a careful one. Expect about an hour for all of them on two cores, most of
it the topology benchmark's 3-million-customer city.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

AREAS = ("topology", "contacts", "dispatch", "receipts", "reconciliation", "load")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("areas", nargs="*", metavar="AREA", help=f"one of {', '.join(AREAS)}")
    args = parser.parse_args()
    unknown = set(args.areas) - set(AREAS)
    if unknown:
        parser.error(f"unknown area {', '.join(sorted(unknown))}; one of {', '.join(AREAS)}")
    args.areas = args.areas or list(AREAS)
    failed = []
    for area in args.areas:
        print(f"\n=== bench.{area} ===", flush=True)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", f"bench.{area}"], check=False)
        took = time.monotonic() - started
        print(f"=== bench.{area}: exit {done.returncode} after {took:.0f} s ===", flush=True)
        if done.returncode:
            failed.append(area)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
