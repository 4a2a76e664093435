"""The ``fastinf`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fastinf`` command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="fastinf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="re-analyse a built-in synthetic archive of A/B experiments",
        description="Bootstrap BCa intervals and permutation p-values for a synthetic "
        "archive with known true effects.",
    )
    demo.add_argument("--experiments", type=int, default=2000, help="archive size (default 2000)")
    demo.add_argument("--resamples", type=int, default=999, help="resamples per test (default 999)")
    demo.add_argument("--compare", action="store_true",
                      help="also time scipy.stats on a subset and report the ratio")
    demo.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.experiments < 1:
            parser.error("--experiments must be at least 1")
        if args.resamples < 1:
            parser.error("--resamples must be at least 1")
        from fastinf.demo import run

        run(args.experiments, n_resamples=args.resamples, compare=args.compare, seed=args.seed)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
