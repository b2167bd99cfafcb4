#!/usr/bin/env python3
"""Side-by-side: the DORA and cost figures of a northstar lake, recomputed by DuckDB.

Given the lake folder and the metrics.json northstar computed over it, this script
reads the SAME Parquet files (<lake>/<table>/*.parquet) with DuckDB (2 threads),
recomputes, from the definitions in docs/metrics.md and queries/, every figure it
can compare:

  * the five DORA metrics (deployment frequency, lead time, change failure rate,
    failed deployment recovery time, rework rate) for the org, every team and every
    service, over the window and per ISO week and calendar month;
  * cost (effective, billed, line count) per team and, when --northstar is given,
    per service, per month.

and checks both engines agree (relative tolerance 1e-9, every mismatch printed with
its key). It times each query, and prints per-query and total ratios against the
northstar timings of a `northstar bench run` JSON (--bench). Exit status 1 on any
mismatch.

What northstar derives in Rust is derived here in SQL:

  * shipped commits (deployment_commits): northstar walks the commit graph per
    service in deployment finish order; a commit belongs to the first deployment
    whose sha reaches it, and the first deployment of a service ships nothing.
    Here: a recursive CTE (DuckDB's USING KEY) propagates, per service, the lowest
    deployment rank reaching each commit down the parent edges, replacing a
    commit's rank only when a lower one arrives. Rows a source gave in the lake's
    deployment_commits table win for their deployment, counted at a commit's first
    shipment per service, as northstar does.
  * incident links: explicit caused_by_deployment_id; else caused_by_commit_sha →
    the earliest deployment (its own service's first) whose history first reached
    the commit; else the latest deployment of the service finished at or before the
    incident's start, within settings.link_window_days.
  * cost allocation: northstar's default rules (no [cost] rules): the `team` tag
    (service from the `service` tag), else the `service` tag with its catalog
    owner ('unowned' if none), else 'unallocated'. Tag keys are matched lower-case
    as the bench writes them (northstar matches any case). No exchange rates.

Usage:
  python3 bench/duckdb_compare.py --lake LAKE --metrics metrics.json
      [--bench bench-S.json] [--northstar path/to/northstar] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

try:
    import duckdb
except ImportError:  # pragma: no cover - depends on the machine
    subprocess.check_call([sys.executable, "-m", "pip", "install", "duckdb>=1.4"])
    import duckdb

TABLE_KEYS = {
    "services": ["service"],
    "deployments": ["deployment_id"],
    "commits": ["repo", "commit_sha"],
    "deployment_commits": ["deployment_id", "commit_sha"],
    "pull_requests": ["pr_id"],
    "incidents": ["incident_id"],
    "costs": ["x_line_id"],
    "cost_imports": ["provider", "billing_account_id", "billing_period_start"],
}

# Columns of tables that may be absent from a lake, so the SQL still binds.
EMPTY_TABLES = {
    "deployment_commits": "deployment_id VARCHAR, commit_sha VARCHAR",
    "pull_requests": "pr_id VARCHAR, repo VARCHAR, created_at TIMESTAMPTZ, "
    "merged_at TIMESTAMPTZ, merge_commit_sha VARCHAR, commit_shas VARCHAR[]",
    "costs": 'x_line_id VARCHAR, x_import_id VARCHAR, x_provider VARCHAR, '
    '"ChargePeriodStart" TIMESTAMPTZ, "BillingCurrency" VARCHAR, '
    '"EffectiveCost" DOUBLE, "BilledCost" DOUBLE, "Tags" VARCHAR',
    "cost_imports": "provider VARCHAR, billing_account_id VARCHAR, "
    "billing_period_start TIMESTAMPTZ, import_id VARCHAR",
}

SCOPES = {"org": "'org'", "team": "team", "service": "service"}
GRAINS = ["window", "week", "month"]
REL_TOL = 1e-9


class Timer:
    """Wall time per named step."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def run(self, con, name: str, sql: str):
        started = time.perf_counter()
        result = con.execute(sql).fetchall()
        self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - started
        return result

    def total(self) -> float:
        return sum(self.steps.values())


