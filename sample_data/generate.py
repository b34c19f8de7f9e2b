"""Generate the bundled synthetic retail customer table with known latent segments.

Writes ``customers.csv`` (one row per customer, no group label) and ``latent_groups.csv``
(``customer_id,group``) next to this script, so tests can check how well the segmentation recovers the
groups the data were drawn from. The output depends only on the seed: running the script twice with the same
seed rewrites both files byte for byte.

Usage::

    python sample_data/generate.py [--seed 2026] [--output-dir sample_data]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

N_CUSTOMERS = 3000
DEFAULT_SEED = 2026
# Every "days since" value counts back from the end of the period the sample report covers (2026-10).
REFERENCE_DATE = pd.Timestamp("2026-10-31")
EARLIEST_SIGNUP = pd.Timestamp("2019-01-01")
MAX_TENURE = (REFERENCE_DATE - EARLIEST_SIGNUP).days
REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
CATEGORIES = ("grocery", "electronics", "fashion", "home")
COLUMNS = (
    "customer_id", "signup_date", "birth_year", "gender", "region", "household_income", "children",
    "spend_grocery", "spend_electronics", "spend_fashion", "spend_home", "total_spend", "orders_12m",
    "web_orders", "store_orders", "catalog_orders", "deal_orders", "web_visits_month", "days_since_last_order",
    "campaigns_accepted", "complaints_12m", "loyalty_member",
)


@dataclass(frozen=True)
class Group:
    """How one latent segment behaves; every draw for its members is parameterised from here."""

    name: str
    share: float
    age: tuple[float, float, float, float]  # mean, sd, lowest, highest
    income_median: float
    income_sigma: float
    children: tuple[tuple[int, ...], tuple[float, ...]]  # values, probabilities
    tenure_days: tuple[int, int]  # uniform range of days since signup
    orders_mean: float  # expected orders over a full 12 months
    basket_median: float  # average order value
    category_mix: tuple[float, float, float, float]  # Dirichlet concentration over CATEGORIES
    channel_mix: tuple[float, float, float]  # web, store, catalog probabilities
    deal_share: float
    web_visits_mean: float
    recency: tuple[int, int] | float  # uniform range (lapsed) or exponential mean (active)
    campaign_p: float  # chance of accepting each of the 5 campaigns
    complaint_rate: float
    loyalty_p: float
    region_p: tuple[float, float, float, float, float]


GROUPS = (
    Group(
        name="budget_families", share=0.28, age=(41, 6, 26, 60), income_median=56_000, income_sigma=0.25,
        children=((1, 2, 3, 4), (0.10, 0.50, 0.28, 0.12)), tenure_days=(200, MAX_TENURE), orders_mean=22,
        basket_median=80, category_mix=(14, 2.5, 3, 4.5), channel_mix=(0.15, 0.80, 0.05), deal_share=0.30,
        web_visits_mean=5, recency=25.0, campaign_p=0.07, complaint_rate=0.04, loyalty_p=0.55,
        region_p=(0.15, 0.25, 0.30, 0.18, 0.12),
    ),
    Group(
        name="deal_seeking_digital", share=0.24, age=(34, 6, 21, 55), income_median=62_000, income_sigma=0.30,
        children=((0, 1, 2), (0.45, 0.35, 0.20)), tenure_days=(120, 2000), orders_mean=26,
        basket_median=68, category_mix=(4, 6, 7, 3), channel_mix=(0.82, 0.15, 0.03), deal_share=0.55,
        web_visits_mean=11, recency=14.0, campaign_p=0.18, complaint_rate=0.05, loyalty_p=0.40,
        region_p=(0.22, 0.18, 0.15, 0.17, 0.28),
    ),
    Group(
        name="affluent_big_spenders", share=0.20, age=(52, 8, 30, 80), income_median=125_000, income_sigma=0.30,
        children=((0, 1, 2), (0.50, 0.35, 0.15)), tenure_days=(500, MAX_TENURE), orders_mean=24,
        basket_median=220, category_mix=(4, 6, 5, 5), channel_mix=(0.30, 0.45, 0.25), deal_share=0.05,
        web_visits_mean=3, recency=18.0, campaign_p=0.35, complaint_rate=0.03, loyalty_p=0.80,
        region_p=(0.30, 0.15, 0.12, 0.13, 0.30),
    ),
    Group(
        name="young_new_customers", share=0.16, age=(24, 3, 18, 32), income_median=34_000, income_sigma=0.30,
        children=((0, 1), (0.92, 0.08)), tenure_days=(7, 660), orders_mean=10,
        basket_median=52, category_mix=(6, 5, 8, 1), channel_mix=(0.70, 0.28, 0.02), deal_share=0.30,
        web_visits_mean=8, recency=35.0, campaign_p=0.06, complaint_rate=0.03, loyalty_p=0.20,
        region_p=(0.20, 0.18, 0.17, 0.20, 0.25),
    ),
    Group(
        name="lapsed_high_value", share=0.12, age=(60, 9, 35, 85), income_median=88_000, income_sigma=0.35,
        children=((0, 1, 2), (0.60, 0.30, 0.10)), tenure_days=(1200, MAX_TENURE), orders_mean=3,
        basket_median=150, category_mix=(5, 5, 4, 6), channel_mix=(0.20, 0.50, 0.30), deal_share=0.15,
        web_visits_mean=2, recency=(200, 700), campaign_p=0.04, complaint_rate=0.30, loyalty_p=0.60,
        region_p=(0.25, 0.20, 0.20, 0.15, 0.20),
    ),
)


def _group_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    """Exact group sizes from the shares (rounding remainder to the largest group), in random order."""
    counts = [round(group.share * n) for group in GROUPS]
    counts[0] += n - sum(counts)
    labels = np.repeat(np.arange(len(GROUPS)), counts)
    return rng.permutation(labels)


def _draw_group(rng: np.random.Generator, group: Group, n: int) -> dict[str, np.ndarray]:
    """Draw the clean (quirk-free) columns for ``n`` members of one group."""
    mean, sd, low, high = group.age
    age = np.clip(np.rint(rng.normal(mean, sd, n)), low, high).astype(int)
    income = np.rint(group.income_median * np.exp(rng.normal(0, group.income_sigma, n)) / 10) * 10
    children = rng.choice(group.children[0], size=n, p=group.children[1])
    tenure = rng.integers(group.tenure_days[0], group.tenure_days[1] + 1, n)

    # Recency can never exceed tenure: nobody ordered before they signed up.
    if isinstance(group.recency, tuple):
        recency = rng.integers(group.recency[0], group.recency[1] + 1, n)
    else:
        recency = np.rint(rng.exponential(group.recency, n)).astype(int) + 1
    recency = np.minimum(recency, tenure)

    # Orders scale with the part of the last 12 months the customer has been around; anyone whose last
    # order is older than a year has, by definition, no orders in the window.
    active_share = np.minimum(tenure, 365) / 365
    orders = rng.poisson(group.orders_mean * active_share)
    orders = np.where(recency > 365, 0, np.maximum(orders, 1))

    channels = np.array([rng.multinomial(k, group.channel_mix) for k in orders]).reshape(n, 3)
    deals = rng.binomial(orders, group.deal_share)

    basket = group.basket_median * np.exp(rng.normal(0, 0.25, n))
    mix = rng.dirichlet(group.category_mix, n)
    # Whole currency units keep the file small and make total_spend an exact sum of the categories.
    category_spend = np.rint(mix * (orders * basket)[:, None]).astype(int)

    return {
        "age": age,
        "household_income": income,
        "children": children,
        "tenure": tenure,
        "recency": recency,
        "orders": orders,
        "channels": channels,
        "deals": deals,
        "category_spend": category_spend,
        "web_visits": rng.poisson(group.web_visits_mean, n),
        "campaigns": rng.binomial(5, group.campaign_p, n),
        "complaints": np.minimum(rng.poisson(group.complaint_rate, n), 3),
        "loyalty": rng.random(n) < group.loyalty_p,
        "region": rng.choice(len(REGIONS), size=n, p=group.region_p),
    }


def _add_quirks(rng: np.random.Generator, table: pd.DataFrame) -> None:
    """The small share of messy values real customer extracts have, so cleaning has something to do."""
    n = len(table)
    missing_income = rng.choice(n, size=round(0.01 * n), replace=False)
    table.loc[missing_income, "household_income"] = pd.NA

    # Placeholder birth years from a form that defaulted to the start of the century.
    remaining = np.setdiff1d(np.arange(n), missing_income)
    bad_birth = rng.choice(remaining, size=5, replace=False)
    table.loc[bad_birth, "birth_year"] = [1900, 1900, 1900, 1899, 1901]

    # One typed-in sentinel and one genuine outlier: both far beyond any plausible household income.
    remaining = np.setdiff1d(remaining, bad_birth)
    extreme = rng.choice(remaining, size=2, replace=False)
    table.loc[extreme, "household_income"] = [999_999, 2_450_000]


def generate(seed: int = DEFAULT_SEED, n: int = N_CUSTOMERS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the customer table and the latent group of each customer.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same tables.
    n
        Number of customers.

    Returns
    -------
    customers, latent
        The customer table (columns :data:`COLUMNS`) and a ``customer_id, group`` table.
    """
    rng = np.random.default_rng(seed)
    labels = _group_labels(rng, n)
    parts = {i: _draw_group(rng, group, int((labels == i).sum())) for i, group in enumerate(GROUPS)}

    def gather(key: str) -> np.ndarray:
        # Scatter each group's draws back to its members' rows so the row order stays random.
        first = parts[0][key]
        out = np.empty((n, *first.shape[1:]), dtype=first.dtype)
        for i, part in parts.items():
            out[labels == i] = part[key]
        return out

    channels = gather("channels")
    spend = gather("category_spend")
    orders = gather("orders")
    gender = rng.choice(np.array(["F", "M", "other"]), size=n, p=[0.51, 0.46, 0.03])
    signup = REFERENCE_DATE - pd.to_timedelta(gather("tenure"), unit="D")
    ids = pd.Series([f"C{i:05d}" for i in range(1, n + 1)])

    customers = pd.DataFrame({
        "customer_id": ids,
        "signup_date": signup.strftime("%Y-%m-%d"),
        "birth_year": REFERENCE_DATE.year - gather("age"),
        "gender": gender,
        "region": np.array(REGIONS)[gather("region")],
        "household_income": pd.array(gather("household_income").astype(np.int64), dtype="Int64"),
        "children": gather("children"),
        **{f"spend_{name}": spend[:, j] for j, name in enumerate(CATEGORIES)},
        "total_spend": spend.sum(axis=1),
        "orders_12m": orders,
        "web_orders": channels[:, 0],
        "store_orders": channels[:, 1],
        "catalog_orders": channels[:, 2],
        "deal_orders": gather("deals"),
        "web_visits_month": gather("web_visits"),
        "days_since_last_order": gather("recency"),
        "campaigns_accepted": gather("campaigns"),
        "complaints_12m": gather("complaints"),
        "loyalty_member": np.where(gather("loyalty"), "yes", "no"),
    }, columns=list(COLUMNS))
    _add_quirks(rng, customers)

    latent = pd.DataFrame({"customer_id": ids, "group": np.array([g.name for g in GROUPS])[labels]})
    return customers, latent


