"""The report's curvature section: λmax of each run against 2 / lr, the full Hessian's check of
it, and the answer to "did the step overshoot?"."""

from __future__ import annotations

from tinygrad_lab.lab.output.tables import factor, fmt, table
from tinygrad_lab.lab.stress.curvature import AGREEMENT, Curvature


def curvature_section(runs: dict[str, Curvature]) -> list[str]:
    """λmax against 2 / lr for each run, the full Hessian's check, and the overshoot answer."""
    lines = [
        "## Learning rate overshoot? The loss's curvature against 2 / lr",
        "",
        "A gradient-descent step multiplies the error along an eigenvector of the loss's "
        "Hessian (with respect to every parameter) with eigenvalue λ by 1 − lr·λ: it overshoots "
        "(grows, flipping sign every step) exactly when λ > 2 / lr. So training is stable along "
        "every direction when the largest eigenvalue λmax < 2 / lr. λmax is measured at each "
        "run's trained weights by power iteration on Hessian-vector products (Pearlmutter's "
        "trick: never the whole Hessian), from a start vector drawn with the run's seed; "
        "power iteration finds the eigenvalue of largest magnitude, and when that is negative "
        "it is run again on H − μI, whose largest eigenvalue is λmax − μ.",
        "",
    ]
    lines += _curvature_table(runs)
    checked = [c.check for c in runs.values() if c.check is not None]
    if checked:
        agree = all(check.agrees for check in checked)
        lines += [
            "The full Hessian of every parameter (`tl.func.hessian` on the parameters "
            "flattened, its eigenvalues by `np.linalg.eigvalsh`) "
            + ("agrees" if agree else "**does not agree**")
            + f" with the power iteration to {AGREEMENT:g} (relative), as computed above.",
            "",
        ]
    elif any(c.power is not None for c in runs.values()):
        lines += [
            "The full Hessian's eigenvalues were not computed here (a run among many: it "
            "costs a backward a parameter); a single run's report checks λmax against them.",
            "",
        ]
    lines += [f"- {name}: {_overshoot_answer(c)}" for name, c in runs.items()] + [""]
    return lines


def _curvature_table(runs: dict[str, Curvature]) -> list[str]:
    rows = []
    for name, c in runs.items():
        power, check = c.power, c.check
        rows.append(
            [
                name,
                c.parameters,
                c.lambda_max,
                c.stability_limit,
                "—" if c.stable is None else ("yes" if c.stable else "**no**"),
                "—"
                if power is None
                else f"{power.iterations}{'' if power.converged else ' (not converged)'}",
                "—" if check is None else check.lambda_max,
                "—" if check is None else check.lambda_min,
                "—" if check is None else f"{check.relative_difference:.1e}",
            ]
        )
    return table(
        [
            "run",
            "parameters",
            "λmax (power iteration)",
            "2 / lr",
            "λmax < 2 / lr",
            "Hessian-vector products",
            "λmax (full Hessian)",
            "λmin (full Hessian)",
            "relative difference",
        ],
        rows,
    )


def _overshoot_answer(c: Curvature) -> str:
    if c.lambda_max is None:
        return f"not measured: {c.absent_reason}."
    lam, limit = c.lambda_max, c.stability_limit
    if not c.stable:
        return (
            f"λmax = {fmt(lam, 4)} ≥ 2 / lr = {fmt(limit, 4)}: **the learning rate overshoots** "
            "along the sharpest direction (the error there grows by a factor "
            f"{fmt(abs(1 - c.learning_rate * lam), 4)} a step)."
        )
    if lam <= 0:
        return (
            f"λmax = {fmt(lam, 4)} ≤ 0: the loss curves down or is flat in every direction "
            "here, so no step size overshoots; learning rate overshoot is not the issue."
        )
    return (
        f"λmax = {fmt(lam, 4)} < 2 / lr = {fmt(limit, 4)}: gradient descent is stable along "
        "every direction, so learning rate overshoot is not the issue; the rate could be "
        f"{factor(c.headroom)} times larger before the sharpest direction overshoots (at these "
        "weights: the curvature changes as training moves them)."
    )