def load_tables(con, lake: Path, timer: Timer) -> None:
    """Newest version per natural key of every table read (ARCHITECTURE.md)."""
    for table, keys in TABLE_KEYS.items():
        files = sorted((lake / table).glob("*.parquet"))
        if not files:
            if table == "services" or table == "deployments" or table == "commits" or table == "incidents":
                raise SystemExit(f"{lake / table}: no Parquet files")
            timer.run(con, f"load {table}", f"CREATE TEMP TABLE {table} ({EMPTY_TABLES[table]})")
            continue
        key = ", ".join(f'"{k}"' for k in keys)
        timer.run(
            con,
            f"load {table}",
            f"""CREATE TEMP TABLE {table} AS
            SELECT * EXCLUDE (_ingested_at) FROM read_parquet('{lake / table}/*.parquet', union_by_name = true)
            QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _ingested_at DESC) = 1""",
        )


def staging(con, timer: Timer, link_window_days: int) -> None:
    """Service owners, production deployments, shipped commits, incident links,
    deployment outcomes, lead-time samples and allocated cost lines."""
    steps = [
        ("service_owners", """
            CREATE TEMP TABLE service_owners AS
            SELECT s.service, COALESCE(MAX(c.team), 'unowned') AS team
            FROM (SELECT service FROM services UNION SELECT service FROM deployments
                  UNION SELECT service FROM incidents WHERE service IS NOT NULL) s
            LEFT JOIN services c ON c.service = s.service AND c.team IS NOT NULL AND c.team <> ''
            GROUP BY s.service"""),
        ("prod_deployments", """
            CREATE TEMP TABLE prod_deployments AS
            SELECT d.deployment_id, d.service, o.team, d.repo, d.commit_sha, d.finished_at, d.kind,
                   row_number() OVER w AS rk,
                   lead(d.kind) OVER w AS next_kind,
                   lead(d.finished_at) OVER w AS next_finished_at
            FROM deployments d JOIN service_owners o ON o.service = d.service
            WHERE d.env_tier = 'production' AND d.status = 'success' AND d.finished_at IS NOT NULL
            WINDOW w AS (PARTITION BY d.service ORDER BY d.finished_at, d.deployment_id)"""),
        ("edges", """
            CREATE TEMP TABLE edges AS
            SELECT DISTINCT commit_sha AS child, unnest(parent_shas) AS parent FROM commits"""),
        ("reach (recursive)", """
            CREATE TEMP TABLE reach AS
            WITH RECURSIVE nodes AS (
                SELECT commit_sha AS sha FROM commits UNION SELECT parent FROM edges
            ),
            reach(service, sha, rk) USING KEY (service, sha) AS (
                SELECT d.service, d.commit_sha, min(d.rk)
                FROM prod_deployments d JOIN nodes n ON n.sha = d.commit_sha
                GROUP BY d.service, d.commit_sha
                UNION
                (SELECT r.service, e.parent, min(r.rk)
                 FROM reach r JOIN edges e ON e.child = r.sha
                 LEFT JOIN recurring.reach x ON x.service = r.service AND x.sha = e.parent
                 WHERE x.sha IS NULL OR r.rk < x.rk
                 GROUP BY r.service, e.parent)
            )
            SELECT * FROM reach"""),
        ("deployment_commits", """
            CREATE TEMP TABLE shipped AS
            WITH given AS (
                SELECT g.deployment_id, g.commit_sha, d.service, d.finished_at
                FROM deployment_commits g LEFT JOIN prod_deployments d ON d.deployment_id = g.deployment_id
            ),
            first_given AS (
                SELECT deployment_id, commit_sha FROM given
                QUALIFY service IS NULL OR row_number() OVER (
                    PARTITION BY service, commit_sha ORDER BY finished_at, deployment_id) = 1
            )
            SELECT deployment_id, commit_sha FROM first_given
            UNION ALL
            SELECT d.deployment_id, r.sha
            FROM reach r JOIN prod_deployments d ON d.service = r.service AND d.rk = r.rk
            WHERE d.rk > 1 AND d.deployment_id NOT IN (SELECT deployment_id FROM deployment_commits)"""),
        ("incident_links", f"""
            CREATE TEMP TABLE incident_links AS
            WITH explicit AS (
                SELECT incident_id, caused_by_deployment_id AS deployment_id FROM incidents
                WHERE COALESCE(caused_by_deployment_id, '') <> ''
            ),
            by_commit AS (
                SELECT i.incident_id, d.deployment_id
                FROM incidents i
                JOIN reach r ON r.sha = i.caused_by_commit_sha
                JOIN prod_deployments d ON d.service = r.service AND d.rk = r.rk
                WHERE COALESCE(i.caused_by_deployment_id, '') = ''
                  AND COALESCE(i.caused_by_commit_sha, '') <> ''
                QUALIFY row_number() OVER (PARTITION BY i.incident_id ORDER BY
                    CASE WHEN d.service = i.service THEN 0 ELSE 1 END, d.finished_at, d.deployment_id) = 1
            ),
            by_window AS (
                SELECT i.incident_id, d.deployment_id,
                       epoch(i.started_at) - epoch(d.finished_at) AS gap
                FROM incidents i
                JOIN prod_deployments d ON d.service = i.service AND d.finished_at <= i.started_at
                WHERE COALESCE(i.caused_by_deployment_id, '') = ''
                  AND i.incident_id NOT IN (SELECT incident_id FROM by_commit)
                QUALIFY row_number() OVER (PARTITION BY i.incident_id
                    ORDER BY d.finished_at DESC, d.deployment_id DESC) = 1
            )
            SELECT incident_id, deployment_id FROM explicit
            UNION ALL SELECT incident_id, deployment_id FROM by_commit
            UNION ALL SELECT incident_id, deployment_id FROM by_window
                WHERE gap <= {link_window_days} * 86400"""),
        ("deployment_outcomes", """
            CREATE TEMP TABLE deployment_outcomes AS
            WITH linked AS (
                SELECT l.deployment_id, count(*) AS incidents, count(i.resolved_at) AS resolved,
                       max(i.resolved_at) AS last_resolved_at
                FROM incident_links l JOIN incidents i ON i.incident_id = l.incident_id
                GROUP BY l.deployment_id
            ),
            during AS (
                SELECT DISTINCT d.deployment_id FROM prod_deployments d
                JOIN incidents i ON i.service = d.service
                WHERE i.started_at <= d.finished_at AND (i.resolved_at IS NULL OR i.resolved_at > d.finished_at)
            )
            SELECT d.deployment_id, d.service, d.team, d.finished_at,
                   (k.deployment_id IS NOT NULL OR COALESCE(d.next_kind = 'rollback', false)) AS failed,
                   CASE WHEN k.deployment_id IS NOT NULL THEN
                            CASE WHEN k.resolved = k.incidents THEN k.last_resolved_at END
                        WHEN d.next_kind = 'rollback' THEN d.next_finished_at END AS recovered_at,
                   (d.kind IN ('hotfix', 'rollback') OR w.deployment_id IS NOT NULL) AS rework
            FROM prod_deployments d
            LEFT JOIN linked k ON k.deployment_id = d.deployment_id
            LEFT JOIN during w ON w.deployment_id = d.deployment_id"""),
        ("lead_time_samples", """
            CREATE TEMP TABLE lead_time_samples AS
            SELECT d.deployment_id, d.service, d.team, d.finished_at, c.authored_at
            FROM shipped s
            JOIN prod_deployments d ON d.deployment_id = s.deployment_id
            JOIN commits c ON c.commit_sha = s.commit_sha AND (d.repo IS NULL OR c.repo = d.repo)"""),
        ("cost_lines", """
            CREATE TEMP TABLE cost_lines AS
            WITH current AS (
                SELECT c.x_line_id, c."ChargePeriodStart" AS charge_start, c."BillingCurrency" AS currency,
                       c."EffectiveCost" AS effective_cost, c."BilledCost" AS billed_cost,
                       NULLIF(trim(json_extract_string(c."Tags", '$.team')), '') AS tag_team,
                       NULLIF(trim(json_extract_string(c."Tags", '$.service')), '') AS tag_service
                FROM costs c JOIN cost_imports i ON c.x_import_id = i.import_id
            )
            SELECT x_line_id, CAST(date_trunc('day', charge_start) AS DATE) AS day, currency,
                   effective_cost, billed_cost,
                   COALESCE(tag_team, CASE WHEN tag_service IS NOT NULL THEN COALESCE(o.team, 'unowned') END,
                            'unallocated') AS team,
                   CASE WHEN tag_team IS NOT NULL OR tag_service IS NOT NULL THEN tag_service END AS service
            FROM current LEFT JOIN service_owners o ON o.service = current.tag_service"""),
    ]
    for name, sql in steps:
        timer.run(con, f"staging {name}", sql)


