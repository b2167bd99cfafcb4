//! (filled in by the billing_import work)
