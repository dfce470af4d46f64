"""NHS numbers: Modulus 11 validation, normalisation and 3-3-4 display."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s-]+")
_WEIGHTS = range(10, 1, -1)  # digits 1-9 are weighted 10 down to 2


def check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when the number can never be valid."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True)) % 11
    digit = (11 - remainder) % 11  # 11 means 0
    return None if digit == 10 else digit


def normalise(value: str) -> str:
    """Remove spaces and hyphens; raise ValidationError unless a valid 10-digit NHS number remains."""
    digits = _SEPARATORS.sub("", value or "")
    if not digits.isascii() or not digits.isdigit() or len(digits) != 10:
        raise ValidationError(
            "Enter an NHS number with 10 digits, for example 485 777 3457.", code="format"
        )
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise ValidationError(
            "This is not a valid NHS number: check the digits and try again.", code="check_digit"
        )
    return digits


def is_valid(value: str) -> bool:
    """True when the value is a valid NHS number, with or without spaces."""
    try:
        normalise(value)
    except ValidationError:
        return False
    return True


def validate_nhs_number(value: str) -> None:
    """Model field validator."""
    normalise(value)


def display(digits: str) -> str:
    """Format 10 digits as 3-3-4: ``485 777 3457``."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits
