//! Number formats of the report's cells: medians with their spread, times, sizes,
//! ratios and verdicts.

use crate::stats::Summary;
use crate::system::thousands;

pub(super) fn spread(summary: Option<Summary>, format: impl Fn(f64) -> String) -> String {
    match summary {
        Some(s) if s.runs > 1 => format!(
            "**{}** ({}–{})",
            format(s.median),
            format(s.min),
            format(s.max)
        ),
        Some(s) => format!("**{}**", format(s.median)),
        None => "not measured".to_owned(),
    }
}

pub(super) fn micros(value: f64) -> String {
    if value >= 100.0 {
        thousands(value)
    } else {
        format!("{value:.1}")
    }
}

pub(super) fn millis(value: f64) -> String {
    if value >= 100.0 {
        format!("{} ms", thousands(value))
    } else {
        format!("{value:.1} ms")
    }
}

pub(super) fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

pub(super) fn ratio(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}×")
    } else {
        format!("{value:.2}×")
    }
}

pub(super) fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "not met"
    }
}
