"""The ``reproduce`` pipeline: headline analyses, figures, data and a report.

Figures are built by :mod:`ibtheory.figures` (matplotlib ``Figure`` objects, no pyplot
state, no backend selection); the NTK experiments shared with notebook 05 are
:mod:`ibtheory.report.ntk_experiments`.
"""

from ..figures import plot_curve as plot_curve
from ._commands import curve_command as curve_command
from ._ntk_info import ntk_info_command as ntk_info_command
from ._report import Section as Section
from ._report import write_report as write_report
from ._reproduce import ANALYSES as ANALYSES
from ._reproduce import AnalysisError as AnalysisError
from ._reproduce import reproduce as reproduce
