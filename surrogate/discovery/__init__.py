"""Scenario discovery: boxes of parameter space where cases of interest are dense.

PRIM (peeling and pasting, faithful to EMA Workbench), sequential covering, the resampling
check, CART leaves as boxes, REDS (PRIM on a metamodel's labels for a large fresh sample) and
the PR AUC quality metric. Data flows in from a design and a teacher (or a surrogate); boxes
flow out to plots and reports.
"""

from surrogate.discovery._box import Box
from surrogate.discovery._cart import CART
from surrogate.discovery._covering import covering, resample
from surrogate.discovery._field_outcome import FieldOutcomeClassifier
from surrogate.discovery._metrics import pr_auc
from surrogate.discovery._outcome import OutcomeExpression, outcome, parse_outcome
from surrogate.discovery._prim import PRIM
from surrogate.discovery._reds import REDS

__all__ = ["Box", "CART", "PRIM", "REDS", "covering", "pr_auc", "resample", "outcome",
           "parse_outcome", "OutcomeExpression", "FieldOutcomeClassifier"]
