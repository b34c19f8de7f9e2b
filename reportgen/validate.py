"""``reportgen validate``: the data and config checks and the data-quality summary, without a report."""

from __future__ import annotations

from reportgen.config import Config
from reportgen.inputs.sources import load_source
from reportgen.prepare.features import prepare


def quality_summary(config: Config) -> str:
    """Try every user file, then load and clean the data as a run would, and describe the outcome as plain text."""
    from reportgen.userfiles import check_user_files

    checked = check_user_files(config)
    source = load_source(config)
    table = source.table
    prepared = prepare(table, source.config)
    quality = prepared.quality
    lines = [f"{table.path.name}: {quality.rows_read:,} rows read, {quality.rows_segmented:,} usable customers",
             *(f"  note: {note}" for note in table.notes)]
    for count in quality.exclusions:
        lines.append(f"  excluded {count.count:,} rows: {count.label}" + (f" ({count.detail})" if count.detail else ""))
    lines.append(f"id column: {quality.id_column or '(none: row numbers are used)'}")
    lines.append(f"numeric features ({len(quality.numeric_features)}): {', '.join(quality.numeric_features) or '-'}")
    lines.append(f"categorical features ({len(quality.categorical_features)}): "
                 f"{', '.join(quality.categorical_features) or '-'}")
    for name, expression in quality.derived:
        lines.append(f"derived: {name} = {expression}")
    lines.append("roles: " + (", ".join(f"{r}={c}" for r, c in prepared.roles.items()) or "(none found)"))
    ignored = [c for c in quality.columns if c.kind == "ignored"]
    for column in ignored:
        lines.append(f"ignored: {column.name}: {column.reason}")
    for action in quality.actions:
        lines.append(f"cleaning: {action.column}: {action.action} ({action.count:,})"
                     + (f" {action.detail}" if action.detail else ""))
    lines += checked
    lines.append("OK: the data and config are usable.")
    return "\n".join(lines)
