"""Business roles (monetary, recency, income...) found from column names, and totals derived from parts.

Roles drive naming and the rulebook, so the same rules work on differently named data. Explicit roles in the
config always win; inference only fills the gaps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reportgen.config import ROLE_NAMES

# Most specific patterns first: a column is given at most one role.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("web_visits", r"web.?visit|site.?visit|visits"),
    ("web_purchases", r"web.?(purchase|order)|online.?(purchase|order)s?|num.?web"),
    ("store_purchases", r"store.?(purchase|order)|in.?store|num.?store"),
    ("catalog_purchases", r"catalog(ue)?.?(purchase|order)|num.?catalog"),
    ("deal_purchases", r"deal|discount|coupon|promo"),
    ("campaign_responses", r"campaign|accepted|responses?$"),
    ("complaints", r"complain"),
    ("recency", r"recency|days.?since.?last|last.?(purchase|order).?days|days.?inactive"),
    ("tenure", r"tenure|customer.?since|signup.?date.?days|dt.?customer.?days|months.?as.?customer|join.?date.?days"),
    ("income", r"income|salary|earning"),
    ("age", r"^age$|^age.?years|customer.?age"),
    ("children", r"child|kids?$|kidhome|num.?kids|dependants|dependents"),
    ("monetary", r"total.?spend|^spend(ing)?$|spending|monetary|revenue|total.?amount|sales|spend.?total|clv|ltv"),
    ("frequency", r"frequency|total.?(purchases|orders)|^orders|num.?orders|order.?count|purchases$|transactions"),
)

# Parts that add up to a total when the data has no total column (zero-config): role -> (name, pattern).
_PARTS: dict[str, tuple[str, str]] = {
    "monetary": ("TotalSpend", r"^(mnt|spend.?|amount.?)[a-z]"),
    "frequency": ("TotalPurchases", r"^num.?(web|store|catalog)\w*purchases$"),
    "campaign_responses": ("CampaignsAccepted", r"^accepted.?cmp\d|^response$"),
    "children": ("Children", r"^(kid|teen)home$"),
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def infer_roles(numeric: Iterable[str], explicit: dict[str, str | None]) -> dict[str, str]:
    """Map roles to numeric columns: explicit settings first, then name patterns for the rest."""
    columns = list(numeric)
    roles = {role: column for role, column in explicit.items() if column}
    taken = set(roles.values())
    for role, pattern in _PATTERNS:
        if role in roles:
            continue
        match = next((c for c in columns if c not in taken and re.search(pattern, _norm(c))), None)
        if match is not None:
            roles[role] = match
            taken.add(match)
    return {role: roles[role] for role in ROLE_NAMES if role in roles}


def suggest_totals(numeric: Iterable[str], explicit: dict[str, str | None],
                   derived: dict[str, str]) -> dict[str, str]:
    """Derived totals for roles that only exist as parts (e.g. ``MntWines + MntFruits + ...`` as spend).

    Only suggested when the role is not set and no single column already plays it.
    """
    columns = list(numeric)
    is_part = [any(re.search(p, _norm(c)) for _, p in _PARTS.values()) for c in columns]
    existing = infer_roles([c for c, part in zip(columns, is_part, strict=True) if not part], explicit)
    suggestions: dict[str, str] = {}
    for role, (name, pattern) in _PARTS.items():
        if role in existing or name in derived or name in columns:
            continue
        # A name holding a backtick cannot be quoted in a formula, so it cannot be one of the parts.
        parts = [c for c in columns if re.search(pattern, _norm(c)) and "`" not in c]
        if len(parts) >= 2:
            suggestions[name] = " + ".join(f"`{c}`" if not c.isidentifier() else c for c in parts)
    return suggestions