def period(grain: str, column: str, start: str) -> str:
    if grain == "window":
        return f"DATE '{start}'"
    return f"CAST(date_trunc('{grain}', {column}) AS DATE)"


def metric_sql(metric: str, scope: str, grain: str, start: str, end: str) -> str:
    """One metric at one scope and grain: (key, period, figures...)."""
    key = SCOPES[scope]
    window = f"finished_at >= TIMESTAMPTZ '{start}' AND finished_at < TIMESTAMPTZ '{end}'"
    p = period(grain, "finished_at", start)
    if metric == "lead_time":
        return f"""
            SELECT {key} AS k, {p} AS p, count(*) AS n,
                   median(h) AS median_hours, quantile_cont(h, 0.9) AS p90_hours
            FROM (SELECT *, (epoch(finished_at) - epoch(authored_at)) / 3600.0 AS h FROM lead_time_samples)
            WHERE {window} AND h > 0 GROUP BY ALL"""
    if metric == "change_failure_rate":
        return f"""
            SELECT {key} AS k, {p} AS p, count(*) AS n, sum(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
                   sum(CASE WHEN failed THEN 1 ELSE 0 END)::DOUBLE / count(*) AS rate
            FROM deployment_outcomes WHERE {window} GROUP BY ALL"""
    if metric == "rework_rate":
        return f"""
            SELECT {key} AS k, {p} AS p, count(*) AS n, sum(CASE WHEN rework THEN 1 ELSE 0 END) AS rework,
                   sum(CASE WHEN rework THEN 1 ELSE 0 END)::DOUBLE / count(*) AS rate
            FROM deployment_outcomes WHERE {window} GROUP BY ALL"""
    if metric == "failed_deployment_recovery_time":
        return f"""
            SELECT {key} AS k, {p} AS p, count(*) AS n,
                   sum(CASE WHEN recovered_at IS NULL THEN 1 ELSE 0 END) AS unresolved,
                   median(h) AS median_hours, quantile_cont(h, 0.9) AS p90_hours
            FROM (SELECT *, CASE WHEN recovered_at IS NOT NULL THEN
                      greatest(0.0, (epoch(recovered_at) - epoch(finished_at)) / 3600.0) END AS h
                  FROM deployment_outcomes)
            WHERE failed AND {window} GROUP BY ALL"""
    if metric == "deployment_frequency":
        return deployment_frequency_sql(scope, grain, start, end)
    raise ValueError(metric)


