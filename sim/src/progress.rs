//! Progress bars on standard error for the long runs.
//!
//! Bars are drawn only when standard error is a terminal; either way each finished task logs one
//! line with its wall time, so logs of scripted runs show what took how long.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// A progress bar for one task of `total` steps (replications, usually). Cheap to share between
/// threads: [`Progress::tick`] takes `&self`.
pub struct Progress {
	bar: ProgressBar,
	label: String,
	started: Instant,
	quiet: bool,
}

impl Progress {
	/// A bar for `label`, drawn on standard error.
	pub fn new(label: &str, total: u64) -> Self {
		let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
		bar.set_style(
			ProgressStyle::with_template(
				"{prefix:>24} [{bar:32}] {pos}/{len} ({elapsed}, about {eta} left)",
			)
			.expect("a valid template")
			.progress_chars("=> "),
		);
		bar.set_prefix(label.to_string());
		Self { bar, label: label.to_string(), started: Instant::now(), quiet: false }
	}

	/// A bar that draws and logs nothing (tests).
	pub fn hidden() -> Self {
		Self {
			bar: ProgressBar::hidden(),
			label: String::new(),
			started: Instant::now(),
			quiet: true,
		}
	}

	/// One step done.
	pub fn tick(&self) {
		self.bar.inc(1);
	}

	/// Ends the bar, logs the task's wall time and returns it.
	pub fn finish(self) -> Duration {
		self.bar.finish_and_clear();
		let elapsed = self.started.elapsed();
		if !self.quiet {
			eprintln!(
				"{:>24}: {} in {:.1} s",
				self.label,
				self.bar.position(),
				elapsed.as_secs_f64()
			);
		}
		elapsed
	}
}
