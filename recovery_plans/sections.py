"""The free-text sections of a recovery plan and the fields each holds.

Stable keys: they name sections in URLs, in the change log and in comments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SectionSpec:
    """A section: its key, heading and the labelled text fields inside it."""

    key: str
    title: str
    fields: tuple[tuple[str, str], ...]
    hint: str = ""
    family_may_edit: bool = False


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "about_me",
        "About me and what matters to me",
        (
            ("what_matters", "What matters to me"),
            ("about_me", "About me"),
            ("how_to_support", "How best to support me"),
        ),
        hint="In the person's own words.",
        family_may_edit=True,
    ),
    SectionSpec(
        "support_network",
        "Strengths and support network",
        (
            ("strengths", "My strengths"),
            ("support_network", "Family, friends and neighbours who help"),
            ("unpaid_carers", "Unpaid carers"),
            ("carer_needs", "What my carers need"),
        ),
    ),
    SectionSpec(
        "needs",
        "Health and care needs",
        (
            ("mobility", "Mobility"),
            ("personal_care", "Personal care"),
            ("meals", "Meals and drinks"),
            ("medication", "Medication"),
            ("continence", "Continence"),
            ("memory", "Memory and cognition"),
            ("home_environment", "Home environment"),
        ),
        hint="For each: what the person needs and the support that meets it.",
    ),
    SectionSpec(
        "services",
        "Services involved",
        (("services", "Services supporting me"),),
    ),
    SectionSpec(
        "risks",
        "Risks and safeguarding",
        (("risks", "Risks and how we reduce them"), ("safeguarding", "Safeguarding")),
    ),
)

SECTIONS_BY_KEY: dict[str, SectionSpec] = {s.key: s for s in SECTIONS}

# Lists of items, each item versioned on its own; also valid comment and presence targets.
ITEM_LISTS: dict[str, str] = {
    "goals": "Goals",
    "actions": "Actions",
    "contacts": "Who to contact",
    "reviews": "Review dates",
}

ALL_SECTION_KEYS: dict[str, str] = {**{s.key: s.title for s in SECTIONS}, **ITEM_LISTS}


def empty_content(key: str) -> dict[str, str]:
    """A new section's fields, all blank."""
    return {name: "" for name, _label in SECTIONS_BY_KEY[key].fields}