def deployment_frequency_sql(scope: str, grain: str, start: str, end: str) -> str:
    """Deployments, per-day rate and the weekly/monthly medians of deploy days,
    over a scope × day grid where days without deployments count as 0."""
    key = SCOPES[scope]
    p = period(grain, "c.day", start)
    return f"""
        WITH calendar AS (
            SELECT CAST(day AS DATE) AS day FROM range(DATE '{start}', DATE '{end}', INTERVAL 1 DAY) t(day)
        ),
        scopes AS (SELECT DISTINCT {key} AS k FROM service_owners),
        daily AS (
            SELECT {key} AS k, CAST(finished_at AS DATE) AS day, count(*) AS deployments
            FROM prod_deployments
            WHERE finished_at >= TIMESTAMPTZ '{start}' AND finished_at < TIMESTAMPTZ '{end}'
            GROUP BY ALL
        ),
        grid AS (
            SELECT s.k, c.day, {p} AS p, CAST(date_trunc('week', c.day) AS DATE) AS week,
                   CAST(date_trunc('month', c.day) AS DATE) AS month, COALESCE(d.deployments, 0) AS deployments
            FROM scopes s CROSS JOIN calendar c LEFT JOIN daily d ON d.k = s.k AND d.day = c.day
        ),
        weekly AS (SELECT k, p, median(days) AS mw FROM (
            SELECT k, p, week, sum(CASE WHEN deployments > 0 THEN 1 ELSE 0 END)::DOUBLE AS days
            FROM grid GROUP BY ALL) GROUP BY ALL),
        monthly AS (SELECT k, p, median(days) AS mm FROM (
            SELECT k, p, month, sum(CASE WHEN deployments > 0 THEN 1 ELSE 0 END)::DOUBLE AS days
            FROM grid GROUP BY ALL) GROUP BY ALL),
        periods AS (SELECT k, p, count(*) AS days, sum(deployments) AS n FROM grid GROUP BY ALL)
        SELECT p.k, p.p, p.n, p.n::DOUBLE / p.days AS per_day,
               w.mw AS median_deploy_days_per_week, m.mm AS median_deploy_days_per_month,
               CASE WHEN p.n = 0 THEN NULL WHEN w.mw >= 5 THEN 'elite' WHEN w.mw >= 1 THEN 'high'
                    WHEN m.mm >= 1 THEN 'medium' ELSE 'low' END AS tier
        FROM periods p JOIN weekly w USING (k, p) JOIN monthly m USING (k, p)"""


