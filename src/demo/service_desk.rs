//! Infra tickets, their transitions and the platform self-service actions that
//! replace them.

use super::catalog::{Svc, TEAMS};
use super::clock::{Clock, DAY, HOUR, MIN, SEC};
use super::random::Rng;
use super::replay::keep;
use crate::error::Result;
use crate::lake::batch::Value;
use crate::lake::row::{Cells, RowTemplate};
use crate::lake::tables;

/// How much service-desk traffic an organisation has, relative to the demo's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Desk {
    /// `source` column and id prefix.
    pub(crate) source: &'static str,
    /// Multiplies the demo's daily ticket and action rates.
    pub(crate) volume: f64,
}

/// The demo's desk: its own volume, ids `demo:...`.
pub(crate) const DEMO_DESK: Desk = Desk {
    source: "demo",
    volume: 1.0,
};
/// Ticket categories: (category, request type, assignee team, weight).
pub(super) const CATEGORIES: [(&str, &str, &str, f64); 6] = [
    ("environment", "New environment", "platform", 0.25),
    ("database", "Database request", "infra", 0.2),
    ("access", "Access request", "platform", 0.2),
    ("ci", "CI pipeline change", "platform", 0.15),
    ("dns", "DNS change", "infra", 0.1),
    ("certificate", "Certificate renewal", "infra", 0.1),
];

/// Rows of one table, each in the table's column order.
type Rows = Vec<Vec<Value>>;

/// Infra/platform tickets and their transitions. Volume falls over the year as
/// self-service replaces requests, and the infra teams answer faster.
pub(super) fn tickets(rng: &mut Rng, clock: &Clock) -> Result<(Rows, Rows)> {
    let mut ticket_rows = RowTemplate::new(tables::table("tickets")?);
    let mut move_rows = RowTemplate::new(tables::table("ticket_transitions")?);
    let (mut rows, mut transitions) = (Vec::new(), Vec::new());
    let mut failed = None;
    let teams: Vec<&str> = TEAMS.iter().map(|t| t.name).collect();
    each_ticket(rng, clock, &teams, DEMO_DESK, |row, moves| {
        keep(ticket_rows.row(row), &mut rows, &mut failed);
        for m in moves {
            keep(move_rows.row(m), &mut transitions, &mut failed);
        }
    });
    failed.map_or(Ok((rows, transitions)), Err)
}

/// Every ticket of the year, in creation order, with its transitions, handed to
/// `emit` as generated; requesters are drawn from `teams`.
pub(crate) fn each_ticket(
    rng: &mut Rng,
    clock: &Clock,
    teams: &[&str],
    desk: Desk,
    mut emit: impl FnMut(Cells<14>, Vec<Cells<5>>),
) {
    let mut n = 0;
    for day in 0..clock.days {
        let rate = if clock.is_weekend(day) {
            0.8
        } else {
            17.0 - 11.0 * clock.progress(clock.day(day))
        };
        for _ in 0..rng.poisson(rate * desk.volume) {
            let created = clock.day(day) + rng.between(7 * HOUR, 18 * HOUR);
            n += 1;
            let (row, moves) = ticket(rng, clock, (desk.source, n), teams, created);
            emit(row, moves);
        }
    }
}

/// One ticket and its transitions; open ones at the end of the year stay open.
/// `id` is (source, ticket number).
fn ticket(
    rng: &mut Rng,
    clock: &Clock,
    id: (&str, usize),
    teams: &[&str],
    created: i64,
) -> (Cells<14>, Vec<Cells<5>>) {
    const PRIORITIES: [(&str, f64); 4] = [
        ("Low", 0.3),
        ("Medium", 0.45),
        ("High", 0.2),
        ("Highest", 0.05),
    ];
    let (category, request_type, assignee, _) = CATEGORIES[rng.weighted(&CATEGORIES, |c| c.3)];
    let requester = teams[rng.index(teams.len())];
    let priority = PRIORITIES[rng.weighted(&PRIORITIES, |p| p.1)].0;
    let speed = 1.0 - 0.5 * clock.progress(created);
    let first = created + 5 * MIN + (rng.exp(3.0 * speed) * HOUR as f64) as i64;
    let work = if rng.chance(0.02) {
        rng.between(30, 90) * DAY
    } else {
        (rng.exp(40.0 * speed) * HOUR as f64) as i64
    };
    // A backlog of untouched tickets at the end of the year.
    let untouched = created > clock.end - 14 * DAY && rng.chance(0.3);
    let first = (first < clock.end && !untouched).then_some(first);
    let resolved = first
        .map(|f| f + 30 * MIN + work)
        .filter(|&r| r < clock.end);
    let status = match (first, resolved) {
        (_, Some(_)) => "Done",
        (Some(_), None) => "In Progress",
        _ => "To Do",
    };
    let (source, n) = id;
    let id = format!("{source}:OPS-{}", 1000 + n);
    let mut labels = vec![category.to_string(), format!("team-{requester}")];
    if priority == "Highest" {
        labels.push("urgent".into());
    }
    let row = [
        ("ticket_id", Value::text(&id)),
        ("source", Value::text(source)),
        ("project", Value::text("OPS")),
        ("issue_type", Value::text("Service Request")),
        ("request_type", Value::text(request_type)),
        ("category", Value::text(category)),
        ("requester_team", Value::text(requester)),
        ("assignee_team", Value::text(assignee)),
        ("priority", Value::text(priority)),
        ("status", Value::text(status)),
        ("created_at", Value::Timestamp(created)),
        ("first_response_at", Value::opt_ts(first)),
        ("resolved_at", Value::opt_ts(resolved)),
        ("labels", Value::TextList(labels)),
    ];
    (row, transitions(&id, [Some(created), first, resolved]))
}

