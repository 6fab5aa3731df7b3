//! Per-run metrics and summary statistics.

use contract_equilibrium_primitives::{fixed::abs_diff, DemandCurve, FixedU128, Perbill};

/// The blocks a path takes to converge: the first block from which every later price of the
/// path is within `tolerance` of `target`; `None` when the path ends outside it.
///
/// "Enters and stays" rather than "first touches": a rule that oscillates around `μ*` has not
/// converged while it still leaves the tolerance band.
pub fn blocks_to_converge(
	path: &[FixedU128],
	target: FixedU128,
	tolerance: FixedU128,
) -> Option<u32> {
	let outside = path.iter().rposition(|price| abs_diff(*price, target) > tolerance);
	match outside {
		None => Some(0),
		Some(last) if last + 1 < path.len() => Some((last + 1) as u32),
		Some(_) => None,
	}
}

/// The largest one-block contraction of the distance to `target` along `path`,
/// `max_t |μ_{t+1} − μ*| / |μ_t − μ*|`, over the blocks where `|μ_t − μ*| > floor` (below that
/// the fixed-point granularity of `S` dominates the ratio). `None` when no block qualifies.
pub fn worst_contraction(path: &[FixedU128], target: FixedU128, floor: FixedU128) -> Option<f64> {
	path.windows(2)
		.filter(|pair| abs_diff(pair[0], target) > floor)
		.map(|pair| abs_diff(pair[1], target).to_float() / abs_diff(pair[0], target).to_float())
		.fold(None, |worst: Option<f64>, ratio| Some(worst.map_or(ratio, |w| w.max(ratio))))
}

/// The steps of `path` that break the paper's linear bound `|μ_{t+1} − μ*| ≤ κ·|μ_t − μ*|` by
/// more than `slack` (an allowance for the fixed-point rounding of `S`, `η·(S − m)` and `μ*`,
/// each a few units of 10⁻¹⁸).
pub fn bound_violations(path: &[FixedU128], target: FixedU128, kappa: f64, slack: f64) -> usize {
	path.windows(2)
		.filter(|pair| {
			let (now, next) =
				(abs_diff(pair[0], target).to_float(), abs_diff(pair[1], target).to_float());
			next > kappa * now + slack
		})
		.count()
}

/// The paper's linear-convergence factor for dual ascent with step `eta`:
/// `κ = max(|1 − η·a|, |1 − η·L|)`, where `a` and `L` bound the slope `|S'|` from below and above
/// on the prices visited.
pub fn convergence_factor(eta: f64, lower_slope: f64, upper_slope: f64) -> f64 {
	(1.0 - eta * lower_slope).abs().max((1.0 - eta * upper_slope).abs())
}

/// The blocks the paper's bound `|μ_t − μ*| ≤ κᵗ·|μ₀ − μ*|` allows before the distance is at most
/// `tolerance`: `⌈ln(tolerance/|μ₀ − μ*|)/ln κ⌉` (zero when already within; `None` if `κ ≥ 1`).
pub fn blocks_allowed_by_factor(kappa: f64, start_distance: f64, tolerance: f64) -> Option<u32> {
	if start_distance <= tolerance {
		return Some(0);
	}
	if !(0.0..1.0).contains(&kappa) {
		return None;
	}
	if kappa == 0.0 {
		return Some(1);
	}
	Some(((tolerance / start_distance).ln() / kappa.ln()).ceil() as u32)
}

/// `S(0)` of all agents: the demand if the resource were free (fees still charged).
pub fn demand_at_floor(agents: &[DemandCurve], unit_fee: FixedU128) -> FixedU128 {
	contract_equilibrium_primitives::equilibrium::aggregate_demand(
		agents,
		unit_fee,
		FixedU128::from_inner(0),
	)
}

/// A [`Perbill`] as a fraction in `[0, 1]`.
pub fn fraction(value: Perbill) -> f64 {
	f64::from(value.deconstruct()) / 1e9
}

/// Summary statistics of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
	/// The sample size.
	pub count: usize,
	/// The mean.
	pub mean: f64,
	/// The 10th percentile.
	pub p10: f64,
	/// The median.
	pub median: f64,
	/// The 90th percentile.
	pub p90: f64,
	/// The smallest value.
	pub min: f64,
	/// The largest value: the worst case for blocks to converge.
	pub max: f64,
}

impl Summary {
	/// The statistics of `values` (NaNs are not allowed); `None` for an empty sample.
	pub fn of(values: &[f64]) -> Option<Self> {
		if values.is_empty() {
			return None;
		}
		let mut sorted = values.to_vec();
		sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN in a sample"));
		Some(Self {
			count: sorted.len(),
			mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
			p10: quantile(&sorted, 0.1),
			median: quantile(&sorted, 0.5),
			p90: quantile(&sorted, 0.9),
			min: sorted[0],
			max: sorted[sorted.len() - 1],
		})
	}
}

/// The mean and the sample standard deviation (divisor `n − 1`; zero for one value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanSd {
	/// The mean.
	pub mean: f64,
	/// The sample standard deviation.
	pub sd: f64,
}

impl MeanSd {
	/// The mean and standard deviation of `values`; `None` for an empty sample.
	pub fn of(values: &[f64]) -> Option<Self> {
		if values.is_empty() {
			return None;
		}
		let count = values.len() as f64;
		let mean = values.iter().sum::<f64>() / count;
		let squares = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>();
		let sd = if values.len() > 1 { (squares / (count - 1.0)).sqrt() } else { 0.0 };
		Some(Self { mean, sd })
	}
}

