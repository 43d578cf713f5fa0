"""Fill a PostgreSQL database with a national-scale portal: 100,000 cases and everything around them.

    .venv/bin/python bench/seed_large.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Runs `flask db upgrade` on the target first (the migrations own the schema; this only adds rows), then COPYs
each table. --scale 0.01 makes a small copy for trying things out; --reset empties the tables first.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/seed_large.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "bench"  # noqa: A001

from . import seed_extra as extra  # noqa: E402
from . import seed_rows as rows  # noqa: E402
from .common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    ENCRYPTION_KEYS,
    KNOWN_FAMILY,
    KNOWN_STAFF,
    PASSWORD,
    ROOT,
    TOTP_SECRET,
    copy_rows,
    ensure_importable,
    libpq_url,
    sqlalchemy_url,
)
from .report import command_line, machine, machine_markdown, update_results  # noqa: E402
from .seed_world import World, build_cases, build_members, build_staff, pick_known_family, plan_contacts  # noqa: E402

FULL = {"cases": 100_000, "family_members": 250_000, "outreach": 2_000_000, "leads": 100_000,
        "notifications": 1_000_000, "appointments": 50_000, "liaisons": 300, "supervisors": 20, "admins": 5,
        "lead_notes": 40_000, "lead_questions": 8_000, "inbound_sms": 30_000, "case_messages": 150_000,
        "audit_events": 200_000}
COLUMNS = {
    "users": "id email name phone role language password_hash active session_version totp_secret mfa_enrolled_at "
             "locked_at locked_until last_login_at created_at updated_at",
    "agency": "id name timezone phone email address first_contact_hours first_contact_warning_hours "
              "default_cadence_days stage_change_contact_days lead_review_hours message_reply_business_days "
              "callback_confirm_business_days updated_at",
    "resources": "id title description phone url language sort_order created_at",
    "cases": "id case_number decedent_name date_of_death stage stage_changed_at liaison_id backup_liaison_id "
             "opened_at closed_at created_at updated_at",
    "family_members": "id case_id user_id name relationship_to_decedent phone email language timezone "
                      "is_spokesperson texts_enabled texts_consent_at texts_consent_wording texts_consent_method "
                      "detailed_texts quiet_start quiet_end cadence preferred_channel preferred_times "
                      "sms_opted_out_at phone_flagged_at created_at updated_at",
    "invitations": "id family_member_id token_hash created_by_id created_at expires_at used_at revoked_at",
    "case_updates": "id case_id author_id kind family_visible body stage_from stage_to created_at",
    "availability_windows": "id liaison_id weekday start_time end_time slot_minutes created_at",
    "availability_exceptions": "id liaison_id day start_time end_time reason created_at",
    "outreach": "id case_id family_member_id staff_id channel direction outcome occurred_at notes is_system "
                "source_type source_id corrects_id created_by_id created_at",
    "tip_links": "id case_id token_hash created_by_family_member_id created_at revoked_at",
    "leads": "id reference case_id family_member_id submitted_by_id tip_link_id is_anonymous people last_48_hours "
             "supplier phone_and_accounts details status assigned_to_id reviewed_at submission_key tip_code "
             "tip_passphrase_hash created_at updated_at",
    "lead_notes": "id lead_id author_id body created_at",
    "lead_questions": "id lead_id asked_by_id question asked_at answer answered_at acknowledged_at",
    "notifications": "id channel recipient body language kind urgent status attempts next_attempt_at claimed_at "
                     "provider_sid error_code case_id family_member_id created_at updated_at sent_at delivered_at",
    "inbound_sms": "id message_sid from_number to_number body handling family_member_id case_id linked_by_id "
                   "linked_at received_at",
    "case_messages": "id case_id sender family_member_id author_id channel body inbound_sms_id created_at",
    "appointments": "id case_id family_member_id liaison_id kind mode starts_at ends_at callback_window reason "
                    "status confirmed_at cancelled_at completed_at rescheduled_from_id reminder_24h_sent_at "
                    "reminder_1h_sent_at created_at updated_at",
    "audit_events": "id occurred_at actor_id actor_role action target_type target_id ip outcome details",
}


def upgrade_schema(database_url: str) -> None:
    """`flask db upgrade` on the target: the app's migrations create and own every table and index."""
    env = {"PORTAL_CONFIG": "development", "DATABASE_URL": sqlalchemy_url(database_url), "PATH": "/usr/bin:/bin",
           "ENCRYPTION_KEYS": ENCRYPTION_KEYS}
    subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True)