/// The 1–3 status changes of a ticket from its (created, first response, resolved).
pub(super) fn transitions(id: &str, times: [Option<i64>; 3]) -> Vec<Cells<5>> {
    const STEPS: [(Option<&str>, &str, &str); 3] = [
        (None, "To Do", "new"),
        (Some("To Do"), "In Progress", "indeterminate"),
        (Some("In Progress"), "Done", "done"),
    ];
    let steps = times.into_iter().zip(STEPS);
    steps
        .filter_map(|(at, (from, to, category))| {
            Some([
                ("ticket_id", Value::text(id)),
                ("at", Value::Timestamp(at?)),
                ("from_status", Value::opt_text(from)),
                ("to_status", Value::text(to)),
                ("to_category", Value::text(category)),
            ])
        })
        .collect()
}

/// Self-service actions: (action, ticket category it replaces, most minutes, weight).
pub(super) const ACTIONS: [(&str, &str, i64, f64); 7] = [
    ("create_environment", "environment", 20, 0.15),
    ("create_ephemeral_environment", "environment", 8, 0.2),
    ("provision_database", "database", 25, 0.15),
    ("grant_access", "access", 3, 0.2),
    ("create_pipeline", "ci", 6, 0.15),
    ("create_dns_record", "dns", 5, 0.08),
    ("rotate_certificate", "certificate", 4, 0.07),
];

/// Platform actions by on-platform services, growing through the year.
pub(super) fn platform_actions(rng: &mut Rng, svcs: &[Svc], clock: &Clock) -> Result<Rows> {
    let mut template = RowTemplate::new(tables::table("platform_actions")?);
    let (mut rows, mut failed) = (Vec::new(), None);
    each_platform_action(rng, svcs, clock, DEMO_DESK, |row| {
        keep(template.row(row), &mut rows, &mut failed);
    });
    failed.map_or(Ok(rows), Err)
}

/// Every platform action of the year, in day order, handed to `emit`.
pub(crate) fn each_platform_action(
    rng: &mut Rng,
    svcs: &[Svc],
    clock: &Clock,
    desk: Desk,
    mut emit: impl FnMut(Cells<9>),
) {
    let mut adopters = Adopters::new(svcs);
    let mut n = 0;
    for day in 0..clock.days {
        let rate = if clock.is_weekend(day) {
            0.5
        } else {
            4.0 + 22.0 * clock.progress(clock.day(day))
        };
        for _ in 0..rng.poisson(rate * desk.volume) {
            let at = clock.day(day) + rng.between(6 * HOUR, 20 * HOUR);
            let live = adopters.live_at(at);
            let Some(svc) = live.get(rng.index(live.len())).copied() else {
                continue;
            };
            let (action, category, minutes, _) = ACTIONS[rng.weighted(&ACTIONS, |a| a.3)];
            let completed = at + rng.between(30 * SEC, minutes * MIN);
            let status = if rng.chance(0.04) {
                "failed"
            } else {
                "success"
            };
            n += 1;
            emit([
                (
                    "action_id",
                    Value::text(format!("{}:action:{n:06}", desk.source)),
                ),
                ("source", Value::text(desk.source)),
                ("action", Value::text(action)),
                ("category", Value::text(category)),
                ("team", Value::text(&svc.team_name)),
                ("service", Value::text(&svc.name)),
                ("requested_at", Value::Timestamp(at)),
                ("completed_at", Value::Timestamp(completed)),
                ("status", Value::text(status)),
            ]);
        }
    }
}

/// The on-platform services that exist at a time, in catalog order. Recomputed only
/// when a birth lies between two asks: filtering thousands of services per action
/// would dominate generation at the bench's largest scale.
struct Adopters<'a> {
    all: Vec<&'a Svc>,
    /// Birth times, sorted: how many exist at `t` is a binary search.
    births: Vec<i64>,
    live: Vec<&'a Svc>,
    live_count: Option<usize>,
}

impl<'a> Adopters<'a> {
    fn new(svcs: &'a [Svc]) -> Self {
        let all: Vec<&Svc> = svcs.iter().filter(|s| s.on_platform).collect();
        let mut births: Vec<i64> = all.iter().map(|s| s.created_at).collect();
        births.sort_unstable();
        Adopters {
            all,
            births,
            live: Vec::new(),
            live_count: None,
        }
    }

    fn live_at(&mut self, at: i64) -> &[&'a Svc] {
        let count = self.births.partition_point(|&b| b <= at);
        if self.live_count != Some(count) {
            self.live = self
                .all
                .iter()
                .copied()
                .filter(|s| s.created_at <= at)
                .collect();
            self.live_count = Some(count);
        }
        &self.live
    }
}
