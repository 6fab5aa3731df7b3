//! One price step per block.
//!
//! Both rules see only `S(μ_t)` and its slope (and, for the Newton–secant rule, `S` at one more
//! price), take exactly one step, and clamp the result into `[μ_min, μ_max]`.
//!
//! **Why the steps never cross `μ*`.** Write `f(μ) = S(μ) − m`: continuous, non-increasing and
//! convex (see [`crate::equilibrium`]).
//! - Dual ascent with `η ≤ 1/L`, `L ≥ |S'|` on the price range: the map
//!   `μ ↦ μ + η·f(μ)` has slope `1 + η·f' ≥ 1 − η·L ≥ 0`, so it is non-decreasing and fixes
//!   `μ*`; hence `μ < μ*` implies `μ + η·f(μ) ≤ μ*`, and `μ > μ*` implies `μ + η·f(μ) ≥ μ*`.
//! - Newton from below (`f(μ) > 0`): the tangent of a convex function lies below it, so the
//!   tangent's root `μ + f(μ)/|f'(μ)|` has `f ≥ 0` there: it is at most `μ*`. Where demand is not
//!   convex (a book's cell where an order leaves), the step divides by the steepest slope between
//!   the price and the tangent's root instead, which keeps it at most `μ*` all the same.
//! - From above (`f(μ) < 0`): the Newton point `μ_N = μ − |f(μ)|/|f'(μ⁻)|` is at most `μ*` (same
//!   argument), so `f(μ_N) ≥ 0 > f(μ)` brackets `μ*`; on `[μ_N, μ]` the chord of a convex
//!   function lies above it, so the chord's root has `f ≤ 0` there: it is at least `μ*`.
//! - Shortening a step (the relative cap) or clamping keeps it on the same side.
//!
//! Each division is rounded towards the side the step comes from. `S` itself is evaluated in fixed
//! point, so these guarantees hold up to its granularity: a step may cross `μ*` by a few units of
//! 10⁻¹⁸, never more.

use crate::{
	equilibrium::{aggregate_demand, evaluate, lipschitz_bound, lipschitz_bound_between},
	fixed::{abs_diff, div, mul, mul_div, pow_fraction},
	market::{MarketParams, StepRule},
	order::Demand,
};
use codec::{Decode, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::traits::{One, Saturating, Zero};
use sp_arithmetic::{traits::Bounded, FixedI128, FixedPointNumber, FixedU128, Rounding};

/// The outcome of one price step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PriceStep {
	/// The new price `μ_{t+1}`, in tokens per unit.
	pub price: FixedU128,
	/// `S(μ_t)`: the aggregate demand at the price the step started from, in units.
	pub aggregate_demand: FixedU128,
	/// `S(μ_t) − m`, in units.
	pub excess_demand: FixedI128,
	/// Whether the market has converged: the price moved by at most the tolerance and either
	/// `|S − m| ≤ tolerance` or the price sits at a bound that the excess pushes against.
	pub converged: bool,
}

/// `a − b` as a signed fixed-point number (saturating).
pub fn signed_difference(a: FixedU128, b: FixedU128) -> FixedI128 {
	let magnitude = i128::try_from(abs_diff(a, b).into_inner()).unwrap_or(i128::MAX);
	if a >= b {
		FixedI128::from_inner(magnitude)
	} else {
		FixedI128::from_inner(magnitude.saturating_neg())
	}
}

/// One unprojected step of dual ascent: `price + step_size·(demand − supply)`, the price rising
/// with excess demand and falling with excess supply (saturating at zero and at the largest
/// [`FixedU128`]; the caller clamps the result into its bounds). The product is rounded towards
/// zero, so a step never goes further than the exact one.
///
/// The same step prices a market's resource (`demand` = `S(μ)`, `supply` = capacity `m`) and,
/// in the liquidity markets, a loan asset (`demand` = utilization, `supply` = target
/// utilization).
pub fn dual_ascent_step(
	price: FixedU128,
	demand: FixedU128,
	supply: FixedU128,
	step_size: FixedU128,
) -> FixedU128 {
	if demand >= supply {
		price.saturating_add(mul(step_size, demand.saturating_sub(supply), Rounding::Down))
	} else {
		price.saturating_sub(mul(step_size, supply.saturating_sub(demand), Rounding::Down))
	}
}

