//! Helpers shared by the benchmark programs (included with `#[path]`; each program is its own crate root).

/// The value at quantile `p` (0..=1) of an ascending slice (nearest rank; 0 when empty).
#[allow(dead_code)] // not every program reports latencies
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0)
}

/// Peak resident set size of this process (KiB), from /proc.
#[allow(dead_code)] // not every program reports memory
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
