import datetime as dt

from discharge.rules import days_delayed, next_discharge_ready_date

MON = dt.date(2026, 11, 16)
TUE = dt.date(2026, 11, 17)


def test_first_ready_review_sets_the_ready_date_to_its_day():
    assert next_discharge_ready_date(current=None, ready=True, review_date=TUE) == TUE


def test_later_ready_review_keeps_the_first_ready_date():
    assert next_discharge_ready_date(current=MON, ready=True, review_date=TUE) == MON


def test_review_that_is_not_ready_clears_the_ready_date():
    assert next_discharge_ready_date(current=MON, ready=False, review_date=TUE) is None


def test_leaving_on_the_ready_date_is_zero_delay():
    assert days_delayed(discharge_ready_date=MON, until=MON) == 0


def test_delay_counts_days_from_the_ready_date():
    assert days_delayed(discharge_ready_date=MON, until=MON + dt.timedelta(days=5)) == 5


def test_no_ready_date_means_no_delay():
    assert days_delayed(discharge_ready_date=None, until=MON) is None
