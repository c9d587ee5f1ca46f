//! The progress bar of indexing runs (on stderr, hidden with `--quiet` or `--json`).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sextant_engine::EngineProgress;

/// A progress bar fed by the engine.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar on stderr, or a hidden one.
    pub fn new(hidden: bool) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if hidden {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(bar)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }

    fn counting(&self, template: &str, total: u64) {
        self.0.set_position(0);
        self.0.set_length(total);
        self.0.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
}

impl EngineProgress for Bar {
    fn phase(&self, name: &str, total: Option<u64>) {
        self.0.set_message(name.to_string());
        match total {
            Some(total) => self.counting("{msg:>6} [{bar:30}] {pos}/{len} files ({per_sec}, eta {eta})", total),
            None => self.0.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        }
    }

    fn file_done(&self) {
        self.0.inc(1);
    }

    fn embed_planned(&self, what: &str, items: u64, to_embed: u64) {
        self.0.set_message(format!("embed ({to_embed} new)"));
        self.counting(&format!("{{msg}} [{{bar:30}}] {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"), items);
    }

    fn embedded(&self, n: u64) {
        self.0.inc(n);
    }

    fn warning(&self, message: &str) {
        self.0.suspend(|| eprintln!("warning: {message}"));
    }
}
