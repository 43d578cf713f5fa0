"""EXPLAIN (ANALYZE, BUFFERS) the "who needs contact" queries on the large seed; fail on a sequential scan of outreach.

    .venv/bin/python bench/explain_flags.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Two parts:
1. A representative flag query written here before the flags existed (last contact per family member of one
   liaison's open cases, the 25 most overdue first), for a liaison and, with --all-cases, the whole agency.
2. The real thing: every statement the staff dashboard view runs (portal/services/flag_queries.py: the ranked
   flags, the pending ones, the open cases, the handovers), captured from the app and explained with its own
   parameters, for the liaison and, with --all-cases, for a supervisor's first page over the whole agency.
Exit status 1 when any plan holds a sequential scan over outreach.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"  # noqa: A001

from .common import DEFAULT_DATABASE_URL, KNOWN_STAFF, ensure_importable, libpq_url, sqlalchemy_url  # noqa: E402
from .report import command_line, machine, machine_markdown, update_results  # noqa: E402

REPRESENTATIVE = """
SELECT fm.id, fm.case_id, c.case_number, fm.cadence, lc.occurred_at AS last_contact,
       coalesce(lc.occurred_at, c.opened_at)
         + make_interval(days => CASE fm.cadence WHEN 'weekly' THEN 7 WHEN 'monthly' THEN 30 ELSE 14 END) AS due_at
FROM cases c
JOIN family_members fm ON fm.case_id = c.id
LEFT JOIN LATERAL (
    SELECT o.occurred_at FROM outreach o WHERE o.family_member_id = fm.id ORDER BY o.occurred_at DESC LIMIT 1
) lc ON true
WHERE c.closed_at IS NULL AND fm.cadence NOT IN ('do_not_contact', 'on_change') {scope}
ORDER BY due_at
LIMIT 25
"""
LIAISON_SCOPE = "AND (c.liaison_id = %(liaison)s OR c.backup_liaison_id = %(liaison)s)"


def seq_scans(plan: dict, relation: str = "outreach") -> list[str]:
    """Every sequential scan (plain or parallel) over the relation anywhere in a JSON plan tree."""
    found = []
    if plan.get("Node Type", "").endswith("Seq Scan") and plan.get("Relation Name") == relation:
        found.append(f"{plan['Node Type']} on {relation} (rows={plan.get('Actual Rows')})")
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child, relation))
    return found


def explain(cursor, sql: str, params) -> tuple[dict, str]:
    """(JSON plan, text plan) of one statement, actually run (ANALYZE) with its parameters."""
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    return plan, "\n".join(r[0] for r in cursor.fetchall())


SUMMARY: list[str] = []  # one line per plan, for bench/RESULTS.md


def show(title: str, plan: dict, text: str, verbose: bool) -> list[str]:
    scans = seq_scans(plan["Plan"])
    again = next((line.split(":")[1].strip() for line in text.splitlines() if "Execution Time" in line), "?")
    line = (f"execution {plan['Execution Time']:.1f} ms (first run), {again} (second run); "
            f"sequential scan over outreach: {'YES: ' + '; '.join(scans) if scans else 'no'}")
    SUMMARY.append(f"- {title}: {line}")
    print(f"\n== {title}")
    print(f"   {line}")
    if verbose or scans:
        print("   " + text.replace("\n", "\n   "))
    return scans


def representative(conn, liaison_id: int, all_cases: bool, verbose: bool) -> list[str]:
    """Part 1: the query written here."""
    found = []
    with conn.cursor() as cur:
        plan, text = explain(cur, REPRESENTATIVE.format(scope=LIAISON_SCOPE), {"liaison": liaison_id})
        found += show(f"representative flag query, one liaison's caseload (user {liaison_id}), first page",
                      plan, text, verbose)
        if all_cases:
            plan, text = explain(cur, REPRESENTATIVE.format(scope=""), {})
            found += show("representative flag query, the whole agency (supervisor), first page", plan, text,
                          verbose)
    return found


def from_app(database_url: str, email: str, verbose: bool) -> list[str]:
    """Part 2: capture the statements the dashboard view runs for this user, then explain each SELECT."""
    ensure_importable()
    from flask_login import login_user
    from sqlalchemy import event, select

    from portal import create_app
    from portal.extensions import db
    from portal.models import User

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url)})
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            raise SystemExit(f"{email} is not in this database; run bench/seed_large.py first")
        with app.test_request_context("/staff/"):
            login_user(user)
            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                app.view_functions["staff.dashboard"]()
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
        print(f"\n== the staff dashboard view as {email}: {len(captured)} statements")
        SUMMARY.append(f"- the staff dashboard view as {email}: {len(captured)} statements")
        found, touching = [], 0
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            for n, (statement, params) in enumerate(captured, 1):
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                plan, text = explain(cur, statement, params)
                if "outreach" in statement:
                    touching += 1
                found += show(f"{email.split('@')[0]}'s dashboard statement {n}: "
                              f"{' '.join(statement.split())[:90]}...", plan, text, verbose)
            raw.rollback()
        finally:
            raw.close()
        if not touching:
            print("   none of the dashboard's statements reads outreach yet")
            SUMMARY.append("  - none of the dashboard's statements reads outreach yet")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--email", default=KNOWN_STAFF["liaison"], help="the liaison whose first page to explain")
    parser.add_argument("--all-cases", action="store_true", help="also the agency-wide (supervisor) first page")
    parser.add_argument("--skip-app", action="store_true", help="only the representative query")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every plan, not only failing ones")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    info = machine()
    import psycopg

    with psycopg.connect(libpq_url(args.database_url)) as conn:
        row = conn.execute("SELECT id FROM users WHERE email = %s", (args.email,)).fetchone()
        if row is None:
            print(f"{args.email} is not in this database; run bench/seed_large.py first", file=sys.stderr)
            return 2
        found = representative(conn, row[0], args.all_cases, args.verbose)
    if not args.skip_app:
        found += from_app(args.database_url, args.email, args.verbose)
        if args.all_cases:
            found += from_app(args.database_url, KNOWN_STAFF["supervisor"], args.verbose)
    result = "sequential scan over outreach found" if found else "no sequential scan over outreach"
    print("\nRESULT:", result)
    if not args.no_write:
        update_results("flags", "## The flag query (bench/explain_flags.py)\n\nMachine, at the start:\n\n"
                       f"{machine_markdown(info)}\n\nCommand:\n\n    {command_line()}\n\n" + "\n".join(SUMMARY)
                       + f"\n\n**Result: {result}.**")
        print("bench/RESULTS.md updated (section 'flags').")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