_COPY_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_unescape(field: str) -> str:
    """A COPY text-format field back to its value (the inverse of common.esc)."""
    if "\\" not in field:
        return field
    out, chars = [], iter(field)
    for ch in chars:
        out.append(_COPY_ESCAPES.get(next(chars, ""), "") if ch == "\\" else ch)
    return "".join(out)


def encrypting(table: str, lines, keyring):
    """The COPY lines with every encrypted column (the models' EncryptedText columns) encrypted as the portal would:
    the database never holds lead text, message bodies or TOTP secrets in the clear, seeded or not."""
    from portal.extensions import db
    from portal.models.types import encrypted_columns

    columns = COLUMNS[table].split()
    targets = [(columns.index(col), kind.context) for name, col, kind in encrypted_columns(db.metadata)
               if name == table and col in columns]
    if not targets:
        yield from lines
        return
    for line in lines:
        fields = line.rstrip("\n").split("\t")
        for index, context in targets:
            if fields[index] != "\\N":
                fields[index] = keyring.encrypt_text(copy_unescape(fields[index]), context=context)
        yield "\t".join(fields) + "\n"


def counts_for(scale: float) -> dict[str, int]:
    out = {k: max(1, round(v * scale)) for k, v in FULL.items()}
    out["liaisons"] = max(3, out["liaisons"])
    out["family_members"] = max(out["family_members"], out["cases"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 cases (default)")
    parser.add_argument("--reset", action="store_true", help="empty every table first (keeps the schema)")
    parser.add_argument("--seed", type=int, default=8, help="random seed (the same seed gives the same data)")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args(argv)
    info = machine()
    ensure_importable()
    import psycopg
    from sqlalchemy.dialects import postgresql

    from portal.crypto import Keyring
    from portal.models.last_contact import latest_contact_sql
    from portal.services.accounts import hash_password

    keyring = Keyring.from_spec(ENCRYPTION_KEYS)

    n = counts_for(args.scale)
    timings: list[tuple[str, int, float]] = []
    started = time.monotonic()

    t0 = time.monotonic()
    upgrade_schema(args.database_url)
    timings.append(("flask db upgrade", 0, time.monotonic() - t0))

    with psycopg.connect(libpq_url(args.database_url)) as conn:
        conn.execute("SET synchronous_commit = off")
        existing = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        if existing and not args.reset:
            print(f"The database already holds {existing:,} cases. Use --reset to empty it first.", file=sys.stderr)
            return 2
        if args.reset:
            conn.execute("TRUNCATE " + ", ".join(COLUMNS) + " RESTART IDENTITY CASCADE")
            conn.commit()

        t0 = time.monotonic()
        w = World(now=time.time(), rng=random.Random(args.seed), scale=args.scale)
        weights = build_staff(w, n["liaisons"], n["supervisors"], n["admins"])
        build_cases(w, n["cases"], weights)
        build_members(w, n["family_members"])
        plan_contacts(w, n["outreach"])
        pick_known_family(w, len(KNOWN_FAMILY), KNOWN_FAMILY)
        password_hash = hash_password(PASSWORD)
        timings.append(("plan (in memory)", 0, time.monotonic() - t0))

        staff_ids = {1: KNOWN_STAFF["liaison"], 2: KNOWN_STAFF["liaison_busy"],
                     n["liaisons"] + 1: KNOWN_STAFF["supervisor"],
                     n["liaisons"] + n["supervisors"] + 1: KNOWN_STAFF["admin"]}
        family_ids = {mid: email for email, mid, _case in w.known_family}
        tip_lines, lead_lines, lead_meta = rows.leads_and_tips(w, n["leads"])
        inbound_lines, message_lines = extra.inbound_and_messages(w, n["inbound_sms"], n["case_messages"])
        plan = [
            ("users", rows.users(w, password_hash, TOTP_SECRET, staff_ids, family_ids),
             len(w.staff_roles) + w.n_family_users),
            ("agency", extra.agency(w), 1),
            ("resources", extra.resources(w), len(extra.RESOURCES)),
            ("cases", rows.cases(w), n["cases"]),
            ("family_members", rows.family_members(w), n["family_members"]),
            ("invitations", rows.invitations(w), w.n_family_users),
            ("case_updates", rows.case_updates(w), sum(len(p) + 1 for p in w.c_path)),
            ("availability_windows", extra.availability_windows(w), 3 * len(w.liaisons)),
            ("availability_exceptions", extra.availability_exceptions(w), len(w.liaisons)),
            ("outreach", rows.outreach(w), n["outreach"]),
            ("tip_links", iter(tip_lines), len(tip_lines)),
            ("leads", iter(lead_lines), len(lead_lines)),
            ("lead_notes", extra.lead_notes(w, lead_meta, n["lead_notes"]), n["lead_notes"]),
            ("lead_questions", extra.lead_questions(w, lead_meta, n["lead_questions"]), n["lead_questions"]),
            ("notifications", rows.notifications(w, n["notifications"]), n["notifications"]),
            ("inbound_sms", iter(inbound_lines), len(inbound_lines)),
            ("case_messages", iter(message_lines), len(message_lines)),
            ("appointments", rows.appointments(w, n["appointments"]), n["appointments"]),
            ("audit_events", extra.audit_events(w, n["audit_events"]), n["audit_events"]),
        ]
        # The database keeps each case's and member's latest contact with a trigger on outreach (migration
        # 0005_perf_flags); for a bulk load it is off and the kept values are computed once at the end.
        conn.execute("ALTER TABLE outreach DISABLE TRIGGER outreach_keeps_last_contact")
        conn.commit()
        for table, lines, total in plan:
            t0 = time.monotonic()
            written = copy_rows(conn, table, COLUMNS[table].split(), encrypting(table, lines, keyring), total)
            conn.commit()
            timings.append((table, written, time.monotonic() - t0))
        t0 = time.monotonic()
        for statement in latest_contact_sql(postgresql.dialect()).backfill:
            conn.execute(statement)
        conn.execute("ALTER TABLE outreach ENABLE TRIGGER outreach_keeps_last_contact")
        conn.commit()
        timings.append(("latest contact kept", 0, time.monotonic() - t0))

        t0 = time.monotonic()
        for table in COLUMNS:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (our names)
                         f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
        timings.append(("sequences + VACUUM ANALYZE", 0, time.monotonic() - t0))

    total_time = time.monotonic() - started
    table = _report(timings, total_time, w)
    if not args.no_write and args.scale == 1.0:
        update_results("seed", f"## The large seed (bench/seed_large.py)\n\nMachine, at the start:\n\n"
                       f"{machine_markdown(info)}\n\nCommand:\n\n    {command_line()}\n\n```\n{table}\n```")
        print("bench/RESULTS.md updated (section 'seed').")
    return 0


def _report(timings, total_time: float, w: World) -> str:
    lines = ["table                            rows    seconds     rows/s"]
    for table, count, seconds in timings:
        rate = f"{count / seconds:>10,.0f}" if count and seconds else ""
        lines.append(f"{table:<26} {count:>11,} {seconds:>10.1f} {rate}")
    lines.append(f"{'total':<26} {sum(c for _, c, _ in timings):>11,} {total_time:>10.1f}")
    print("\n" + "\n".join(lines))
    caseload = sum(1 for c in range(len(w.c_liaison)) if w.c_liaison[c] == 1 or w.c_backup[c] == 1)
    open_load = sum(1 for c in range(len(w.c_liaison)) if not w.c_closed[c] and 1 in (w.c_liaison[c], w.c_backup[c]))
    print(f"\nKnown accounts (fictional; password for all: {PASSWORD!r}; staff TOTP secret: {TOTP_SECRET})")
    for role, email in KNOWN_STAFF.items():
        print(f"  {role:<13} {email}")
    print(f"  (liaison1 sees {caseload:,} cases, {open_load:,} of them open)")
    for email, mid, cid in w.known_family:
        print(f"  family        {email}  (member {mid}, case {cid}: {w.c_stage[cid - 1]}, "
              f"{w.m_contacts[mid - 1]} contacts)")
    lines.append(f"liaison1 sees {caseload:,} cases ({open_load:,} open); {len(w.staff_roles)} staff; "
                 f"{w.n_family_users:,} family accounts")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
