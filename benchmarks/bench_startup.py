"""Start-up benchmark: ``accelsim --help`` and ``--version`` against a bare interpreter and
``import accelsim``, for this branch and baseline checkouts in the same run (interleaved,
median of several fresh processes); appends a section to reports/benchmarks.md.

    python benchmarks/bench_startup.py [--baseline LABEL=DIR ...] [--repeat 9]

Target: at most 0.3 s for --help and --version.
"""

from __future__ import annotations

import sys

from common import append_report, machine_line, parser, median, sides, stamp, wall

CASES = {
    "python -c pass": ["-c", "pass"],
    "import accelsim": ["-c", "import accelsim"],
    "accelsim --help": ["-m", "accelsim.cli.main", "--help"],
    "accelsim --version": ["-m", "accelsim.cli.main", "--version"],
    "accelsim sweep --help": ["-m", "accelsim.cli.main", "sweep", "--help"],
}


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__, 9).parse_args(argv)
    who = sides(args.baseline)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):  # interleaved: every case of every side once per round
        for label, root in who:
            for case, cmd in CASES.items():
                times.setdefault((label, case), []).append(wall([sys.executable, *cmd], root))
    head = "| command | " + " | ".join(label for label, _ in who) + " |"
    lines = ["", f"## Start-up (`benchmarks/bench_startup.py`, {stamp()})", "", machine_line(),
             f"Median of {args.repeat} fresh processes each, interleaved; seconds (ratio to `python -c pass` "
             "of the same side). Target: `--help` and `--version` at most 0.3 s.", "", head,
             "|---|" + "---:|" * len(who)]
    for case in CASES:
        cells = []
        for label, _ in who:
            t = median(times[(label, case)])
            bare = median(times[(label, "python -c pass")])
            cells.append(f"{t:.3f} ({t / bare:.1f}x)")
        lines.append(f"| `{case}` | " + " | ".join(cells) + " |")
    base = [label for label, _ in who[1:]]
    for label in base:
        r = median(times[(label, "accelsim --help")]) / median(times[("this branch", "accelsim --help")])
        lines.append(f"\n`accelsim --help`: {r:.1f}x faster than {label}.")
    append_report("\n".join(lines) + "\n", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