/// What a price rule remembers from one block to the next. Only [`StepRule::RobbinsMonro`]
/// remembers anything; the other rules leave it at its default.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode, MaxEncodedLen, TypeInfo)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct StepMemory {
	/// `k`: how many times the excess demand changed sign since the rule last restarted.
	pub sign_changes: u32,
	/// The sign of the last nonzero excess demand seen: `Some(true)` for excess demand,
	/// `Some(false)` for excess supply, `None` before any.
	pub excess_demand_last: Option<bool>,
	/// For how many blocks in a row the excess demand has kept that sign.
	pub same_sign_blocks: u32,
	/// How many prices the average holds (those since the last restart).
	pub averaged: u32,
	/// The average of the prices posted since the last restart, later prices weighing more (see
	/// `StepMemory::average_in`), in tokens per unit: the price a Robbins–Monro market settles
	/// at.
	pub average_price: FixedU128,
	/// How many times the rule restarted because the excess kept one sign for too long.
	pub restarts: u32,
}

impl StepMemory {
	/// Adds `price`, the `n`-th since the restart, to the average
	/// (polynomial-decay averaging, Shamir and Zhang 2013): `ā ← ā + (price − ā)·3/(n + 2)`, whose
	/// weights grow like `n²`.
	///
	/// A plain average weighs the climb from the floor by `1/t`: its squared bias falls like
	/// `1/t²` and, measured, still dominates after 20 000 blocks. With weights `n²` the climb
	/// weighs like `1/t³`, and the noise still averages out like `1/t`.
	fn average_in(&mut self, price: FixedU128) {
		self.averaged = self.averaged.saturating_add(1);
		let count = FixedU128::saturating_from_integer(self.averaged.saturating_add(2));
		let change = mul_div(
			abs_diff(price, self.average_price),
			FixedU128::saturating_from_integer(3u32),
			count,
			Rounding::Down,
		);
		self.average_price = if price >= self.average_price {
			self.average_price.saturating_add(change)
		} else {
			self.average_price.saturating_sub(change)
		};
	}
}

/// Takes one step of `params.step_rule` from `price` against the demand `curves`, for the rules
/// that remember nothing (with [`StepRule::RobbinsMonro`] it is the first step after a restart).
pub fn next_price<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	price: FixedU128,
) -> PriceStep {
	next_price_remembering(curves, params, price, &mut StepMemory::default())
}

/// Takes one step of `params.step_rule` from `price` against the demand `curves`, updating what
/// the rule remembers (`memory`).
pub fn next_price_remembering<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	price: FixedU128,
	memory: &mut StepMemory,
) -> PriceStep {
	let price = params.clamp_price(price);
	let snapshot = evaluate(curves, params.unit_fee, price);
	let target = match params.step_rule {
		StepRule::DualAscent { eta } => {
			dual_ascent_target(curves, params, price, snapshot.demand, eta)
		},
		StepRule::SafeguardedNewton { max_relative_change, min_change } => {
			let target = newton_secant_target(curves, params, price, snapshot);
			let cap =
				max_relative_change.mul_floor(price.into_inner()).max(min_change.into_inner());
			let cap = FixedU128::from_inner(cap);
			if target >= price {
				target.min(price.saturating_add(cap))
			} else {
				target.max(price.saturating_sub(cap))
			}
		},
		StepRule::RobbinsMonro { eta, offset, exponent, patience } => robbins_monro_target(
			curves,
			params,
			price,
			snapshot.demand,
			memory,
			eta,
			offset,
			exponent,
			patience,
		),
	};
	let next = params.clamp_price(target);
	if matches!(params.step_rule, StepRule::RobbinsMonro { .. }) {
		memory.average_in(next);
	}

	let excess = abs_diff(snapshot.demand, params.capacity);
	let pushed_against_bound = (next == params.price_floor && snapshot.demand < params.capacity)
		|| (next == params.price_ceiling && snapshot.demand > params.capacity);
	let converged = abs_diff(next, price) <= params.tolerance
		&& (excess <= params.tolerance || pushed_against_bound);

	PriceStep {
		price: next,
		aggregate_demand: snapshot.demand,
		excess_demand: signed_difference(snapshot.demand, params.capacity),
		converged,
	}
}