def _check(customers: pd.DataFrame) -> None:
    """Fail loudly if a change to the generator breaks the invariants the sample data promise."""
    spend = customers[[f"spend_{name}" for name in CATEGORIES]].sum(axis=1)
    channels = customers[["web_orders", "store_orders", "catalog_orders"]].sum(axis=1)
    broken = {
        "total_spend must equal the category spends": (spend != customers["total_spend"]).any(),
        "channel orders must add up to orders_12m": (channels != customers["orders_12m"]).any(),
        "deal_orders must not exceed orders_12m": (customers["deal_orders"] > customers["orders_12m"]).any(),
        "customer_id must be unique": not customers["customer_id"].is_unique,
    }
    problems = [message for message, failed in broken.items() if failed]
    if problems:
        raise RuntimeError("; ".join(problems))


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: write ``customers.csv`` and ``latent_groups.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument(
        "--output-dir", type=Path, default=Path(__file__).resolve().parent, help="folder to write the CSV files to")
    args = parser.parse_args(argv)

    customers, latent = generate(args.seed)
    _check(customers)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    customers.to_csv(args.output_dir / "customers.csv", index=False, lineterminator="\n")
    latent.to_csv(args.output_dir / "latent_groups.csv", index=False, lineterminator="\n")
    print(f"wrote {len(customers)} customers to {args.output_dir}")


if __name__ == "__main__":
    main()
