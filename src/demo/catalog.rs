//! Teams and services: the catalog the rest of the demo hangs off.
//!
//! The demo's eight teams are also the templates of the bench's larger
//! organisations: a bench org is several *generations* of them (`payments`,
//! `payments-1`, ...), generation 0 being exactly the demo's catalog.

use super::clock::{Clock, DAY, HOUR};
use super::random::Rng;
use crate::error::Result;
use crate::lake::batch::Value;
use crate::lake::row::{Cells, RowTemplate};
use crate::lake::tables;

/// How a team delivers: the spread between teams is what makes tiers differ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// Expected production deployments per service per weekday.
    pub(crate) rate: f64,
    /// Most new main-line commits one deployment ships.
    pub(crate) batch: i64,
    /// Mean hours a pull request stays open.
    pub(crate) review_hours: f64,
    /// Chance a production deployment causes an incident.
    pub(crate) incident_rate: f64,
}

/// A team template: its name, its five services and its delivery habits.
pub(crate) struct Team {
    pub(crate) name: &'static str,
    pub(crate) services: [&'static str; 5],
    pub(crate) profile: Profile,
}

const fn profile(rate: f64, batch: i64, review_hours: f64, incident_rate: f64) -> Profile {
    Profile {
        rate,
        batch,
        review_hours,
        incident_rate,
    }
}

#[rustfmt::skip]
pub(crate) const TEAMS: [Team; 8] = [
    Team { name: "payments", profile: profile(1.0, 4, 8.0, 0.03),
        services: ["payments-api", "payments-ledger", "payments-gateway", "payments-fraud", "payments-reconciler"] },
    Team { name: "checkout", profile: profile(1.4, 4, 5.0, 0.04),
        services: ["checkout-web", "checkout-api", "cart-service", "pricing-service", "promotions-service"] },
    Team { name: "search", profile: profile(2.2, 3, 3.0, 0.025),
        services: ["search-api", "search-indexer", "search-ranker", "autocomplete-service", "catalog-service"] },
    Team { name: "identity", profile: profile(0.35, 6, 20.0, 0.06),
        services: ["identity-api", "auth-service", "session-service", "user-profile", "permissions-service"] },
    Team { name: "data-platform", profile: profile(0.25, 6, 30.0, 0.06),
        services: ["ingest-pipeline", "warehouse-loader", "events-stream", "metrics-api", "feature-store"] },
    Team { name: "mobile", profile: profile(0.15, 8, 48.0, 0.08),
        services: ["mobile-bff", "push-service", "mobile-config", "app-gateway", "deep-link-service"] },
    Team { name: "growth", profile: profile(0.8, 4, 6.0, 0.05),
        services: ["growth-api", "experiments-service", "referral-service", "email-campaigns", "legacy-newsletter"] },
    Team { name: "infra", profile: profile(0.04, 8, 72.0, 0.10),
        services: ["dns-controller", "cert-manager-hooks", "ci-runners", "cost-exporter", "legacy-batch"] },
];

/// Services with no catalog row: their deployments land in the `unowned` bucket.
pub(crate) const UNCATALOGUED: [&str; 2] = ["legacy-newsletter", "legacy-batch"];
/// Services born during the year, with the day (from DEMO_START) they were created.
pub(crate) const NEW_SERVICES: [(&str, i64); 4] = [
    ("promotions-service", 40),
    ("feature-store", 110),
    ("deep-link-service", 190),
    ("referral-service", 280),
];

/// A service of the synthetic organisation.
pub(crate) struct Svc {
    pub(crate) name: String,
    /// Index of the owning team (generation × 8 + template).
    pub(crate) team: usize,
    pub(crate) team_name: String,
    pub(crate) profile: Profile,
    pub(crate) created_at: i64,
    pub(crate) new: bool,
    pub(crate) tier: &'static str,
    pub(crate) on_platform: bool,
    pub(crate) catalogued: bool,
}

impl Svc {
    /// Which copy of the eight team templates the service belongs to (0 = the demo's).
    pub(crate) fn generation(&self) -> usize {
        self.team / TEAMS.len()
    }
}

/// A name of generation `g`: the template's own for 0, else suffixed.
pub(crate) fn suffixed(name: &str, g: usize) -> String {
    if g == 0 {
        name.to_string()
    } else {
        format!("{name}-{g}")
    }
}

/// The demo's 40 services; new ones are always born on the platform.
pub(crate) fn catalog(rng: &mut Rng, clock: &Clock) -> Vec<Svc> {
    catalog_of(rng, clock, 1)
}

/// `generations` copies of the eight teams (40 services each). Generation 0 is the
/// demo's catalog draw for draw; later ones shift the new services' birthdays.
pub(crate) fn catalog_of(rng: &mut Rng, clock: &Clock, generations: usize) -> Vec<Svc> {
    let mut out = Vec::with_capacity(40 * generations);
    for g in 0..generations {
        for (template, t) in TEAMS.iter().enumerate() {
            for (i, &name) in t.services.iter().enumerate() {
                out.push(service(rng, clock, (g, template, i), name));
            }
        }
    }
    out
}

/// One service; `at` is (generation, team template, position in the team).
fn service(rng: &mut Rng, clock: &Clock, at: (usize, usize, usize), name: &str) -> Svc {
    let (g, template, i) = at;
    let t = &TEAMS[template];
    let born = NEW_SERVICES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| (d + 47 * g as i64) % 340);
    let created_at = match born {
        Some(d) => clock.day(d) + rng.between(9 * HOUR, 17 * HOUR),
        None => clock.start - rng.between(200, 1500) * DAY,
    };
    let catalogued = !UNCATALOGUED.contains(&name);
    let on_platform = catalogued && (born.is_some() || rng.chance(0.72));
    Svc {
        name: suffixed(name, g),
        team: g * TEAMS.len() + template,
        team_name: suffixed(t.name, g),
        profile: t.profile,
        created_at,
        new: born.is_some(),
        tier: ["tier-1", "tier-2", "tier-2", "tier-3", "tier-3"][i % 5],
        on_platform,
        catalogued,
    }
}

/// The `services` rows: catalogued services only.
pub(crate) fn service_rows(svcs: &[Svc]) -> Result<Vec<Vec<Value>>> {
    let mut template = RowTemplate::new(tables::table("services")?);
    svcs.iter()
        .filter(|s| s.catalogued)
        .map(|s| template.row(service_cells(s)))
        .collect()
}

/// The named cells of one service's `services` row.
pub(crate) fn service_cells(s: &Svc) -> Cells<5> {
    [
        ("service", Value::text(&s.name)),
        ("team", Value::text(&s.team_name)),
        ("created_at", Value::Timestamp(s.created_at)),
        ("tier", Value::text(s.tier)),
        ("on_platform", Value::Bool(s.on_platform)),
    ]
}