/// The Robbins–Monro target: dual ascent's step ([`dual_ascent_target`]: `μ + η·(S − m)`
/// with `η` cut to `1/L` where the book is steep, so it never crosses the book's root) with the
/// shrinking size `η_k = η₀/(t₀ + k)^a`, after counting this block's sign of the excess into
/// `memory`.
///
/// `k` advances only when the sign changes (Kesten). A run of one sign restarts the rule once
/// it lasts `patience + 2·⌊log₂(1 + k)⌋` blocks: a demand shift is followed quickly, while under
/// noise — where a run of `r` equal signs turns up about every `2^r` blocks — the threshold
/// grows with `k` fast enough that, almost surely, restarts stop (the `2^{−2 log₂ k}` terms sum).
#[allow(clippy::too_many_arguments)]
fn robbins_monro_target<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	price: FixedU128,
	demand: FixedU128,
	memory: &mut StepMemory,
	eta: FixedU128,
	offset: u32,
	exponent: sp_arithmetic::Perbill,
	patience: u32,
) -> FixedU128 {
	if demand != params.capacity {
		let excess_demand = demand > params.capacity;
		match memory.excess_demand_last {
			Some(last) if last == excess_demand => {
				memory.same_sign_blocks = memory.same_sign_blocks.saturating_add(1);
			},
			Some(_) => {
				memory.sign_changes = memory.sign_changes.saturating_add(1);
				memory.same_sign_blocks = 1;
			},
			None => memory.same_sign_blocks = 1,
		}
		memory.excess_demand_last = Some(excess_demand);
		let growth = memory.sign_changes.saturating_add(1).ilog2().saturating_mul(2);
		if memory.sign_changes > 0 && memory.same_sign_blocks >= patience.saturating_add(growth) {
			// Demand has shifted: the shrunken steps would take too long to follow it.
			memory.sign_changes = 0;
			memory.same_sign_blocks = 0;
			memory.averaged = 0;
			memory.average_price = FixedU128::zero();
			memory.restarts = memory.restarts.saturating_add(1);
		}
	}
	let shrink = pow_fraction(
		FixedU128::saturating_from_integer(offset.saturating_add(memory.sign_changes)),
		exponent,
	);
	dual_ascent_target(curves, params, price, demand, div(eta, shrink, Rounding::Down))
}

/// The step size dual ascent uses: `min(eta, 1/L)` (just `eta` when no agent responds to the
/// price, `L = 0`).
pub fn effective_step_size<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	eta: FixedU128,
) -> FixedU128 {
	let bound = lipschitz_bound(curves, params.unit_fee, params.price_floor);
	if bound.is_zero() {
		eta
	} else {
		eta.min(div(FixedU128::one(), bound, Rounding::Down))
	}
}

/// Dual ascent's target: `μ + η_eff·(S − m)` with `η_eff = min(η, 1/L)`, where `L` bounds `|S'|`
/// between the price and where governance's `η` alone would take it (clamped into the bounds).
///
/// Why a local bound keeps the guarantee: the target lies in that interval (`η_eff ≤ η`), and
/// on it the map `x ↦ x + η_eff·(S(x) − m)` has slope `1 − η_eff·|S'| ≥ 0`. Were `μ*` strictly
/// between the price and the target, the map would be non-decreasing from the price to `μ*`, so
/// the target (the map at the price) would be at most (from below) or at least (from above) its
/// value at `μ*`, which is `μ*` itself — a contradiction. So the step never crosses `μ*`.
fn dual_ascent_target<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	price: FixedU128,
	demand: FixedU128,
	eta: FixedU128,
) -> FixedU128 {
	let step = |step_size: FixedU128| dual_ascent_step(price, demand, params.capacity, step_size);
	let reach = params.clamp_price(step(eta));
	let bound = lipschitz_bound_between(
		curves,
		params.unit_fee,
		params.price_floor,
		price.min(reach),
		price.max(reach),
	);
	let step_size =
		if bound.is_zero() { eta } else { eta.min(div(FixedU128::one(), bound, Rounding::Down)) };
	step(step_size)
}