def cost_sql(scope: str, start: str, end: str) -> str:
    key = {"org": "'org'", "team": "team", "service": "COALESCE(service, 'unallocated')"}[scope]
    return f"""
        SELECT {key} AS k, CAST(date_trunc('month', day) AS DATE) AS p, currency,
               count(DISTINCT x_line_id) AS n, sum(effective_cost) AS effective_cost,
               sum(billed_cost) AS billed_cost
        FROM cost_lines WHERE day >= DATE '{start}' AND day < DATE '{end}' GROUP BY ALL"""


METRICS = {
    "deployment_frequency": ["n", "per_day", "median_deploy_days_per_week",
                             "median_deploy_days_per_month", "tier"],
    "lead_time": ["n", "median_hours", "p90_hours"],
    "change_failure_rate": ["n", "failed", "rate"],
    "failed_deployment_recovery_time": ["n", "unresolved", "median_hours", "p90_hours"],
    "rework_rate": ["n", "rework", "rate"],
}


def northstar_dora(doc: dict, scope: str, grain: str) -> dict:
    """(key, period) → metric → figures, from metrics.json."""
    dora = doc["dora"]
    plural = {"org": None, "team": "teams", "service": "services"}[scope]
    out: dict = {}
    if grain == "window":
        entries = {"org": dora["org"]} if scope == "org" else dora[plural]
        for key, figures in entries.items():
            out[(key, "window")] = figures
        return out
    series = dora["series"][grain]
    lists = {"org": series["org"]} if scope == "org" else series[plural]
    for key, rows in lists.items():
        for row in rows:
            out[(key, str(row["period_start"])[:10])] = row
    return out


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    a, b = float(a), float(b)
    return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def compare_dora(con, timer: Timer, doc: dict, start: str, end: str, mismatches: list) -> int:
    checked = 0
    for metric, fields in METRICS.items():
        for scope in SCOPES:
            for grain in GRAINS:
                rows = timer.run(con, f"{metric} {scope} {grain}", metric_sql(metric, scope, grain, start, end))
                columns = [d[0] for d in con.description]
                ours = {}
                for r in rows:
                    rec = dict(zip(columns, r))
                    p = "window" if grain == "window" else str(rec["p"])[:10]
                    ours[(str(rec["k"]), p)] = rec
                theirs = northstar_dora(doc, scope, grain)
                for key in sorted(set(ours) | set(theirs)):
                    mine = ours.get(key)
                    figures = (theirs.get(key) or {}).get(metric) or {}
                    if mine is None and (figures.get("n") or 0) == 0:
                        continue
                    for f in fields:
                        a = None if mine is None else mine.get(f)
                        if mine is None and f in ("n", "failed", "rework", "unresolved"):
                            a = 0
                        b = figures.get(f)
                        checked += 1
                        if not same(a, b):
                            mismatches.append(f"{metric} {scope}={key[0]} {grain} {key[1]} {f}: "
                                              f"duckdb {a!r} northstar {b!r}")
    return checked


def northstar_cost(doc: dict) -> dict:
    """(scope, key, month, currency) → row, from metrics.json's cost section."""
    out = {}
    cost = doc.get("cost") or {}
    for m in ((cost.get("org") or {}).get("months") or []):
        out[("org", "org", m["month"], m["currency"])] = m
    for team, t in (cost.get("teams") or {}).items():
        for m in t.get("months") or []:
            out[("team", team, m["month"], m["currency"])] = m
    return out


def northstar_service_cost(binary: str, lake: Path, start: str, end: str) -> dict:
    """Per-service monthly cost, asked of northstar itself (metrics.json has none)."""
    sql = Path(__file__).resolve().parent.parent / "queries" / "cost" / "costs.sql"
    out = subprocess.run(
        [binary, "--lake", str(lake), "query", "--file", str(sql), "--format", "json",
         "--param", f"from={start}", "--param", f"to={end}",
         "--param", "scope=service", "--param", "grain=month"],
        check=True, capture_output=True, text=True).stdout
    return {("service", r["scope_key"], str(r["period_start"])[:7], r["currency"]): r
            for r in json.loads(out)}


