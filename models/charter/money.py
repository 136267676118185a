"""Sums of money as the charter's paperwork keeps them: exact minor units and a currency.

A price is typed as people write it ("25,50 EUR", "XOF 5000", "12") and
stored as an integer count of the currency's smallest unit, so that a
total of shares is a sum of integers and a signed contract never holds a
rounded float. Currencies without a minor unit (the CFA francs the Lomé
section bills in, among others) refuse decimals instead of rounding them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from models.errors import UserError

#: ISO 4217 currencies whose minor unit is not the cent; every other one has 2 decimals.
EXPONENTS = {"XOF": 0, "XAF": 0, "XPF": 0, "JPY": 0, "KRW": 0, "GNF": 0, "RWF": 0, "BIF": 0}
DEFAULT_CURRENCY = "EUR"
#: Largest sum accepted, in major units: well beyond any hosting contract, far below overflow.
MAX_MAJOR = Decimal("1000000000")


class MoneyError(UserError):
    pass


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def parse_money(
    value: str, what: str = "the price", default: str = DEFAULT_CURRENCY
) -> tuple[int, str]:
    """'25', '25,50 EUR', 'XOF 5000' → (minor units, ISO currency), ``default`` if none.

    Refuses a negative or absurd amount, an unknown shape, and more
    decimals than the currency has (nothing is rounded silently).
    """
    parts = value.replace(",", ".").split()
    numbers = [p for p in parts if not p.isalpha()]
    codes = [p.upper() for p in parts if p.isalpha()]
    if len(numbers) != 1 or len(codes) > 1 or (codes and len(codes[0]) != 3):
        raise MoneyError(f"{what}: write an amount and an optional currency, e.g. 25 EUR")
    currency = codes[0] if codes else default
    try:
        amount = Decimal(numbers[0])
    except InvalidOperation as exc:
        raise MoneyError(f"{what}: write an amount and an optional currency, e.g. 25 EUR") from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_MAJOR:
        raise MoneyError(f"{what}: between 0 and 1,000,000,000")
    places = exponent(currency)
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{what}: too many decimals for this currency (nothing is rounded)")
    return int(minor), currency


def format_money(minor: int, currency: str) -> str:
    """Minor units back to the text people read: '25.50 EUR', '5000 XOF'."""
    places = exponent(currency)
    if places == 0:
        return f"{minor} {currency}"
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{part:0{places}d} {currency}"
