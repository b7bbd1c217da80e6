"""The paper's claims under both readings of its imbalance, from the converged grids'
run folders: each claim's paired comparison of CostSensitive-ACGAN with ACGAN or BAGAN
(src/csacgan/experiments/claims.py states the rules), with the reading beside it. Claims
1 and 2 (more varied, as recognisable) at every level; claim 3 (better than ACGAN under
strong imbalance) at each reading's hardest level, where its paired seeds are.

    python -m csacgan.experiments.paper_claims ~/csacgan-runs/converged-ratio ~/csacgan-runs/converged-drop
    python -m csacgan.experiments.paper_claims GRID... --page docs/results/paper.md   # between <!-- claims --> markers
"""
from __future__ import annotations

import argparse
from pathlib import Path

from csacgan.experiments.claims import check_claims
from csacgan.experiments.report import CLAIMS_HEADER, claim_row, read_runs

from csacgan.experiments.grid import LEVELS


def level_name(protocol: str, level: int) -> str:
    """The paper's level as the reading asked for it: rho 20 / 40 / 190, or 60 / 80 / 95% of '0' removed."""
    return f"rho {LEVELS['ratio'][level]:g}" if protocol == "ratio" else f"{level}% of '0' removed"


def table(grids: list[Path]) -> str:
    rows = []
    for folder in grids:
        grid, runs = read_runs(folder)
        levels = sorted({r["level"] for r in runs})
        for c in check_claims(runs, levels):
            if c["claim"] == "better than ACGAN" and c["level"] != max(levels):
                continue
            row = claim_row(c)
            row[CLAIMS_HEADER.index("level")] = level_name(grid["protocol"], c["level"])
            rows.append([grid["protocol"]] + row)
    header = ["reading"] + CLAIMS_HEADER
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("grids", type=Path, nargs="+", help="`csacgan reproduce` folders")
    p.add_argument("--page", type=Path, help="write the table between the page's <!-- MARKER --> pair")
    p.add_argument("--marker", default="claims")
    args = p.parse_args()
    text = table(args.grids)
    print(text)
    if args.page:
        from csacgan.experiments.pages import write_between_markers
        write_between_markers(args.page, args.marker, text)


if __name__ == "__main__":
    main()
