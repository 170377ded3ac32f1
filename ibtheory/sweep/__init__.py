"""Parameter sweeps on Dask: independent, content-addressed, resumable tasks (docs/sweep.md).

- :func:`run` a task function over a :class:`Grid` (named parameter lists x seeds) on a
  ``dask.distributed`` cluster, an embedded ``LocalCluster``, or in this process; every result is
  written atomically when it finishes, so a re-run computes only what is missing.
- :func:`load_table` (pandas), :func:`load_dataset` (xarray over the grid and the result axes) and
  :func:`aggregate` (mean and standard error over seeds) read the results back.
- :data:`BUILTIN_SWEEPS`: the thesis's ``infoplane``, ``ntk-information`` and ``ib-curves``.

Dask and xarray are optional (``pip install 'ibtheory[sweep]'``); this module imports without them.
"""

from ._builtin import BUILTIN_SWEEPS as BUILTIN_SWEEPS
from ._builtin import BuiltinSweep as BuiltinSweep
from ._builtin import builtin_sweep as builtin_sweep
from ._builtin import ib_curves_task as ib_curves_task
from ._builtin import infoplane_task as infoplane_task
from ._builtin import ntk_information_task as ntk_information_task
from ._builtin import resolve_sweep as resolve_sweep
from ._errors import SweepDependencyError as SweepDependencyError
from ._errors import SweepError as SweepError
from ._grid import Grid as Grid
from ._grid import Task as Task
from ._grid import TaskSpec as TaskSpec
from ._grid import task as task
from ._grid import task_key as task_key
from ._grid import task_spec as task_spec
from ._load import aggregate as aggregate
from ._load import load_dataset as load_dataset
from ._load import load_records as load_records
from ._load import load_table as load_table
from ._run import IN_PROCESS as IN_PROCESS
from ._run import LEASE_S as LEASE_S
from ._run import SweepPlan as SweepPlan
from ._run import SweepResult as SweepResult
from ._run import TaskFailure as TaskFailure
from ._run import plan as plan
from ._run import run as run