/// The `q`-quantile of an ascending sample, interpolating linearly between order statistics
/// (the definition of R's default and NumPy's `linear`).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
	assert!(!sorted.is_empty(), "the quantile of an empty sample");
	let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
	let below = position.floor() as usize;
	let above = position.ceil() as usize;
	sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

#[cfg(test)]
mod tests {
	use super::*;
	use contract_equilibrium_primitives::fairness;

	fn fixed(value: f64) -> FixedU128 {
		FixedU128::from_float(value)
	}

	/// A float Gini coefficient from its definition, the mean absolute difference over twice the
	/// mean: `Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² x̄)`.
	fn gini_by_definition(values: &[f64]) -> f64 {
		let n = values.len() as f64;
		let mean = values.iter().sum::<f64>() / n;
		let differences: f64 =
			values.iter().flat_map(|a| values.iter().map(move |b| (a - b).abs())).sum();
		differences / (2.0 * n * n * mean)
	}

	#[test]
	fn the_chains_fairness_is_one_minus_the_textbook_gini() {
		let samples: [&[f64]; 4] = [
			&[1.0, 2.0, 3.0],
			&[0.0, 0.0, 0.0, 8.0],
			&[0.0, 3.2, 0.7, 11.0, 5.5, 2.25, 0.0, 9.75],
			&[4.0; 6],
		];
		for values in samples {
			let allocations: Vec<FixedU128> = values.iter().map(|v| fixed(*v)).collect();
			let chain = 1.0 - fraction(fairness(&allocations));
			let expected = gini_by_definition(values);
			assert!((chain - expected).abs() < 1e-8, "{values:?}: {chain} vs {expected}");
		}
	}

	#[test]
	fn converged_means_entered_and_stayed() {
		let target = fixed(1.0);
		let tolerance = fixed(0.01);
		let path = [0.0, 0.5, 0.995, 1.02, 0.999, 1.001, 1.0].map(fixed);
		// Inside at block 2, out at block 3, in for good from block 4.
		assert_eq!(blocks_to_converge(&path, target, tolerance), Some(4));
		assert_eq!(blocks_to_converge(&path[..4], target, tolerance), None);
		assert_eq!(blocks_to_converge(&[fixed(1.0)], target, tolerance), Some(0));
	}

	#[test]
	fn contraction_is_the_worst_ratio_of_distances() {
		let target = fixed(1.0);
		let path = [0.0, 0.5, 0.9, 1.02].map(fixed);
		// Distances 1, 0.5, 0.1, 0.02: ratios 0.5, 0.2, 0.2.
		let worst = worst_contraction(&path, target, fixed(1e-9)).unwrap();
		assert!((worst - 0.5).abs() < 1e-12);
		assert_eq!(worst_contraction(&path[..1], target, fixed(1e-9)), None);
	}

	#[test]
	fn bound_violations_count_the_steps_that_contract_too_little() {
		let target = fixed(1.0);
		// Distances 1, 0.5, 0.3, 0.1: ratios 0.5, 0.6, 0.33.
		let path = [0.0, 0.5, 0.7, 0.9].map(fixed);
		assert_eq!(bound_violations(&path, target, 0.6, 1e-15), 0);
		assert_eq!(bound_violations(&path, target, 0.55, 1e-15), 1);
		// The slack absorbs rounding-sized excesses.
		assert_eq!(bound_violations(&path, target, 0.55, 0.1), 0);
	}

	#[test]
	fn the_papers_factor_and_the_blocks_it_allows() {
		// η = 1/L with the slope in [L/2, L]: κ = 1/2.
		assert_eq!(convergence_factor(0.1, 5.0, 10.0), 0.5);
		// η = 1.9/L: κ = max(|1 − 0.95|, |1 − 1.9|) = 0.9.
		assert!((convergence_factor(0.19, 5.0, 10.0) - 0.9).abs() < 1e-12);
		// From 1 to 10⁻³ at κ = 1/2: 2⁻¹⁰ < 10⁻³ ≤ 2⁻⁹, so 10 blocks.
		assert_eq!(blocks_allowed_by_factor(0.5, 1.0, 1e-3), Some(10));
		assert_eq!(blocks_allowed_by_factor(0.5, 1e-4, 1e-3), Some(0));
		assert_eq!(blocks_allowed_by_factor(1.0, 1.0, 1e-3), None);
	}

	#[test]
	fn summary_statistics() {
		let summary = Summary::of(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
		assert_eq!((summary.count, summary.median, summary.min, summary.max), (5, 3.0, 1.0, 5.0));
		assert_eq!(summary.mean, 3.0);
		assert!((summary.p10 - 1.4).abs() < 1e-12);
		assert!((summary.p90 - 4.6).abs() < 1e-12);
		assert_eq!(Summary::of(&[]), None);
		assert_eq!(quantile(&[2.0], 0.9), 2.0);
		let stats = MeanSd::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
		assert_eq!(stats.mean, 2.5);
		assert!((stats.sd - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
		assert_eq!(MeanSd::of(&[7.0]).map(|s| s.sd), Some(0.0));
		assert_eq!(MeanSd::of(&[]), None);
	}
}
