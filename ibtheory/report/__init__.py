"""The ``reproduce`` pipeline: headline analyses, figures, data and a report."""

from ._report import Section as Section
from ._report import write_report as write_report
from ._reproduce import ANALYSES as ANALYSES
from ._reproduce import reproduce as reproduce
