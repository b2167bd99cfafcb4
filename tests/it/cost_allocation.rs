//! (filled in by the cost_allocation work)
