"""Forms, grids and the rest of analyses.laws import without the compiled kernel; the first
fit that needs it says how to build it."""

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["analyses.laws._lse_lbfgs"] = None  # as if never built
import analyses.laws.forms
from analyses.laws import HuberLBFGS, LawBatch, get_form
assert get_form("chinchilla").names == ("E", "A", "B", "alpha", "beta")
import numpy as np
n, d = np.meshgrid([1e8, 2e8, 4e8, 8e8], [1e9, 4e9, 16e9])
x = np.column_stack([n.ravel(), d.ravel()])
batch = LawBatch.from_ragged([x], [1.7 + 400 / x[:, 0] ** 0.34 + 410 / x[:, 1] ** 0.28],
                             ("N", "D"))
try:
    HuberLBFGS(grid="small").fit(batch)
except ImportError as e:
    print(e)
"""


def test_forms_import_without_the_kernel_and_a_fit_says_how_to_build_it():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == (
        "analyses.laws._lse_lbfgs is not built: install the project with `pip install -e .` "
        "(it compiles the kernel; a C compiler is needed)")