def compare_cost(con, timer, doc, args, start, end, mismatches) -> int:
    theirs = northstar_cost(doc)
    scopes = ["org", "team"]
    if args.northstar:
        theirs.update(northstar_service_cost(args.northstar, args.lake, start, end))
        scopes.append("service")
    checked = 0
    for scope in scopes:
        rows = timer.run(con, f"cost {scope} month", cost_sql(scope, start, end))
        ours = {(scope, str(k), str(p)[:7], c): (n, e, b) for k, p, c, n, e, b in rows}
        keys = set(ours) | {k for k in theirs if k[0] == scope}
        for key in sorted(keys):
            mine, other = ours.get(key), theirs.get(key)
            if other is None or mine is None:
                mismatches.append(f"cost {key}: duckdb {mine!r} northstar {other!r}")
                continue
            for f, a in zip(["n", "effective_cost", "billed_cost"], mine):
                checked += 1
                if not same(a, other.get(f)):
                    mismatches.append(f"cost {scope}={key[1]} {key[2]} {key[3]} {f}: "
                                      f"duckdb {a!r} northstar {other.get(f)!r}")
    return checked


def northstar_times(bench: dict | None) -> tuple[dict, float | None, str]:
    """Per-query seconds (query stage minus the engine-open stage) and the total."""
    if not bench:
        return {}, None, ""
    stages = {s["name"]: s["seconds"] for s in bench.get("stages", []) if s.get("ok")}
    open_s = stages.get("query engine-open", 0.0)
    per_query = {name[len("query "):]: max(s - open_s, 0.0)
                 for name, s in stages.items() if name.startswith("query ") and name != "query engine-open"}
    for total_name in ("compute --sections dora", "compute"):
        if total_name in stages:
            return per_query, stages[total_name], total_name
    return per_query, None, ""


def report_times(timer: Timer, bench: dict | None) -> None:
    per_query, total, total_name = northstar_times(bench)
    print("\nper query (service scope, monthly): DuckDB s | northstar s (query stage - engine open) | ratio")
    pairs = [(m, f"{m} service month") for m in METRICS] + [("cost/costs", "cost service month")]
    for metric, step in pairs:
        ours = timer.steps.get(step)
        their = per_query.get(metric if "/" in metric else f"dora/{metric}")
        # A query stage no slower than the engine-open stage is within noise.
        ratio = f"{their / ours:.1f}x" if ours and their else "n/a"
        their_text = f"{their:.3f}" if their is not None else "n/a"
        ours_text = f"{ours:.3f}" if ours is not None else "n/a"
        print(f"  {metric:<34} {ours_text:>8} | {their_text:>8} | {ratio}")
    loads = sum(v for k, v in timer.steps.items() if k.startswith("load "))
    stage = sum(v for k, v in timer.steps.items() if k.startswith("staging "))
    print(f"\nDuckDB: load (newest version per key) {loads:.2f} s, staging {stage:.2f} s, "
          f"queries {timer.total() - loads - stage:.2f} s, total {timer.total():.2f} s")
    if total is not None:
        print(f"northstar `{total_name}`: {total:.2f} s → ratio {total / timer.total():.1f}x "
              "(northstar's figure includes process start, lake read and every section it computes)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--bench", type=Path, help="bench-<scale>.json with northstar's timings")
    parser.add_argument("--northstar", help="northstar binary, to compare cost per service too")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    doc = json.loads(args.metrics.read_text())
    bench = json.loads(args.bench.read_text()) if args.bench else None
    start, end = doc["window"]["from"][:10], doc["window"]["to"][:10]
    if doc["window"]["from"][10:] not in ("", "T00:00:00Z") or doc["window"]["to"][10:] not in ("", "T00:00:00Z"):
        raise SystemExit("the window must start and end at midnight UTC")
    settings = doc.get("settings", {})
    if settings.get("lead_time_start", "authored") != "authored":
        raise SystemExit("only lead_time_start = authored is compared")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET TimeZone = 'UTC'")
    timer = Timer()
    load_tables(con, args.lake, timer)
    staging(con, timer, int(settings.get("link_window_days", 7)))
    mismatches: list[str] = []
    checked = compare_dora(con, timer, doc, start, end, mismatches)
    checked += compare_cost(con, timer, doc, args, start, end, mismatches)
    print(f"compared {checked} figures over {start} .. {end}: {len(mismatches)} mismatch(es)")
    for m in mismatches:
        print(f"  MISMATCH {m}")
    report_times(timer, bench)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
