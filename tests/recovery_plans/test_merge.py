"""Properties of the three-way merge: no accepted edit is lost, conflicts exactly when both
sides changed one field differently."""

from hypothesis import given
from hypothesis import strategies as st

from recovery_plans.merge import merge

FIELDS = ["a", "b", "c", "d"]
values = st.sampled_from(["", "x", "y", "z"])
records = st.fixed_dictionaries({name: values for name in FIELDS})


@given(base=records, theirs=records, mine=records)
def test_conflict_exactly_when_both_changed_a_field_differently(base, theirs, mine):
    result = merge(base, theirs, mine)
    expected = {
        f for f in FIELDS if mine[f] != base[f] and theirs[f] != base[f] and mine[f] != theirs[f]
    }
    assert set(result.conflicts) == expected


@given(base=records, theirs=records, mine=records)
def test_no_accepted_edit_is_lost(base, theirs, mine):
    result = merge(base, theirs, mine)
    for f in FIELDS:
        if f in result.conflicts:
            assert result.merged[f] == theirs[f]  # theirs stays until the editor decides
        elif mine[f] != base[f]:
            assert result.merged[f] == mine[f]  # my change is in
        else:
            assert result.merged[f] == theirs[f]  # their change (or no change) is kept


@given(base=records, mine=records)
def test_nothing_changed_meanwhile_means_mine_wins_cleanly(base, mine):
    result = merge(base, base, mine)
    assert result.clean
    assert result.merged == mine


@given(base=records, theirs=records)
def test_sending_the_base_back_changes_nothing(base, theirs):
    result = merge(base, theirs, base)
    assert result.clean
    assert result.merged == theirs


@given(base=records, theirs=records, mine=st.dictionaries(st.sampled_from(FIELDS), values))
def test_fields_not_sent_are_left_alone(base, theirs, mine):
    result = merge(base, theirs, mine)
    for f in set(FIELDS) - set(mine):
        assert result.merged[f] == theirs[f]


def test_merge_is_symmetric_in_what_it_calls_a_conflict():
    base, theirs, mine = {"a": "1", "b": "1"}, {"a": "2", "b": "1"}, {"a": "3", "b": "4"}
    assert merge(base, theirs, mine).conflicts == merge(base, mine, theirs).conflicts == ("a",)
