"""factory_boy factories for the whole project; they build through the services where rules apply."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from discharge import nhs_number, services
from discharge.models import Admission, Patient
from homefirst.models import Membership, Organisation, Site, User, Ward


def valid_nhs_number(n: int) -> str:
    """The n-th valid NHS number in the 999 test range (numbers whose check digit would be 10 are skipped)."""
    while True:
        first_nine = f"9{n:08d}"
        digit = nhs_number.check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"
        n += 1_000_000  # move far away so sequences never collide


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["ods_code"]

    ods_code = factory.Sequence(lambda n: f"ORG{n:04d}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.ACUTE_TRUST


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"General Hospital {n}")


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ward

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"W{n:03d}")
    name = factory.Sequence(lambda n: f"Ward {n}")
    specialty = "General medicine"
    bed_count = 60


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.WARD_STAFF


def member(organisation: Organisation, role: str, **user_fields) -> User:
    """A user holding one role in one organisation."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    nhs_number = factory.Sequence(valid_nhs_number)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=65, maximum_age=95)
    sex = Patient.Sex.FEMALE
    postcode = "LS1 4AP"
    local_authority = factory.SubFactory(
        OrganisationFactory, kind=Organisation.Kind.LOCAL_AUTHORITY, ods_code="E08000035"
    )


class AdmissionFactory(factory.django.DjangoModelFactory):
    """An inpatient admitted through the service, so the first ward stay exists as it would."""

    class Meta:
        model = Admission

    patient = factory.SubFactory(PatientFactory)
    current_ward = factory.SubFactory(WardFactory)
    bed_label = factory.Sequence(lambda n: f"B{n:03d}")
    admitted_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))

    @classmethod
    def _create(cls, model_class, *, patient, current_ward, bed_label, admitted_at, **kwargs):
        return services.admission_admit(
            patient=patient,
            ward=current_ward,
            bed_label=bed_label,
            admitted_at=admitted_at,
            **kwargs,
        )


def recovery_plan_for(admission: Admission, by: User):
    """A started recovery plan for the admission's patient (all sections in place)."""
    from recovery_plans.services import plan_start

    return plan_start(patient=admission.patient, by=by)


# --- Transfers of care (pathways) --------------------------------------------------------------

from pathways import services as pathways_services  # noqa: E402
from pathways.models import Consent, Referral, Service, ServiceArea, ServiceKind  # noqa: E402


class ServiceFactory(factory.django.DjangoModelFactory):
    """A provider's service; ``councils=[...]`` says which council areas it covers."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    provider = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.CARE_PROVIDER)
    name = factory.Sequence(lambda n: f"Service {n}")
    kind = ServiceKind.HOME_REABLEMENT

    @factory.post_generation
    def councils(obj, create, extracted, **kwargs):
        if create and extracted:
            ServiceArea.objects.bulk_create(ServiceArea(service=obj, council=c) for c in extracted)


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral made through the service by a ward nurse of the admission's trust."""

    class Meta:
        model = Referral

    admission = factory.SubFactory(AdmissionFactory)
    referred_by = factory.LazyAttribute(
        lambda o: member(o.admission.site.organisation, Membership.Role.WARD_STAFF)
    )
    pathway = "1"
    needs = "Help with washing and dressing twice a day; walks with a frame."
    home_situation = "Lives alone in a ground-floor flat; key safe by the door."
    carers = "Daughter visits at weekends."
    consent = Consent.GIVEN
    preferred_outcome = "To manage at home on her own again."

    @classmethod
    def _create(cls, model_class, *, referred_by, **kwargs):
        return pathways_services.referral_create(by=referred_by, **kwargs)


# --- Flow dashboard snapshots (derived rows, built directly for page tests) --------------------


class DailyRowFactory(factory.django.DjangoModelFactory):
    """What every snapshot row has: today, a ward (and its site) and a council of residence."""

    class Meta:
        abstract = True

    day = factory.LazyFunction(timezone.localdate)
    ward = factory.SubFactory(WardFactory)
    site = factory.LazyAttribute(lambda o: o.ward.site)
    council = factory.SubFactory(
        OrganisationFactory, kind=Organisation.Kind.LOCAL_AUTHORITY, ods_code="E08000035"
    )


class DailyCensusFactory(DailyRowFactory):
    """A census row: patients in a bed at a day's midnight on one ward."""

    class Meta:
        model = "dashboards.DailyCensus"

    pathway = ""
    occupied = 20
    nctr = 4
    los_7 = 6
    los_14 = 3
    los_21 = 1
    los_7_days = 80
    los_14_days = 50
    los_21_days = 25


class DailyDischargesFactory(DailyRowFactory):
    """A row of discharges on a day from one ward on one pathway to one destination."""

    class Meta:
        model = "dashboards.DailyDischarges"

    pathway = "0"
    destination = "usual_residence"
    discharges = 5
    before_noon = 1
    nctr = 5
    drd_0 = 3
    drd_1 = 1
    drd_2_3 = 1
    delay_days = 3
    edd_set = 4
    edd_met = 2
    readmitted = 1
    days_away = 30


class DailyDelayFactory(DailyRowFactory):
    """Delayed patients at a day's midnight on one ward for one reason."""

    class Meta:
        model = "dashboards.DailyDelay"

    pathway = ""
    reason = "HOS03"
    family = "Hospital process"
    patients = 4


class DailyTransfersFactory(DailyRowFactory):
    """Transfers of care of the people discharged on a day from one ward to one kind of service."""

    class Meta:
        model = "dashboards.DailyTransfers"

    pathway = "1"
    kind = "home_reablement"
    transfers = 6
    started = 4
    started_next_day = 3
    start_delay_days = 5
    started_with_drd = 4
    drd_to_start_days = 10
    ended = 3
    independent = 2
    reduced_support = 1
    at_home_91_checked = 2
    at_home_91 = 1


class DailyAdmissionsFactory(DailyRowFactory):
    """Admissions on a day to one ward."""

    class Meta:
        model = "dashboards.DailyAdmissions"

    method = "emergency"
    admissions = 6
