//! (filled in by the cost_metrics work)
