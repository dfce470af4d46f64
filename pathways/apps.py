from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    verbose_name = "Discharge pathways and transfers of care"

    def ready(self) -> None:
        from discharge.services import (
            admission_discharge_cancelled,
            admission_left_hospital,
            patient_admitted,
        )

        admission_left_hospital.connect(_follow_patient_out, dispatch_uid="pathways.referral_out")
        admission_discharge_cancelled.connect(
            _follow_patient_back, dispatch_uid="pathways.referral_back"
        )
        patient_admitted.connect(_follow_patient_in, dispatch_uid="pathways.referral_in")


def _follow_patient_out(sender, *, admission, by, **_kwargs) -> None:
    """The patient left hospital: the referral's rules (in the service) decide what follows."""
    from pathways.services import referral_admission_left

    referral_admission_left(admission=admission, by=by)


def _follow_patient_back(sender, *, admission, by, **_kwargs) -> None:
    """The discharge was cancelled: a referral that left with the patient comes back too."""
    from pathways.services import referral_discharge_cancelled

    referral_discharge_cancelled(admission=admission, by=by)


def _follow_patient_in(sender, *, admission, by, **_kwargs) -> None:
    """The patient was admitted: support under way at home after an earlier stay may end."""
    from pathways.services import referral_patient_readmitted

    referral_patient_readmitted(admission=admission, by=by)
