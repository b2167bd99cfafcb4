//! (filled in by the focus_check work)
