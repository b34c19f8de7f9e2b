"""Business roles (monetary, recency, income...) found from column names, and totals derived from parts.

Roles drive naming and the rulebook, so the same rules work on differently named data. Explicit roles in the
config always win; inference only fills the gaps. Names are read in any style (``snake_case``, ``CamelCase``,
``ALL_CAPS``, dotted, spaced) through :func:`reportgen.prepare.colnames.norm`, and every inference keeps its reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reportgen.config import ROLE_NAMES
from reportgen.prepare.colnames import norm, snake, tokens

# Most specific patterns first: a column is given at most one role. (role, pattern, what the name says)
_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("web_visits", r"web_?visits?|site_?visits?|(^|_)visits($|_)|sessions|page_?views", "website visits"),
    ("web_purchases", r"web_?(purchases?|orders?)|online_?(purchases?|orders?)|num_?web|ecommerce_?orders",
     "purchases made online"),
    ("store_purchases", r"store_?(purchases?|orders?)|in_?store|num_?store|offline_?(purchases?|orders?)",
     "purchases made in store"),
    ("catalog_purchases", r"catalog(ue)?_?(purchases?|orders?)|num_?catalog|mail_?orders?", "catalogue purchases"),
    ("deal_purchases", r"deals?($|_)|discount|coupon|promo|voucher", "purchases made with a deal or discount"),
    ("campaign_responses", r"campaign|accepted|responses?$|offers?_accepted", "accepted campaigns or responses"),
    ("complaints", r"complain", "complaints"),
    ("utilization", r"utili[sz]ation|(^|_)util($|_)|usage_ratio", "credit utilisation (balance / limit)"),
    ("credit_limit", r"credit_?limit|credit_?line|card_?limit|limit_?bal|(^|_)limit($|_)", "credit limit"),
    ("contacts", r"contacts?($|_)|service_?calls|support_?(calls|tickets)|care_?calls|tickets|calls_?to",
     "contacts with the company (calls, tickets)"),
    ("recency", r"recency|days_?since_?last|since_?last|last_?(purchase|order|visit|transaction|trans|activity"
     r"|login|contact|payment|seen)|inactiv|dormant|(^|_)idle", "time since the last activity"),
    ("tenure", r"tenure|customer_?since|member_?since|signup|sign_up|dt_customer|on_?book|as_?(a_)?customer"
     r"|(^|_)join|enrol|registration|account_?(age|length)|relationship_?(months|years|length|age)"
     r"|first_?(purchase|order|transaction)|(open|start|creation|created)_?date|date_?(joined|opened)",
     "time as a customer"),
    ("income", r"income|salary|earning|wages?($|_)|(^|_)revenue_?household", "income"),
    ("age", r"(^|_)age($|_)|age_?years|customer_?age", "age in years"),
    ("children", r"child|kids?($|_)|kidhome|teenhome|dependents?|dependants?|dependent_count"
     r"|(family|household)_?(size|members)", "children, dependants or household size"),
    ("experience", r"work_?experience|(^|_)experience($|_)|seniority|years_?employed|employment_?(years|length)",
     "years of work experience"),
    ("products", r"(^|_)(num|number|count|total|no)_?(of_)?products|products?_?(held|count|owned|number)"
     r"|relationship_?count|product_?count|^products$|num_?of_?products|holdings", "products held"),
    ("balance", r"balance|(^|_)bal($|_)|revolv|outstanding|(^|_)debt", "balance held"),
    ("monetary", r"total_?spend|(^|_)spend(ing)?($|_)|spent|monetary|revenue|sales|clv|ltv|lifetime_?value"
     r"|purchase_?amount|total_?amount|(trans|transaction|txn|trx|order|purchase|bill|pay|payment)_?(amt|amount|value)"
     r"|(^|_)(amt|amount)($|_)|charges|billing|expenditure|turnover|gmv|(^|_)value($|_)|payments?($|_)",
     "spend, sales or value"),
    ("frequency", r"frequency|total_?(purchases|orders|transactions|trans_ct|trx|txn)|(^|_)orders?($|_)"
     r"|num_?orders|orders?_?count|purchases$|transactions|(trans|transaction|txn|trx)_?(ct|cnt|count|number)"
     r"|num_?(of_)?(transactions|purchases)|purchase_?count|(^|_)visits?_?count", "number of orders or transactions"),
)
# Words that make a column a change, ratio or comparison rather than the amount or count itself.
_RELATIVE = {"chng", "change", "chg", "growth", "diff", "delta", "trend", "ratio", "pct", "percent", "rate", "share"}
_RATIO_ROLES = {"utilization"}
# Words that rule a role out: a score is no money, an amount spent on products is no count of products.
_NOT_FOR = {"monetary": {"score", "points", "rating"}, "products": {"mnt", "amount", "amt", "spend", "spent"},
            "frequency": {"mnt", "amount", "amt"}}
# A spending score is no money, but where the table has no spend at all it is the closest measure of value.
_SCORE_VALUE = r"spending_?score|spend_?score|value_?score|loyalty_?score|(^|_)score($|_)"
# Totals and annual figures are preferred over monthly ones and over parts when several columns match.
_PREFERRED = {"total", "lifetime", "annual", "yearly", "overall", "sum"}

# Parts that add up to a total when the data has no total column (zero-config): role -> (name, pattern).
_PARTS: dict[str, tuple[str, str]] = {
    "monetary": ("TotalSpend", r"^(mnt|spend.?|amount.?)[a-z]"),
    "frequency": ("TotalPurchases", r"^num.?(web|store|catalog)\w*purchases$"),
    "campaign_responses": ("CampaignsAccepted", r"^accepted.?cmp\d|^response$"),
    "children": ("Children", r"^(kid|teen)home$"),
}


def _matches(pattern: str, column: str) -> bool:
    return bool(re.search(pattern, norm(column)) or re.search(pattern, snake(column)))


def _candidates(role: str, pattern: str, columns: list[str], taken: set[str]) -> list[str]:
    found = [c for c in columns if c not in taken and _matches(pattern, c)]
    if role not in _RATIO_ROLES:
        found = [c for c in found if not set(tokens(c)) & _RELATIVE]
    found = [c for c in found if not set(tokens(c)) & _NOT_FOR.get(role, set())]
    return sorted(found, key=lambda c: (not set(tokens(c)) & _PREFERRED, columns.index(c)))


def infer_roles_explained(numeric: Iterable[str], explicit: dict[str, str | None]) -> dict[str, tuple[str, str]]:
    """Map roles to numeric columns with the reason of each: ``role -> (column, reason)``.

    Explicit settings come first, then name patterns; a spending score plays the value role only when no
    column names spend, sales or value.
    """
    columns = list(dict.fromkeys(numeric))
    roles = {role: (column, "set in the config (features.roles)") for role, column in explicit.items() if column}
    taken = {column for column, _ in roles.values()}
    for role, pattern, meaning in _PATTERNS:
        if role in roles:
            continue
        found = _candidates(role, pattern, columns, taken)
        if found:
            roles[role] = (found[0], f"the name reads as {meaning}")
            taken.add(found[0])
    if "monetary" not in roles:
        found = [c for c in columns if c not in taken and _matches(_SCORE_VALUE, c)]
        if found:
            roles["monetary"] = (found[0], "a spending or value score: the closest measure of customer value this "
                                           "table has (no spend, sales or value column)")
    return {role: roles[role] for role in ROLE_NAMES if role in roles}


def infer_roles(numeric: Iterable[str], explicit: dict[str, str | None]) -> dict[str, str]:
    """Map roles to numeric columns: explicit settings first, then name patterns for the rest."""
    return {role: column for role, (column, _) in infer_roles_explained(numeric, explicit).items()}


def suggest_totals(numeric: Iterable[str], explicit: dict[str, str | None],
                   derived: dict[str, str]) -> dict[str, str]:
    """Derived totals for roles that only exist as parts (e.g. ``MntWines + MntFruits + ...`` as spend).

    Only suggested when the role is not set and no single column already plays it.
    """
    columns = list(numeric)
    is_part = [any(re.search(p, snake(c)) for _, p in _PARTS.values()) for c in columns]
    existing = infer_roles([c for c, part in zip(columns, is_part, strict=True) if not part], explicit)
    suggestions: dict[str, str] = {}
    for role, (name, pattern) in _PARTS.items():
        if role in existing or name in derived or name in columns:
            continue
        # A name holding a backtick cannot be quoted in a formula, so it cannot be one of the parts.
        parts = [c for c in columns if re.search(pattern, snake(c)) and "`" not in c]
        if len(parts) >= 2:
            suggestions[name] = " + ".join(f"`{c}`" if not c.isidentifier() else c for c in parts)
    return suggestions
