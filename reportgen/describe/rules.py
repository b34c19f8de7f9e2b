"""The rulebook: segment metrics in, recommendations with their evidence out.

Rules are TOML tables whose ``when`` is a condition in :mod:`reportgen.prepare.expressions` over a segment's metrics
(named as in :mod:`reportgen.describe.vocabulary`) and whose ``action`` is a sandboxed Jinja template. Everything is
validated at load so a broken rule fails before the analysis runs, with every problem listed at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field, StringConstraints

from reportgen.describe.stakes import TARGETS
from reportgen.describe.tables import Text, UserTable, read_table
from reportgen.describe.vocabulary import (
    SegmentMetrics,
    evidence_text,
    finite_number,
    metric_hints,
    metric_names_valid,
    missing_reason,
    parse_condition,
    read_tables,
    role_of_metric,
    traits_text,
)
from reportgen.errors import ConfigError
from reportgen.formatting import filters, money, num
from reportgen.prepare.colnames import MONEY_ROLES
from reportgen.prepare.expressions import Expression, ExpressionError
from reportgen.resources import package_data
from reportgen.result import Evidence, Recommendation
from reportgen.sandbox import RULE_LIMITS, BudgetedSandbox, budget, render

# The metric vocabulary and condition parsing live in reportgen.describe.vocabulary; callers still import these
# from here because they are part of what a rulebook is.
__all__ = ["Rule", "Rulebook", "SegmentMetrics", "load_rulebook", "metric_names_valid", "parse_condition",
           "recommend", "role_of_metric"]

TEMPLATE_VARIABLES = ("segment", "audience", "traits", "traits_text")


@dataclass(frozen=True)
class Rule:
    """One validated rule; ``requires`` lists the metrics its condition and action read."""

    id: str
    title: str
    action: str
    rationale: str
    priority: int
    when: Expression | None
    fallback: bool
    requires: frozenset[str]
    source: str
    target: str | None = None  # part of the segment acted on (a key of stakes.TARGETS); None: all of it


@dataclass(frozen=True)
class Rulebook:
    """The rules in force (built-in and/or the user's), exactly one of them the fallback."""

    rules: tuple[Rule, ...]

    @property
    def fallback(self) -> Rule:
        """The rule that fires for a segment no other rule fired for."""
        return next(rule for rule in self.rules if rule.fallback)


def _environment(currency: str) -> SandboxedEnvironment:
    env = BudgetedSandbox(undefined=StrictUndefined, autoescape=False)
    env.filters.update(filters(currency))
    return env


def _check_action(text: str, env: SandboxedEnvironment) -> tuple[frozenset[str], list[str]]:
    """Metrics an action template reads, and its problems: syntax, unknown names, unsafe access, trial render."""
    try:  # finding the variables compiles the template, which is where unknown filters surface
        tree = env.parse(text)
        variables = meta.find_undeclared_variables(tree) - set(TEMPLATE_VARIABLES)
    except TemplateSyntaxError as exc:
        return frozenset(), [f"'action' has a template syntax error on line {exc.lineno}: {exc.message} in {text!r}"]
    if unknown := metric_names_valid(variables):
        return frozenset(), [f"'action' uses unknown variable(s) {metric_hints(unknown)} in {text!r}"]
    private = {n.attr for n in tree.find_all(nodes.Getattr) if n.attr.startswith("_")}
    private |= {str(n.arg.value) for n in tree.find_all(nodes.Getitem)
                if isinstance(n.arg, nodes.Const) and str(n.arg.value).startswith("_")}
    if private:
        return frozenset(), [f"'action' reads private attribute(s) {sorted(private)}, refused by the sandbox"]
    sample: dict[str, Any] = {name: "Champions" if name == "rfm_top_group" else 1.0 for name in variables}
    context = {**sample, "segment": "Sample", "audience": 100, "traits": ["High X"], "traits_text": "high X"}
    try:
        with budget(RULE_LIMITS):
            render(env.from_string(text), context)
    except RecursionError:
        return frozenset(), [f"'action' fails to render with sample values (it calls itself without end) in {text!r}"]
    except Exception as exc:  # anything the user's template raises is a problem of the rule
        return frozenset(), [f"'action' fails to render with sample values ({_one_line(exc)}) in {text!r}"]
    return frozenset(variables), []


class RuleTable(UserTable):
    """One ``[[rule]]`` table as written; each field's description is what it expects."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = Field(
        description="letters, digits, '-', '_' or '.'")
    title: Text = Field(description="non-empty text")
    action: Text = Field(description="non-empty text")
    rationale: Text = Field(description="non-empty text")
    priority: int = Field(ge=1, le=5, description="an integer from 1 (highest) to 5")
    when: str | None = Field(None, description="a condition text")
    fallback: bool = Field(False, description="true or false")
    target: Literal[tuple(sorted(TARGETS))] | None = Field(  # type: ignore[valid-type]
        None, description="one of " + ", ".join(sorted(TARGETS)))


def _parse_rule(raw: Any, index: int, source: str, env: SandboxedEnvironment) -> tuple[Rule | None, list[str]]:
    table, problems = read_table(RuleTable, raw, "rule")
    if not isinstance(raw, dict):
        return None, [f"{source}: rule #{index}: {problems[0]}"]
    rule_id, when_text, fallback, when = raw.get("id"), raw.get("when"), raw.get("fallback") is True, None
    # repr: an id holding a line break or quote must not break the one-line error.
    where = f"{source}: rule {rule_id!r}" if isinstance(rule_id, str) and rule_id else f"{source}: rule #{index}"
    if fallback and str(when_text or "true").strip().lower() != "true":
        problems.append(f"a fallback rule fires when no other rule did, so it takes no 'when' but received "
                        f"{when_text!r}")
    elif not fallback and "when" not in raw:
        problems.append("missing key 'when' (only a rule with fallback = true may leave it out)")
    elif not fallback and isinstance(when_text, str):
        when, problem = parse_condition(when_text)
        problems += [problem] if problem else []
    needs: frozenset[str] = frozenset()
    if isinstance(raw.get("action"), str) and raw["action"].strip():
        needs, found = _check_action(raw["action"], env)
        problems += found
    if problems or table is None:
        return None, [f"{where}: {problem}" for problem in problems]
    target_needs = frozenset(f"z_{role}" for role in TARGETS[table.target].roles) if table.target else frozenset()
    rule = Rule(table.id, table.title, table.action, table.rationale, table.priority, when, table.fallback,
                needs | (when.names if when else frozenset()) | target_needs, source, table.target)
    return rule, []


def _read(path: Path, env: SandboxedEnvironment) -> tuple[list[Rule], list[str]]:
    source = str(path)
    raw_rules, problems = read_tables(path, "rule")
    rules, first_seen = [], {}
    for index, raw in enumerate(raw_rules, 1):
        rule, found = _parse_rule(raw, index, source, env)
        rule_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rule_id, str) and rule_id in first_seen:
            found.append(f"{source}: rule {rule_id!r}: duplicate id (first used by rule #{first_seen[rule_id]})")
        elif isinstance(rule_id, str):
            first_seen[rule_id] = index
        problems += found
        rules += [rule] if rule and not found else []
    if len(fallbacks := [r.id for r in rules if r.fallback]) > 1:
        problems.append(f"{source}: only one rule may have fallback = true but received {fallbacks}")
    return rules, problems


def load_rulebook(path: Path | None = None, mode: str = "extend") -> Rulebook:
    """Load the built-in rulebook and/or a user's rules file, validating everything.

    Parameters
    ----------
    path
        User rules file, or None for the built-in rules only.
    mode
        ``extend``: user rules are added, replacing built-in ones with the same id (a user fallback replaces
        the built-in one); ``replace``: only the user's rules are used.

    Raises
    ------
    ConfigError
        Listing every problem, each naming the file, the rule and the value received.
    """
    if mode not in ("extend", "replace") or (mode == "replace" and path is None):
        raise ConfigError(f"Config value 'rules.mode': expected 'extend', or 'replace' with rules.file set, "
                          f"but received {mode!r} with file {path!r}")
    env = _environment("$")
    builtin, problems = _read(package_data("rulebook.toml"), env) if mode == "extend" else ([], [])
    user, found = _read(Path(path), env) if path is not None else ([], [])
    merged = {r.id: r for r in builtin if not (r.fallback and any(u.fallback for u in user))}
    merged.update({r.id: r for r in user})
    if not problems + found and sum(r.fallback for r in merged.values()) != 1:
        found.append(f"{path}: no fallback rule (a [[rule]] with fallback = true and no 'when') but received none")
    if problems + found:
        raise ConfigError(problems + found)
    return Rulebook(tuple(merged.values()))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _with_shown(metrics: dict[str, float | str], currency: str) -> dict[str, float | str]:
    """``show_<role>`` / ``show_base_<role>`` from the means where the caller gave only those (money in the
    currency, recency and tenure in days)."""
    shown = dict(metrics)
    for name, value in metrics.items():
        for prefix, target in (("mean_", "show_"), ("base_mean_", "show_base_")):
            role = name[len(prefix):]
            if name.startswith(prefix) and role_of_metric(name) == role and f"{target}{role}" not in shown:
                text = money(value, currency) if role in MONEY_ROLES else num(value)
                shown[f"{target}{role}"] = text + " days" * (role in ("recency", "tenure"))
    return shown


def recommend(rulebook: Rulebook, segments_metrics: list[SegmentMetrics], currency: str = "$",
              target_sizes: dict[tuple[int, str], int] | None = None,
              ) -> tuple[list[Recommendation], list[tuple[str, str]]]:
    """Fire the rules on every segment: its recommendations by priority then id, the fallback if none fired.

    Returns
    -------
    tuple[list[Recommendation], list[tuple[str, str]]]
        The recommendations (by segment id, then priority, then rule id), and the rules that could not apply
        to this data as ``(rule id, reason)``, once per rule.
    """
    env, templates = _environment(currency), {}
    not_applicable: dict[str, str] = {}
    recommendations: list[Recommendation] = []
    for segment in sorted(segments_metrics, key=lambda s: s.segment_id):
        segment = SegmentMetrics(segment.segment_id, segment.name, _with_shown(segment.metrics, currency),
                                 segment.traits)
        fired = []
        for rule in (r for r in rulebook.rules if not r.fallback):
            if missing := rule.requires - segment.metrics.keys():
                not_applicable.setdefault(rule.id, missing_reason(missing))
                continue
            try:
                if bool(rule.when.evaluate(segment.metrics)):  # type: ignore[union-attr]
                    fired.append(rule)
            except ExpressionError as exc:
                raise ConfigError(f"{rule.source}: rule '{rule.id}': 'when' fails on segment '{segment.name}': "
                                  f"{exc}") from None
        size = int(finite_number(segment.metrics.get("size")) or 0)
        sizes = target_sizes or {}
        # A rule about part of a segment fires only when that part has customers.
        fired = [r for r in fired if not r.target or sizes.get((segment.segment_id, r.target), size) > 0]
        for rule in sorted(fired or [rulebook.fallback], key=lambda r: (r.priority, r.id)):
            audience = sizes.get((segment.segment_id, rule.target), size) if rule.target else size
            context = {**segment.metrics, "segment": segment.name, "audience": audience,
                       "traits": list(segment.traits), "traits_text": traits_text(segment.traits)}
            try:
                template = templates.get(rule.id) or templates.setdefault(rule.id, env.from_string(rule.action))
                with budget(RULE_LIMITS):
                    action = " ".join(render(template, context).split())
            except RecursionError:
                raise ConfigError(f"{rule.source}: rule '{rule.id}': action fails on segment '{segment.name}': "
                                  "it calls itself without end") from None
            except Exception as exc:  # anything the user's template raises is a problem of the rule
                raise ConfigError(f"{rule.source}: rule '{rule.id}': action fails on segment '{segment.name}': "
                                  f"{_one_line(exc)}") from None
            names = rule.when.ordered_names if rule.when else tuple(sorted(rule.requires))
            evidence = tuple(Evidence(n, v if isinstance(v := segment.metrics[n], str) else float(v),
                                      evidence_text(n, segment.metrics)) for n in names if n in segment.metrics)
            recommendations.append(Recommendation(rule.id, segment.segment_id, segment.name, rule.title, action,
                                                  rule.rationale, rule.priority, audience, evidence, rule.fallback))
    return recommendations, list(not_applicable.items())
