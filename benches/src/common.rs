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

/// The `sextant` binary a bench drives, checked to exist: `target/release/sextant` unless `--sextant` named
/// another.
#[allow(dead_code)] // only the benches that start a server use it
pub fn sextant_binary(given: Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    let sextant = given.unwrap_or_else(|| std::path::PathBuf::from("target/release/sextant"));
    if !sextant.exists() {
        anyhow::bail!(
            "{} not found; build it with `cargo build --release -p sextant-cli` or pass --sextant",
            sextant.display()
        );
    }
    Ok(sextant.canonicalize()?)
}

/// Starts `sextant serve` with `args` (plus a loopback port of its choosing, `--index-dir` and the root) and
/// waits until it listens: the child and its address. Its stderr is drained in the background.
#[allow(dead_code)] // only the benches that start a server use it
pub fn start_server(
    sextant: &std::path::Path,
    args: &[&str],
    index_dir: &std::path::Path,
    root: &std::path::Path,
) -> anyhow::Result<(std::process::Child, String)> {
    use std::io::BufRead;

    use anyhow::Context;
    let mut server = std::process::Command::new(sextant)
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--index-dir"])
        .arg(index_dir)
        .arg(root)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting sextant serve")?;
    let mut lines = std::io::BufReader::new(server.stderr.take().context("server stderr")?).lines();
    let address = loop {
        let line = lines.next().context("the server exited before listening")??;
        if let (true, Some((_, address))) = (line.starts_with("sextant serving"), line.rsplit_once(" on ")) {
            break address.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((server, address))
}