fn newton_secant_target<D: Demand, AccountId>(
	curves: &[D],
	params: &MarketParams<AccountId>,
	price: FixedU128,
	snapshot: crate::equilibrium::DemandSnapshot,
) -> FixedU128 {
	let capacity = params.capacity;
	if snapshot.demand == capacity {
		return price;
	}
	if snapshot.demand > capacity {
		// Below μ*: the Newton step, rounded down, lands at or below μ*.
		if snapshot.slope_above.is_zero() {
			// Nobody responds to a higher price: demand exceeds capacity at every price.
			return FixedU128::max_value();
		}
		let excess = snapshot.demand.saturating_sub(capacity);
		let newton = price.saturating_add(div(excess, snapshot.slope_above, Rounding::Down));
		// Where demand is not convex (a book's cell where an order leaves), a steeper stretch
		// between the price and the tangent's root would let the tangent overshoot μ*. Dividing
		// by the steepest slope on that stretch instead keeps the step below μ* (the argument of
		// dual ascent with η = 1/L); for convex demand it is the slope at the price: Newton's step.
		let steepest = lipschitz_bound_between(
			curves,
			params.unit_fee,
			price,
			price,
			newton.min(params.price_ceiling),
		)
		.max(snapshot.slope_above);
		return price.saturating_add(div(excess, steepest, Rounding::Down));
	}

	// Above μ*: S(μ) < m.
	if price <= params.price_floor {
		return price;
	}
	let shortfall = capacity.saturating_sub(snapshot.demand);
	if snapshot.slope_below.is_zero() {
		// Nobody demands at or just below this price: S is flat down to the highest exit price,
		// so μ* lies at or below it (or at the floor, when nobody ever demands).
		let highest_exit = curves
			.iter()
			.filter_map(|curve| curve.exit_price(params.unit_fee))
			.max()
			.unwrap_or_else(FixedU128::zero);
		if highest_exit < price {
			return highest_exit;
		}
		// Declared curves and orders backed by a budget always exit below a flat price. Should a
		// demand model ever report a flat price above its exit bound, the step still makes
		// progress: it descends towards the floor, as fast as the rule's cap allows.
		return params.price_floor;
	}
	// The Newton point, rounded down, is at or below μ*.
	let newton = price
		.saturating_sub(div(shortfall, snapshot.slope_below, Rounding::Up))
		.max(params.price_floor);
	let demand_at_newton = aggregate_demand(curves, params.unit_fee, newton);
	if demand_at_newton <= capacity {
		// Only when the Newton point was clamped to the floor (or hits μ* exactly): then the
		// floor clears, μ* = newton.
		return newton;
	}
	// The chord through (newton, S(newton)) and (price, S(price)) crosses m at or above μ*;
	// the step back from `price` is rounded down so that the result stays at or above μ*.
	let back = mul_div(
		shortfall,
		price.saturating_sub(newton),
		demand_at_newton.saturating_sub(snapshot.demand),
		Rounding::Down,
	);
	price.saturating_sub(back)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{agent, fixed};
	use crate::{clearing_price, curve::DemandCurve, market::tests::paper_market};
	use sp_arithmetic::{FixedPointNumber, Perbill};

	fn newton_rule() -> StepRule {
		StepRule::SafeguardedNewton {
			max_relative_change: Perbill::from_percent(100),
			min_change: fixed(1000.0),
		}
	}

	/// Ten agents that make capacity bind: μ* is interior.
	fn binding_agents() -> alloc::vec::Vec<DemandCurve> {
		(0..10u32).map(|i| agent(20.0 + f64::from(i) * 3.0, 0.5 + f64::from(i) * 0.2)).collect()
	}

	/// Steps from `start` until within `tolerance` of μ*; returns the number of blocks.
	fn blocks_to_converge(
		curves: &[DemandCurve],
		params: &MarketParams<u64>,
		start: FixedU128,
		tolerance: FixedU128,
	) -> u32 {
		let target = clearing_price(curves, params);
		let mut price = start;
		for block in 0..100_000u32 {
			if abs_diff(price, target) <= tolerance {
				return block;
			}
			price = next_price(curves, params, price).price;
		}
		panic!("did not converge in 100 000 blocks");
	}

	#[test]
	fn dual_ascent_moves_by_eta_times_excess() {
		// One price-insensitive bid of 150 against m = 100: L = 0, so η is used as is.
		let params = paper_market(StepRule::DualAscent { eta: fixed(0.01) });
		let curves = [DemandCurve::Quantity { x: fixed(150.0) }];
		let step = next_price(&curves, &params, fixed(1.0));
		assert_eq!(step.price, fixed(1.5));
		assert_eq!(step.aggregate_demand, fixed(150.0));
		assert_eq!(step.excess_demand, FixedI128::from_u32(50));
		assert!(!step.converged);
		// Excess supply moves the price down, and the floor holds it.
		let curves = [DemandCurve::Quantity { x: fixed(50.0) }];
		let step = next_price(&curves, &params, fixed(0.2));
		assert_eq!(step.price, FixedU128::zero());
		assert_eq!(step.excess_demand, FixedI128::from_inner(-50 * FixedI128::DIV));
		assert!(!step.converged, "the price still moved by 0.2 > tolerance");
		let step = next_price(&curves, &params, step.price);
		assert_eq!(step.price, FixedU128::zero());
		assert!(step.converged, "at the floor with excess supply the market has converged");
	}

	#[test]
	fn dual_ascent_caps_a_divergent_eta() {
		// η = 1000 would diverge (2/L is about 0.1 here); the cap 1/L keeps every iterate on
		// one side of μ*.
		let params = paper_market(StepRule::DualAscent { eta: fixed(1000.0) });
		let curves = binding_agents();
		let target = clearing_price(&curves, &params);
		let bound = lipschitz_bound(&curves, params.unit_fee, params.price_floor);
		assert_eq!(
			effective_step_size(&curves, &params, fixed(1000.0)),
			div(FixedU128::one(), bound, Rounding::Down)
		);
		let mut price = FixedU128::zero();
		for _ in 0..2000 {
			let next = next_price(&curves, &params, price).price;
			assert!(next >= price && next <= target, "monotone from below: {next:?} vs {target:?}");
			price = next;
		}
		assert!(abs_diff(price, target) <= fixed(1e-9));
	}

	#[test]
	fn newton_from_below_never_overshoots() {
		let params = paper_market(newton_rule());
		let curves = binding_agents();
		let target = clearing_price(&curves, &params);
		let mut price = FixedU128::zero();
		for _ in 0..50 {
			let next = next_price(&curves, &params, price).price;
			assert!(next >= price && next <= target);
			price = next;
		}
		assert!(abs_diff(price, target) <= fixed(1e-15));
	}

	#[test]
	fn newton_secant_from_above_never_undershoots() {
		let params = paper_market(newton_rule());
		let curves = binding_agents();
		let target = clearing_price(&curves, &params);
		let mut price = params.price_ceiling;
		for _ in 0..50 {
			let next = next_price(&curves, &params, price).price;
			assert!(next <= price && next >= target, "{next:?} below μ* {target:?}");
			price = next;
		}
		assert!(abs_diff(price, target) <= fixed(1e-15));
	}

	#[test]
	fn newton_reaches_the_floor_when_capacity_does_not_bind() {
		let params = paper_market(newton_rule());
		let curves = [agent(10.0, 1.0), DemandCurve::Quantity { x: fixed(5.0) }];
		let mut price = fixed(60.0);
		for _ in 0..10 {
			price = next_price(&curves, &params, price).price;
		}
		assert_eq!(price, FixedU128::zero());
		assert!(next_price(&curves, &params, price).converged);
	}

	#[test]
	fn newton_goes_to_the_ceiling_when_nothing_clears() {
		let params = paper_market(newton_rule());
		let curves = [DemandCurve::Quantity { x: fixed(500.0) }];
		let step = next_price(&curves, &params, fixed(1.0));
		assert_eq!(step.price, params.price_ceiling);
		assert!(!step.converged);
		assert!(next_price(&curves, &params, step.price).converged);
	}

	#[test]
	fn the_relative_cap_limits_each_block() {
		let params = paper_market(StepRule::SafeguardedNewton {
			max_relative_change: Perbill::from_percent(10),
			min_change: FixedU128::from_rational(1, 100),
		});
		let curves = binding_agents();
		// From zero only `min_change` is allowed; from 1.0 at most 10 %.
		let hundredth = FixedU128::from_rational(1, 100);
		assert_eq!(next_price(&curves, &params, FixedU128::zero()).price, hundredth);
		assert_eq!(
			next_price(&curves, &params, FixedU128::one()).price,
			FixedU128::from_rational(11, 10)
		);
	}

	/// A deterministic draw of the paper's agents: α ~ U(5, 20), β ~ U(0.5, 5).
	fn paper_agents(count: usize, mut seed: u64) -> alloc::vec::Vec<DemandCurve> {
		let mut uniform = |low: f64, high: f64| {
			seed = seed
				.wrapping_mul(6_364_136_223_846_793_005)
				.wrapping_add(1_442_695_040_888_963_407);
			low + (high - low) * ((seed >> 11) as f64 / (1u64 << 53) as f64)
		};
		(0..count).map(|_| agent(uniform(5.0, 20.0), uniform(0.5, 5.0))).collect()
	}

	#[test]
	fn newton_converges_in_far_fewer_blocks_than_dual_ascent() {
		// The paper's agents with binding capacity m = 25; dual ascent at its largest safe step
		// (η capped to 1/L), Newton with a 100 % relative cap.
		let curves = paper_agents(20, 42);
		let tolerance = fixed(1e-6);
		let mut dual = paper_market(StepRule::DualAscent { eta: fixed(1000.0) });
		dual.capacity = FixedU128::from_u32(25);
		let mut newton = dual.clone();
		newton.step_rule = StepRule::SafeguardedNewton {
			max_relative_change: Perbill::from_percent(100),
			min_change: FixedU128::one(),
		};
		let dual_blocks = blocks_to_converge(&curves, &dual, FixedU128::zero(), tolerance);
		let newton_blocks = blocks_to_converge(&curves, &newton, FixedU128::zero(), tolerance);
		assert!(
			newton_blocks.saturating_mul(10) <= dual_blocks,
			"Newton {newton_blocks} blocks vs dual ascent {dual_blocks}"
		);
	}

	/// The prices a market posts when its bidders keep their utilities private and, every
	/// block, report their best response to the price posted `lag + 1` blocks before the step
	/// (the step at block `b` sees answers to `μ_{b−1−lag}`): each report through
	/// [`DemandCurve::after_report`] when `lines`, as a fixed quantity otherwise.
	fn reported_path(
		agents: &[DemandCurve],
		params: &MarketParams<u64>,
		lag: usize,
		lines: bool,
		blocks: usize,
	) -> alloc::vec::Vec<FixedU128> {
		mixed_path(&[], agents, params, lag, lines, blocks)
	}

	/// As [`reported_path`], with `declared` curves in the book beside the reports.
	fn mixed_path(
		declared: &[DemandCurve],
		agents: &[DemandCurve],
		params: &MarketParams<u64>,
		lag: usize,
		lines: bool,
		blocks: usize,
	) -> alloc::vec::Vec<FixedU128> {
		let grid = crate::PriceGrid::of(params);
		let mut prices = alloc::vec![params.price_floor];
		let mut book: alloc::vec::Vec<Option<DemandCurve>> = alloc::vec![None; agents.len()];
		let mut memory = StepMemory::default();
		for block in 1..=blocks {
			if let Some(answered) = block.checked_sub(lag.saturating_add(1)) {
				let seen = prices[answered];
				for (agent, entry) in agents.iter().zip(book.iter_mut()) {
					let quantity = agent.demand_at(params.unit_fee, seen);
					*entry = Some(if lines {
						let previous = entry.unwrap_or(DemandCurve::Quantity { x: quantity });
						DemandCurve::after_report(&previous, quantity, seen, grid.width_above(seen))
					} else {
						DemandCurve::Quantity { x: quantity }
					});
				}
			}
			let curves: alloc::vec::Vec<DemandCurve> =
				declared.iter().chain(book.iter().flatten()).copied().collect();
			let last = prices[block.saturating_sub(1)];
			let step = next_price_remembering(&curves, params, last, &mut memory);
			prices.push(step.price);
		}
		prices
	}

	#[test]
	fn fixed_quantity_reports_with_a_lag_make_both_rules_cycle() {
		// The failure reports as lines fix: Newton sees no slope and jumps by its cap; dual
		// ascent with L = 0 uses governance's η raw, and a one-block lag makes it oscillate.
		let agents = paper_agents(20, 7);
		for rule in [newton_rule(), StepRule::DualAscent { eta: fixed(0.1) }] {
			let mut params = paper_market(rule);
			params.capacity = FixedU128::from_u32(50);
			let target = clearing_price(&agents, &params);
			let path = reported_path(&agents, &params, 1, false, 400);
			let far = path[300..].iter().filter(|price| abs_diff(**price, target) > fixed(0.1));
			assert!(far.count() > 50, "{rule:?} settled on quantities: {:?}", &path[390..]);
		}
	}

	#[test]
	fn reported_lines_climb_to_the_equilibrium_without_crossing_it_whatever_the_lag_and_eta() {
		let agents = paper_agents(20, 7);
		let rules = [
			newton_rule(),
			StepRule::SafeguardedNewton {
				max_relative_change: Perbill::from_percent(100),
				min_change: fixed(1.0),
			},
			StepRule::DualAscent { eta: fixed(0.1) },
			StepRule::DualAscent { eta: fixed(1e6) },
			StepRule::DualAscent { eta: fixed(0.01) },
		];
		for rule in rules {
			for lag in 1..=3 {
				let mut params = paper_market(rule);
				params.capacity = FixedU128::from_u32(50);
				let target = clearing_price(&agents, &params);
				let path = reported_path(&agents, &params, lag, true, 3000);
				for (block, pair) in path.windows(2).enumerate() {
					if pair[1] < pair[0] {
						std::println!("{:?}", &path[block.saturating_sub(8)..block + 3]);
					}
					assert!(pair[1] >= pair[0], "{rule:?}, lag {lag}: fell {pair:?} at {block}");
					assert!(
						pair[1] <= target,
						"{rule:?}, lag {lag}: crossed μ* {target:?}: {pair:?}"
					);
				}
				let blocks = path.iter().position(|price| abs_diff(*price, target) <= fixed(1e-9));
				assert!(blocks.is_some(), "{rule:?}, lag {lag}: ended at {:?}", path.last());
				std::println!("{rule:?} lag {lag}: {blocks:?} blocks");
			}
		}
	}

	#[test]
	fn a_mixed_market_keeps_both_guarantees() {
		// Half the agents declare their curves, half report with a lag: the price still climbs
		// to the μ* of all of them without crossing it, for any η.
		let agents = paper_agents(20, 11);
		let (declared, reporting) = agents.split_at(10);
		for rule in [newton_rule(), StepRule::DualAscent { eta: fixed(1e6) }] {
			for lag in 1..=2 {
				let mut params = paper_market(rule);
				params.capacity = FixedU128::from_u32(50);
				let target = clearing_price(&agents, &params);
				let path = mixed_path(declared, reporting, &params, lag, true, 400);
				for pair in path.windows(2) {
					assert!(
						pair[0] <= pair[1] && pair[1] <= target,
						"{rule:?}, lag {lag}: {pair:?}"
					);
				}
				assert!(
					abs_diff(*path.last().unwrap(), target) <= fixed(1e-9),
					"{rule:?}, lag {lag}"
				);
			}
		}
	}
}
