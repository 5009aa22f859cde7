"""Show an audit: a rich table for the terminal, an escaped HTML fragment for reports."""

from __future__ import annotations

from html import escape

from rich.table import Table

from narrowtune.data.audit.findings import AuditReport, Finding

STYLE = {"blocking": "bold red", "warning": "yellow", "info": "cyan"}
MAX_ROWS_SHOWN = 5


def _rows_preview(finding: Finding) -> str:
    shown = ", ".join(finding.rows[:MAX_ROWS_SHOWN])
    more = len(finding.rows) - MAX_ROWS_SHOWN
    return shown + (f" (+{more} more)" if more > 0 else "")


def audit_table(report: AuditReport) -> Table:
    """Findings, most severe first: severity, check, what was found, how many rows, where."""
    counts = {s: len([f for f in report.findings if f.severity == s]) for s in STYLE}
    table = Table(
        title=f"Data audit: {counts['blocking']} blocking, {counts['warning']} warning(s), "
        f"{counts['info']} note(s) ({report.seconds:.1f} s)",
        show_lines=True,
    )
    table.add_column("severity", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding", overflow="fold")
    table.add_column("rows", justify="right")
    table.add_column("where", overflow="fold")
    for finding in report.findings:
        table.add_row(
            f"[{STYLE[finding.severity]}]{finding.severity}[/]",
            finding.check,
            escape_markup(finding.message),
            str(len(finding.rows)),
            escape_markup(_rows_preview(finding)),
        )
    if not report.findings:
        table.add_row("[green]ok[/]", "—", "no problems found", "0", "")
    return table


def escape_markup(text: str) -> str:
    """Keep rich from reading '[EMAIL]' or '[x]' in a message as markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def audit_html(report: AuditReport) -> str:
    """An HTML fragment (a <section>, every value escaped) for the eval report."""
    counts = {s: len([f for f in report.findings if f.severity == s]) for s in STYLE}
    parts = [
        '<section class="narrowtune-audit">',
        "<h2>Data audit</h2>",
        f"<p>{counts['blocking']} blocking, {counts['warning']} warning(s), "
        f"{counts['info']} note(s); audit took {report.seconds:.1f} s.</p>",
    ]
    if not report.findings:
        parts.append("<p>No problems found.</p></section>")
        return "\n".join(parts)
    parts.append(
        "<table><thead><tr><th>severity</th><th>check</th><th>finding</th><th>rows</th>"
        "<th>where</th></tr></thead><tbody>"
    )
    for finding in report.findings:
        parts.append(
            f'<tr class="audit-{escape(finding.severity)}">'
            f"<td>{escape(finding.severity)}</td><td>{escape(finding.check)}</td>"
            f"<td>{escape(finding.message)}</td><td>{len(finding.rows)}</td>"
            f"<td>{escape(_rows_preview(finding))}</td></tr>"
        )
    parts.append("</tbody></table></section>")
    return "\n".join(parts)
