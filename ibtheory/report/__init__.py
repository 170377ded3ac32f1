"""The ``reproduce`` pipeline: headline analyses, figures, data and a report."""

from ._commands import plot_curve as plot_curve
from ._report import Section as Section
from ._report import write_report as write_report
from ._reproduce import ANALYSES as ANALYSES
from ._reproduce import reproduce as reproduce
