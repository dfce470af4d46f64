"""Choice sets named once for the OpenAPI schema (SPECTACULAR_SETTINGS['ENUM_NAME_OVERRIDES'])."""

from discharge.models import AdmissionStatus, DischargeDestination
from pathways.transitions import State
from recovery_plans.models import Action, Goal, RecoveryPlan

ADMISSION_STATUS = AdmissionStatus
DISCHARGE_DESTINATION = DischargeDestination
GOAL_STATUS = Goal.Status
ACTION_STATUS = Action.Status
PLAN_STATUS = RecoveryPlan.Status
REFERRAL_STATE = State
