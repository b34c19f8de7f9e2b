"""The profile in plain words: traits as "2.4× the average" or "460 vs 40 days", a one-sentence portrait.

Managers read labels and units, never σ or z-scores; the statistics stay in the appendix. Traits are chosen
by the profile (strongest |z| first); only their wording is made here, from each feature's label and unit kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from reportgen.describe.profile import SegmentProfile
from reportgen.formatting import money, num, pct
from reportgen.result import FeatureStat, Trait


def value_text(value: float, unit: str, currency: str = "$") -> str:
    """A number in its unit: '$1,234', '460 days', '3.2 months', '45 years', '12', '62%'."""
    if value != value:  # NaN
        return "n/a"
    if unit == "currency":
        return money(value, currency)
    if unit == "share":
        return pct(value).replace(".0%", "%")
    if unit == "percent":
        return f"{value:.0f}%"
    if unit in ("days", "months", "years"):
        shown = num(value)
        return f"{shown} {unit[:-1] if shown == '1.00' else unit}"
    return num(value)


def _ratio_words(ratio: float) -> str | None:
    if ratio >= 1.95 and abs(ratio - 2) < 0.05:
        return "twice the average"
    if ratio >= 1.5:
        return f"{ratio:.1f}× the average"
    if 0 < ratio <= 0.5:
        return "less than half the average" if ratio > 0.34 else "a fraction of the average"
    return None


def stat_text(stat: FeatureStat, label: str, unit: str, currency: str = "$") -> str:
    """One numeric trait in plain words, e.g. 'Total spend 2.4× the average ($1,520 vs $630)'."""
    mean, base = value_text(stat.mean, unit, currency), value_text(stat.base_mean, unit, currency)
    words = _ratio_words(stat.mean / stat.base_mean) if stat.base_mean > 0 and stat.mean >= 0 and unit != "share" \
        else None
    if words is None:
        strength = "well " if abs(stat.z) >= 0.8 else ""
        words = f"{strength}{'above' if stat.z > 0 else 'below'} average"
    return f"{label} {words} ({mean} vs {base})"


def plain_traits(profile: SegmentProfile, labels: Mapping[str, str], units: Mapping[str, str],
                 currency: str = "$") -> tuple[Trait, ...]:
    """The profile's traits re-worded with labels and units (same traits, same order, same scores)."""
    stats = {s.feature: s for s in profile.stats}
    shares = {f"{c.column}={c.level}": c for c in profile.categories}
    traits = []
    for trait in profile.traits:
        if trait.kind == "numeric" and trait.feature in stats:
            stat = stats[trait.feature]
            label = labels.get(trait.feature, trait.feature)
            if abs(stat.z) < 0.3:
                text = f"Close to average on every measure (largest gap: {label.lower()})"
            else:
                text = stat_text(stat, label, units.get(trait.feature, "number"), currency)
        elif trait.feature in shares:
            c = shares[trait.feature]
            text = (f"{labels.get(c.column, c.column)} '{c.level}' more common "
                    f"({c.share:.0%} vs {c.base_share:.0%} of all customers)")
        else:
            text = trait.text
        traits.append(dataclasses.replace(trait, text=text))
    return tuple(traits)


def short_trait(trait: Trait, labels: Mapping[str, str]) -> str:
    """A trait as a name fragment: 'High total spend', 'Mostly Female'."""
    if trait.kind == "categorical" and "=" in trait.feature:
        return f"Mostly {trait.feature.split('=', 1)[1]}"
    label = labels.get(trait.feature, trait.feature)
    return f"{trait.direction.capitalize()} {label[:1].lower() + label[1:]}"


def portrait(traits: tuple[Trait, ...]) -> str:
    """One sentence from the strongest traits: 'Customers with total spend 2.4× the average (…) and …'."""
    if not traits:
        return "Customers close to the average on every measure."
    parts = [t.text[:1].lower() + t.text[1:] if t.text[1:2].islower() else t.text for t in traits[:3]]
    body = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"Customers with {body}."


def role_texts(profile: SegmentProfile, units: Mapping[str, str], currency: str = "$",
               labels: Mapping[str, str] | None = None) -> dict[str, float | str]:
    """Extra metrics for names and rule texts: ``show_<role>`` / ``show_base_<role>`` (mean and base mean in their
    unit, e.g. '460 days') and ``max_abs_z`` (the strongest gap over every feature, role or not)."""
    out: dict[str, float | str] = {}
    for stat in profile.stats:
        if stat.role:
            unit = units.get(stat.feature, "number")
            out[f"show_{stat.role}"] = value_text(stat.mean, unit, currency)
            out[f"show_base_{stat.role}"] = value_text(stat.base_mean, unit, currency)
            label = (labels or {}).get(stat.feature)
            if label:
                out[f"label_{stat.role}"] = label[:1].lower() + label[1:]
    gaps = [abs(s.z) for s in profile.stats if s.z == s.z]
    gaps += [min(3.0, c.lift - 1) for c in profile.categories if c.share >= 0.1 and c.lift >= 1.3]
    out["max_abs_z"] = max(gaps) if gaps else 0.0
    return out
