//! Teams and services: the catalog the rest of the demo hangs off.

use super::clock::{Clock, DAY, HOUR};
use super::random::Rng;
use crate::lake::batch::Value;

/// A team and how it delivers: the spread between teams is what makes tiers differ.
pub(super) struct Team {
    pub(super) name: &'static str,
    pub(super) services: [&'static str; 5],
    /// Expected production deployments per service per weekday.
    pub(super) rate: f64,
    /// Most new main-line commits one deployment ships.
    pub(super) batch: i64,
    /// Mean hours a pull request stays open.
    pub(super) review_hours: f64,
    /// Chance a production deployment causes an incident.
    pub(super) incident_rate: f64,
}

#[rustfmt::skip]
pub(super) const TEAMS: [Team; 8] = [
    Team { name: "payments", rate: 1.0, batch: 4, review_hours: 8.0, incident_rate: 0.03,
        services: ["payments-api", "payments-ledger", "payments-gateway", "payments-fraud", "payments-reconciler"] },
    Team { name: "checkout", rate: 1.4, batch: 4, review_hours: 5.0, incident_rate: 0.04,
        services: ["checkout-web", "checkout-api", "cart-service", "pricing-service", "promotions-service"] },
    Team { name: "search", rate: 2.2, batch: 3, review_hours: 3.0, incident_rate: 0.025,
        services: ["search-api", "search-indexer", "search-ranker", "autocomplete-service", "catalog-service"] },
    Team { name: "identity", rate: 0.35, batch: 6, review_hours: 20.0, incident_rate: 0.06,
        services: ["identity-api", "auth-service", "session-service", "user-profile", "permissions-service"] },
    Team { name: "data-platform", rate: 0.25, batch: 6, review_hours: 30.0, incident_rate: 0.06,
        services: ["ingest-pipeline", "warehouse-loader", "events-stream", "metrics-api", "feature-store"] },
    Team { name: "mobile", rate: 0.15, batch: 8, review_hours: 48.0, incident_rate: 0.08,
        services: ["mobile-bff", "push-service", "mobile-config", "app-gateway", "deep-link-service"] },
    Team { name: "growth", rate: 0.8, batch: 4, review_hours: 6.0, incident_rate: 0.05,
        services: ["growth-api", "experiments-service", "referral-service", "email-campaigns", "legacy-newsletter"] },
    Team { name: "infra", rate: 0.04, batch: 8, review_hours: 72.0, incident_rate: 0.10,
        services: ["dns-controller", "cert-manager-hooks", "ci-runners", "cost-exporter", "legacy-batch"] },
];

/// Services with no catalog row: their deployments land in the `unowned` bucket.
pub(super) const UNCATALOGUED: [&str; 2] = ["legacy-newsletter", "legacy-batch"];
/// Services born during the year, with the day (from DEMO_START) they were created.
pub(super) const NEW_SERVICES: [(&str, i64); 4] = [
    ("promotions-service", 40),
    ("feature-store", 110),
    ("deep-link-service", 190),
    ("referral-service", 280),
];

/// A service of the synthetic organisation.
pub(super) struct Svc {
    pub(super) name: &'static str,
    pub(super) team: usize,
    pub(super) created_at: i64,
    pub(super) new: bool,
    pub(super) tier: &'static str,
    pub(super) on_platform: bool,
    pub(super) catalogued: bool,
}

/// The 40 services; new ones are always born on the platform.
pub(super) fn catalog(rng: &mut Rng, clock: &Clock) -> Vec<Svc> {
    let mut out = Vec::with_capacity(40);
    for (team, t) in TEAMS.iter().enumerate() {
        for (i, &name) in t.services.iter().enumerate() {
            let born = NEW_SERVICES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d);
            let created_at = match born {
                Some(d) => clock.day(d) + rng.between(9 * HOUR, 17 * HOUR),
                None => clock.start - rng.between(200, 1500) * DAY,
            };
            let catalogued = !UNCATALOGUED.contains(&name);
            let on_platform = catalogued && (born.is_some() || rng.chance(0.72));
            let tier = ["tier-1", "tier-2", "tier-2", "tier-3", "tier-3"][i % 5];
            out.push(Svc {
                name,
                team,
                created_at,
                new: born.is_some(),
                tier,
                on_platform,
                catalogued,
            });
        }
    }
    out
}

pub(super) fn service_rows(svcs: &[Svc]) -> Vec<Vec<Value>> {
    svcs.iter()
        .filter(|s| s.catalogued)
        .map(|s| {
            vec![
                Value::text(s.name),
                Value::text(TEAMS[s.team].name),
                Value::Timestamp(s.created_at),
                Value::text(s.tier),
                Value::Bool(s.on_platform),
            ]
        })
        .collect()
}
