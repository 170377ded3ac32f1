"""Discrete IB and dualIB solvers built from the generated kernels (theory.md sections 1 and 3)."""
from ._critical import critical_betas as critical_betas
from ._critical import trivial_critical_betas as trivial_critical_betas
from ._curve import IBCurve as IBCurve
from ._curve import ib_curve as ib_curve
from ._dib import dib_curve as dib_curve
from ._dib import set_partitions as set_partitions
from ._envelope import Optimality as Optimality
from ._expfam import ExpFamDualIBSolution as ExpFamDualIBSolution
from ._expfam import solve_dual_ib_expfam as solve_dual_ib_expfam
from ._family import IBFamilyCurve as IBFamilyCurve
from ._functional import functional_curve as functional_curve
from ._gib import gib_curve as gib_curve
from ._rate_distortion import RDCurve as RDCurve
from ._rate_distortion import rd_curve as rd_curve
from ._solve import IBSolution as IBSolution
from ._solve import solve_dual_ib as solve_dual_ib
from ._solve import solve_ib as solve_ib
