//! The order book in aggregate: demand kept on a price grid, so that a market prices and
//! settles any number of bids at a cost per block that does not grow with them.
//!
//! Summing every bid's demand at every step costs `O(N)` per block, whoever adds the bids. The
//! book instead keeps the bids' backed demand at a fixed set of [`GRID_POINTS`] prices
//! `g_0 < g_1 < … < g_{K−1}` (a [`PriceGrid`]: the floor, then prices that double every
//! [`POINTS_PER_DOUBLING`] points up to the ceiling). A bid is entered once, as a
//! [`GridOrder`]: at each grid price `g_j` the contract "`D_j` units for `P_j = (g_j + τ)·D_j + g`
//! tokens", where `D_j` is the order's backed demand at `g_j` ([`Order`]) — or nothing, at and
//! above the first grid price where the allocation's value would not cover its price and the
//! fixed fee `g` (the paper's participation decision, [`covers_fixed_fee`]).
//!
//! [`BookTotals`] sums the contracts: `A_j = Σ D_j` and `C_j`, the number of bids that take part
//! at `g_j`. Adding or removing a bid costs `O(K)`, whatever the number of bids.
//!
//! **Prices between grid points.** At `μ = (1 − t)·g_j + t·g_{j+1}` a bid holds the mixture of its
//! two neighbouring contracts: `(1 − t)·D_j + t·D_{j+1}` units for `(1 − t)·P_j + t·P_{j+1}`
//! tokens. The book's demand is the same mixture of the totals, `S̃(μ) = (1 − t)·A_j + t·A_{j+1}`:
//! continuous, piecewise linear and non-increasing, so the price rules of [`crate::step`] apply
//! to it unchanged ([`GriddedDemand`] implements [`Demand`]), in `O(log K)` per evaluation.
//!
//! **Settlement.** At the epoch's price, [`clear`] computes the rationing factor
//! `ρ = min(1, m/S̃(μ))` and records two weights, `w_j = ρ·(1 − t)` and `w_{j+1} = ρ·t`: a
//! [`Clearing`]. Each bid then receives `w_j·D_j + w_{j+1}·D_{j+1}` units and pays
//! `w_j·P_j + w_{j+1}·P_{j+1}` tokens ([`Clearing::settle`]) — whenever it is settled, from the
//! record, in `O(1)`. Rationing scales a bid's whole contract, the fixed fee included, so:
//! - `Σ` allocations `≤ ρ·S̃(μ) ≤ m`;
//! - every payment is at most the order's budget (each `P_j` is);
//! - a declared log-utility bid never pays more than its allocation is worth: its value
//!   `α·ln(1 + x) − β·x` is concave and zero at zero, so it is at least the same mixture of the
//!   contracts' values, each of which covers its price and `g`;
//! - what the market's payee and fee destination are owed is known from the totals alone
//!   ([`ClearingTotals`]), rounded down, while each bid's payment is rounded up: the bids always
//!   pay at least what was paid out for them.

use crate::{
	curve::DemandCurve,
	fixed::{div, mul},
	market::MarketParams,
	order::{Demand, Order},
	settlement::{covers_fixed_fee, payment_for},
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::traits::{One, Saturating, Zero};
use sp_arithmetic::{FixedU128, Rounding};

/// `K`: the number of grid prices.
pub const GRID_POINTS: usize = 513;

/// How many grid points each doubling of the price spans: neighbouring grid prices differ by
/// `2^(1/16) − 1 ≈ 4.4 %` of the span above the floor.
pub const POINTS_PER_DOUBLING: usize = 16;

/// `2^(−r/16)` for `r = 0 … 15`, rounded down to 18 decimals.
const FRACTIONS: [u128; POINTS_PER_DOUBLING] = [
	1_000_000_000_000_000_000,
	957_603_280_698_573_646,
	917_004_043_204_671_231,
	878_126_080_186_649_741,
	840_896_415_253_714_543,
	805_245_165_974_627_154,
	771_105_412_703_970_411,
	738_413_072_969_749_655,
	707_106_781_186_547_524,
	677_127_773_468_446_364,
	648_419_777_325_504_832,
	620_928_906_036_742_024,
	594_603_557_501_360_533,
	569_394_317_378_345_826,
	545_253_866_332_628_829,
	522_136_891_213_706_920,
];

/// The last grid index, `K − 1`.
const LAST: usize = GRID_POINTS - 1;

/// The prices at which a market's book is kept: `g_0` is the floor, and
/// `g_j = floor + (ceiling − floor)·2^(−(K−1−j)/16)` for `j ≥ 1`, so `g_{K−1}` is the ceiling and
/// `g_1` lies about `2⁻³²` of the span above the floor (`2^(−511/16)`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PriceGrid {
	floor: FixedU128,
	span: FixedU128,
}

/// Where a price lies on the grid: in the cell `[g_j, g_{j+1}]` with `j = lower`, at the fraction
/// `position = t ∈ [0, 1]` of the way from `g_j` to `g_{j+1}`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GridPosition {
	/// `j`, from `0` to `K − 2`.
	pub lower: usize,
	/// `t`, rounded down.
	pub position: FixedU128,
}

impl PriceGrid {
	/// The grid between `floor` and `ceiling` (a ceiling below the floor is taken as the floor).
	pub fn new(floor: FixedU128, ceiling: FixedU128) -> Self {
		Self { floor, span: ceiling.saturating_sub(floor) }
	}

	/// The grid of a market's price bounds.
	pub fn of<AccountId>(params: &MarketParams<AccountId>) -> Self {
		Self::new(params.price_floor, params.price_ceiling)
	}

	/// `g_j`, rounded down (`j` above `K − 1` is taken as `K − 1`).
	pub fn price(&self, index: usize) -> FixedU128 {
		if index == 0 {
			return self.floor;
		}
		let steps_down = LAST.saturating_sub(index);
		let whole = steps_down / POINTS_PER_DOUBLING;
		let fraction = FRACTIONS.get(steps_down % POINTS_PER_DOUBLING).copied().unwrap_or(0);
		let fraction = u32::try_from(whole)
			.ok()
			.and_then(|halvings| fraction.checked_shr(halvings))
			.unwrap_or(0);
		self.floor.saturating_add(mul(self.span, FixedU128::from_inner(fraction), Rounding::Down))
	}

	/// How far above `price` the next grid point lies (zero at and above the ceiling): the
	/// width over which a first report's line falls to zero ([`DemandCurve::after_report`]), so
	/// that on the book it is one steep cell. `O(log K)`.
	///
	/// [`DemandCurve::after_report`]: crate::DemandCurve::after_report
	pub fn width_above(&self, price: FixedU128) -> FixedU128 {
		let cell = self.locate(price);
		self.price(cell.lower.saturating_add(1)).saturating_sub(price)
	}

	/// The cell holding `price` and the position in it; a price below the floor is placed at the
	/// floor, one above the ceiling at the ceiling. `O(log K)`.
	pub fn locate(&self, price: FixedU128) -> GridPosition {
		// The largest j in [0, K − 2] with g_j ≤ μ (j = 0 below the floor).
		let (mut low, mut high) = (0usize, LAST.saturating_sub(1));
		while low < high {
			let middle = low.saturating_add(high).saturating_add(1) / 2;
			if self.price(middle) <= price {
				low = middle;
			} else {
				high = middle.saturating_sub(1);
			}
		}
		let (left, right) = (self.price(low), self.price(low.saturating_add(1)));
		let position = if right <= left {
			// A cell of zero width (a span too small to separate the points).
			if price >= right {
				FixedU128::one()
			} else {
				FixedU128::zero()
			}
		} else {
			div(price.min(right).saturating_sub(left), right.saturating_sub(left), Rounding::Down)
				.min(FixedU128::one())
		};
		GridPosition { lower: low, position }
	}
}

/// `(1 − t)·lower + t·upper`, rounded as asked: one rounding, of `t·|upper − lower|`, so the
/// result moves monotonically with `t` and equals `lower` at `t = 0` and `upper` at `t = 1`.
pub fn interpolate(
	lower: FixedU128,
	upper: FixedU128,
	position: FixedU128,
	rounding: Rounding,
) -> FixedU128 {
	let position = position.min(FixedU128::one());
	if lower >= upper {
		let against = match rounding {
			Rounding::Up => Rounding::Down,
			Rounding::Down => Rounding::Up,
			other => other,
		};
		lower.saturating_sub(mul(position, lower.saturating_sub(upper), against))
	} else {
		lower.saturating_add(mul(position, upper.saturating_sub(lower), rounding))
	}
}

/// An order as the book holds it: a contract at every grid price, up to its exit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GridOrder {
	/// The order: its demand curve, its budget per epoch (`B`) and the market's fixed fee `g`.
	pub order: Order,
	/// The market's unit fee `τ`.
	pub unit_fee: FixedU128,
	/// The first grid index at which the order takes no part: its backed demand is zero there, or
	/// its value does not cover the contract's price and `g`. It takes no part above it either.
	pub exit: usize,
}

impl GridOrder {
	/// Enters `order` on `grid` under unit fee `unit_fee`: finds its exit by bisection, in
	/// `O(log K)` evaluations of its demand and value.
	///
	/// A line ([`DemandCurve::Linear`]) takes part at `g_j` only if it still demands something at
	/// the next grid price, or ends exactly there: the book interpolates between grid prices, and
	/// a line that ends inside a cell would be interpolated above itself there. So the book never
	/// shows more of a line than the line itself — what keeps a market of reports below `μ*`
	/// (`docs/mechanism.md`) — and nobody is allocated a sliver, at the price of `g`, in the cell
	/// where its line ends.
	pub fn new(order: Order, unit_fee: FixedU128, grid: &PriceGrid) -> Self {
		let line_end = match order.curve {
			DemandCurve::Linear { .. } => order.curve.exit_price(unit_fee),
			_ => None,
		};
		let takes_part = |index: usize| {
			let price = grid.price(index);
			let units = order.demand_at(unit_fee, price);
			let ends_within_cell = match line_end {
				Some(end) if index.saturating_add(1) < GRID_POINTS => {
					end < grid.price(index.saturating_add(1))
				},
				_ => false,
			};
			!ends_within_cell
				&& covers_fixed_fee(&order.curve, units, unit_fee, order.fixed_fee, price)
		};
		// The first index in [0, K] at which it takes no part (K: it takes part everywhere).
		// Backed demand and the best surplus both fall with the price, so `takes_part` holds on
		// a prefix of the grid.
		let (mut low, mut high) = (0usize, GRID_POINTS);
		while low < high {
			let middle = low.saturating_add(high) / 2;
			if takes_part(middle) {
				low = middle.saturating_add(1);
			} else {
				high = middle;
			}
		}
		Self { order, unit_fee, exit: low }
	}

	/// `D_j`: the units the order's contract at `g_j` allocates, rounded down.
	pub fn units_at(&self, grid: &PriceGrid, index: usize) -> FixedU128 {
		if index >= self.exit {
			return FixedU128::zero();
		}
		self.order.demand_at(self.unit_fee, grid.price(index))
	}

	/// `P_j = (g_j + τ)·D_j + g` (zero where `D_j = 0`): what the contract at `g_j` costs, rounded
	/// up but never above the budget (which its exact value never exceeds).
	pub fn payment_at(&self, grid: &PriceGrid, index: usize) -> FixedU128 {
		let units = self.units_at(grid, index);
		if units.is_zero() {
			return FixedU128::zero();
		}
		payment_for(units, self.unit_fee, self.order.fixed_fee, grid.price(index))
			.min(self.order.budget)
	}
}

/// The sums of the contracts of a set of orders at every grid price.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct BookTotals {
	/// `A_j = Σ D_j`, in units.
	pub units: [FixedU128; GRID_POINTS],
	/// `C_j`: how many orders take part at `g_j`.
	pub participants: [u32; GRID_POINTS],
}

impl Default for BookTotals {
	fn default() -> Self {
		Self { units: [FixedU128::zero(); GRID_POINTS], participants: [0; GRID_POINTS] }
	}
}

impl BookTotals {
	/// Whether no order is in the totals (no contract at any price).
	pub fn is_empty(&self) -> bool {
		self.participants.first().is_none_or(|count| *count == 0)
	}

	/// Adds `order`'s contracts: `O(K)`.
	pub fn add(&mut self, order: &GridOrder, grid: &PriceGrid) {
		for index in 0..order.exit.min(GRID_POINTS) {
			let units = order.units_at(grid, index);
			if let Some(total) = self.units.get_mut(index) {
				*total = total.saturating_add(units);
			}
			if let Some(count) = self.participants.get_mut(index) {
				*count = count.saturating_add(1);
			}
		}
	}

	/// Removes `order`'s contracts, added before with the same grid: `O(K)`.
	pub fn remove(&mut self, order: &GridOrder, grid: &PriceGrid) {
		for index in 0..order.exit.min(GRID_POINTS) {
			let units = order.units_at(grid, index);
			if let Some(total) = self.units.get_mut(index) {
				*total = total.saturating_sub(units);
			}
			if let Some(count) = self.participants.get_mut(index) {
				*count = count.saturating_sub(1);
			}
		}
	}

	/// Adds every contract of `other`.
	pub fn merge(&mut self, other: &BookTotals) {
		for (total, units) in self.units.iter_mut().zip(other.units.iter()) {
			*total = total.saturating_add(*units);
		}
		for (count, other) in self.participants.iter_mut().zip(other.participants.iter()) {
			*count = count.saturating_add(*other);
		}
	}

	/// Removes every contract of `other`, which these totals contain.
	pub fn subtract(&mut self, other: &BookTotals) {
		for (total, units) in self.units.iter_mut().zip(other.units.iter()) {
			*total = total.saturating_sub(*units);
		}
		for (count, other) in self.participants.iter_mut().zip(other.participants.iter()) {
			*count = count.saturating_sub(*other);
		}
	}

	/// `A_j` (zero beyond the grid).
	pub fn units_at(&self, index: usize) -> FixedU128 {
		self.units.get(index).copied().unwrap_or_else(FixedU128::zero)
	}

	/// `C_j` (zero beyond the grid).
	pub fn participants_at(&self, index: usize) -> u32 {
		self.participants.get(index).copied().unwrap_or(0)
	}
}

/// A book's demand between its grid prices, `S̃(μ) = (1 − t)·A_j + t·A_{j+1}`: what the price
/// rules step on. The unit fee the [`Demand`] methods take is ignored: the contracts were
/// entered under the market's own.
#[derive(Clone, Copy, Debug)]
pub struct GriddedDemand<'a> {
	/// The market's grid.
	pub grid: PriceGrid,
	/// The totals of the orders that count.
	pub totals: &'a BookTotals,
}

impl GriddedDemand<'_> {
	/// `|S̃'|` on the cell `[g_j, g_{j+1}]`, rounded as asked (zero on a cell of zero width).
	fn cell_slope(&self, lower: usize, rounding: Rounding) -> FixedU128 {
		let upper = lower.saturating_add(1);
		let width = self.grid.price(upper).saturating_sub(self.grid.price(lower));
		if width.is_zero() {
			return FixedU128::zero();
		}
		let fall = self.totals.units_at(lower).saturating_sub(self.totals.units_at(upper));
		div(fall, width, rounding)
	}
}

impl Demand for GriddedDemand<'_> {
	fn demand_at(&self, _unit_fee: FixedU128, price: FixedU128) -> FixedU128 {
		let GridPosition { lower, position } = self.grid.locate(price);
		interpolate(
			self.totals.units_at(lower),
			self.totals.units_at(lower.saturating_add(1)),
			position,
			Rounding::Down,
		)
	}

	fn slopes_at(&self, _unit_fee: FixedU128, price: FixedU128) -> (FixedU128, FixedU128) {
		let GridPosition { lower, position } = self.grid.locate(price);
		let inside = self.cell_slope(lower, Rounding::Down);
		if position.is_zero() && lower > 0 {
			// At the grid price g_j: the cell below on the left, this one on the right.
			(self.cell_slope(lower.saturating_sub(1), Rounding::Down), inside)
		} else if position == FixedU128::one() && lower.saturating_add(2) < GRID_POINTS {
			(inside, self.cell_slope(lower.saturating_add(1), Rounding::Down))
		} else {
			(inside, inside)
		}
	}

	/// The first grid price at which nobody takes part (`None` if someone does at the ceiling).
	fn exit_price(&self, _unit_fee: FixedU128) -> Option<FixedU128> {
		(0..GRID_POINTS)
			.find(|index| self.totals.units_at(*index).is_zero())
			.map(|index| self.grid.price(index))
	}

	/// The steepest cell (the grid starts at the floor, so every cell lies above it), rounded up.
	fn steepest_slope_from(&self, _unit_fee: FixedU128, _floor: FixedU128) -> FixedU128 {
		(0..LAST)
			.map(|lower| self.cell_slope(lower, Rounding::Up))
			.max()
			.unwrap_or_else(FixedU128::zero)
	}

	/// The steepest of the cells that meet `[low, high]`, rounded up: `S̃` is linear on each
	/// cell, so its slope on the interval is one of theirs. A steep cell elsewhere on the grid
	/// (an order leaving near the floor, say) does not slow a step that never reaches it.
	fn steepest_slope_between(
		&self,
		_unit_fee: FixedU128,
		_floor: FixedU128,
		low: FixedU128,
		high: FixedU128,
	) -> FixedU128 {
		let first = self.grid.locate(low).lower;
		let last = self.grid.locate(high).lower.max(first);
		(first..=last)
			.map(|lower| self.cell_slope(lower, Rounding::Up))
			.max()
			.unwrap_or_else(FixedU128::zero)
	}
}

/// How an epoch settled, from which every bid that counted in it is settled whenever it is
/// next touched: the price, the cell, and the weights of the two contracts each bid holds.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Clearing {
	/// The price the epoch settled at, in tokens per unit.
	pub price: FixedU128,
	/// `j`: the contracts at `g_j` and `g_{j+1}` settle.
	pub lower: u16,
	/// `w_j = ρ·(1 − t)`, rounded down.
	pub lower_weight: FixedU128,
	/// `w_{j+1} = ρ·t`, rounded down.
	pub upper_weight: FixedU128,
}

/// What an epoch's settlement comes to in total, from the book's totals alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ClearingTotals {
	/// `S̃(μ)`: the demand counted at the price, rounded up, in units.
	pub demand: FixedU128,
	/// `w_j·A_j + w_{j+1}·A_{j+1}`: the units allocated, at most the capacity, rounded down.
	pub allocated: FixedU128,
	/// What the bids owe the payee, `Σ w·g·A`, rounded down, in tokens.
	pub to_payee: FixedU128,
	/// What the bids owe the fee destination, `Σ w·(τ·A + g·C)`, rounded down, in tokens.
	pub fees: FixedU128,
	/// How many bids hold a contract that settles with a positive weight (those taking part at
	/// `g_j`, or at `g_{j+1}` when only its weight is positive): the bids allocated something,
	/// but for rationing so extreme that a share rounds to zero.
	pub participants: u32,
}

/// Settles an epoch of the book `totals` at `price` (clamped into the grid) for a capacity
/// `capacity`: the rationing factor, the [`Clearing`] every bid is settled from, and the totals
/// owed. `O(log K)`.
pub fn clear(
	grid: &PriceGrid,
	totals: &BookTotals,
	unit_fee: FixedU128,
	fixed_fee: FixedU128,
	capacity: FixedU128,
	price: FixedU128,
) -> (Clearing, ClearingTotals) {
	let GridPosition { lower, position } = grid.locate(price);
	let upper = lower.saturating_add(1);
	let (units_lower, units_upper) = (totals.units_at(lower), totals.units_at(upper));
	let demand = interpolate(units_lower, units_upper, position, Rounding::Up);
	let rationing =
		if demand <= capacity { FixedU128::one() } else { div(capacity, demand, Rounding::Down) };
	let lower_weight = mul(rationing, FixedU128::one().saturating_sub(position), Rounding::Down);
	let upper_weight = mul(rationing, position, Rounding::Down);
	let weighted = |weight: FixedU128, value: FixedU128| mul(weight, value, Rounding::Down);

	let (price_lower, price_upper) = (grid.price(lower), grid.price(upper));
	let fees_at = |units: FixedU128, participants: u32| {
		mul(unit_fee, units, Rounding::Down)
			.saturating_add(fixed_fee.saturating_mul(FixedU128::from_u32(participants)))
	};
	let participants = if !lower_weight.is_zero() {
		totals.participants_at(lower)
	} else if !upper_weight.is_zero() {
		totals.participants_at(upper)
	} else {
		0
	};
	let clearing = Clearing {
		price: grid.price(0).max(price).min(grid.price(LAST)),
		lower: u16::try_from(lower).unwrap_or(u16::MAX),
		lower_weight,
		upper_weight,
	};
	let totals = ClearingTotals {
		demand,
		allocated: weighted(lower_weight, units_lower)
			.saturating_add(weighted(upper_weight, units_upper)),
		to_payee: weighted(lower_weight, mul(price_lower, units_lower, Rounding::Down))
			.saturating_add(weighted(upper_weight, mul(price_upper, units_upper, Rounding::Down))),
		fees: weighted(lower_weight, fees_at(units_lower, totals.participants_at(lower)))
			.saturating_add(weighted(
				upper_weight,
				fees_at(units_upper, totals.participants_at(upper)),
			)),
		participants,
	};
	(clearing, totals)
}

/// What one bid receives and pays for one epoch.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Settlement {
	/// The units allocated, rounded down.
	pub allocation: FixedU128,
	/// The payment, rounded up, never above the order's budget, in tokens.
	pub payment: FixedU128,
}

impl Clearing {
	/// What `order` receives and pays in the epoch this clearing settled: its two contracts,
	/// weighted. `O(1)`.
	pub fn settle(&self, order: &GridOrder, grid: &PriceGrid) -> Settlement {
		let lower = usize::from(self.lower);
		let upper = lower.saturating_add(1);
		let allocation = mul(self.lower_weight, order.units_at(grid, lower), Rounding::Down)
			.saturating_add(mul(self.upper_weight, order.units_at(grid, upper), Rounding::Down));
		let payment = mul(self.lower_weight, order.payment_at(grid, lower), Rounding::Up)
			.saturating_add(mul(self.upper_weight, order.payment_at(grid, upper), Rounding::Up))
			.min(order.order.budget);
		Settlement { allocation, payment }
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		clearing_price,
		curve::DemandCurve,
		equilibrium::aggregate_demand,
		fixed::abs_diff,
		market::{tests::paper_market, StepRule},
		next_price,
		settlement::total_surplus,
		testing::{agent, fixed},
	};
	use alloc::vec::Vec;
	use sp_arithmetic::Perbill;

	fn demo_grid() -> PriceGrid {
		PriceGrid::new(FixedU128::zero(), fixed(100.0))
	}

	fn order(curve: DemandCurve, budget: f64) -> Order {
		Order { curve, budget: fixed(budget), fixed_fee: fixed(1.0) }
	}

	/// The paper's agents: α ~ U(5, 20), β ~ U(0.5, 5), each with a budget that rarely binds.
	fn paper_orders(count: usize, mut seed: u64) -> Vec<Order> {
		let mut uniform = |low: f64, high: f64| {
			seed = seed
				.wrapping_mul(6_364_136_223_846_793_005)
				.wrapping_add(1_442_695_040_888_963_407);
			low + (high - low) * ((seed >> 11) as f64 / (1u64 << 53) as f64)
		};
		(0..count)
			.map(|_| order(agent(uniform(5.0, 20.0), uniform(0.5, 5.0)), uniform(5.0, 100.0)))
			.collect()
	}

	fn book_of(orders: &[Order], grid: &PriceGrid) -> (Vec<GridOrder>, BookTotals) {
		let mut totals = BookTotals::default();
		let entered: Vec<GridOrder> =
			orders.iter().map(|order| GridOrder::new(*order, fixed(0.5), grid)).collect();
		for order in &entered {
			totals.add(order, grid);
		}
		(entered, totals)
	}

	#[test]
	fn the_grid_runs_from_floor_to_ceiling_in_even_ratios() {
		let grid = PriceGrid::new(fixed(0.5), fixed(100.5));
		assert_eq!(grid.price(0), fixed(0.5));
		assert_eq!(grid.price(LAST), fixed(100.5));
		let ratio = fixed(2f64.powf(1.0 / 16.0));
		for index in 1..LAST {
			let (here, next) = (grid.price(index), grid.price(index + 1));
			assert!(next > here, "not increasing at {index}");
			if index > 1 {
				// Above the floor the distances grow by 2^(1/16) per point.
				let gap = (next - grid.price(0)) / (here - grid.price(0));
				assert!(abs_diff(gap, ratio) < fixed(1e-6), "{index}: {gap:?}");
			}
		}
		// 2⁻³² of the span above the floor: the grid resolves tiny prices too.
		assert!(grid.price(1) - fixed(0.5) < fixed(1e-7));
	}

	#[test]
	fn locating_a_price_finds_its_cell() {
		let grid = demo_grid();
		for index in 0..LAST {
			let here = grid.price(index);
			assert_eq!(
				grid.locate(here),
				GridPosition { lower: index, position: FixedU128::zero() }
			);
			let middle = here + (grid.price(index + 1) - here) / fixed(2.0);
			let found = grid.locate(middle);
			assert_eq!(found.lower, index);
			assert!(abs_diff(found.position, fixed(0.5)) < fixed(1e-9));
		}
		let top = grid.locate(fixed(100.0));
		assert_eq!((top.lower, top.position), (LAST - 1, FixedU128::one()));
		assert_eq!(grid.locate(fixed(1e6)).position, FixedU128::one(), "clamped to the ceiling");
		// A market whose floor is its ceiling: every price is the floor.
		let flat = PriceGrid::new(fixed(2.0), fixed(2.0));
		assert_eq!(flat.locate(fixed(2.0)).position, FixedU128::one());
	}

	#[test]
	fn an_agent_leaves_where_its_value_no_longer_covers_the_fixed_fee() {
		// α = 3, β = 0.5, τ = 0.5, g = 1: the curve demands something up to μ = 2, but the best
		// surplus 3·ln(3/c) − 3 + c falls below g = 1 well before.
		let grid = demo_grid();
		let entered = GridOrder::new(order(agent(3.0, 0.5), 100.0), fixed(0.5), &grid);
		let exit = grid.price(entered.exit);
		assert!(exit < fixed(1.0), "exit at {exit:?}");
		assert!(entered.units_at(&grid, entered.exit - 1) > FixedU128::zero());
		// Every contract it holds is worth its price and fee to it.
		for index in 0..entered.exit {
			let units = entered.units_at(&grid, index);
			let value = total_surplus([(&entered.order.curve, units)]);
			assert!(value >= entered.payment_at(&grid, index), "at g_{index}");
		}
		// A reported quantity is its sender's decision: it stays in wherever its budget pays.
		let reported =
			GridOrder::new(order(DemandCurve::Quantity { x: fixed(1.0) }, 1e6), fixed(0.5), &grid);
		assert_eq!(reported.exit, GRID_POINTS);
		// A budget at or below g backs nothing.
		let unbacked =
			GridOrder::new(order(DemandCurve::Quantity { x: fixed(1e9) }, 1.0), fixed(0.5), &grid);
		assert_eq!(unbacked.exit, 0);
	}

	#[test]
	fn removing_every_order_empties_the_book() {
		let grid = demo_grid();
		let (entered, mut totals) = book_of(&paper_orders(50, 3), &grid);
		assert!(!totals.is_empty());
		let snapshot = totals.clone();
		let mut twice = snapshot.clone();
		twice.merge(&snapshot);
		twice.subtract(&snapshot);
		assert_eq!(twice, snapshot);
		for order in entered.iter().rev() {
			totals.remove(order, &grid);
		}
		assert_eq!(totals, BookTotals::default());
		assert!(totals.is_empty());
	}

	#[test]
	fn the_gridded_book_agrees_with_the_orders_at_grid_prices_and_clears_near_them() {
		let mut params = paper_market(StepRule::DualAscent { eta: fixed(0.1) });
		params.capacity = fixed(50.0);
		let grid = PriceGrid::of(&params);
		// With g = 0 the participation screen cuts nothing: the only gap is the interpolation.
		params.fixed_fee = FixedU128::zero();
		let orders: Vec<Order> = paper_orders(20, 7)
			.into_iter()
			.map(|order| Order { fixed_fee: FixedU128::zero(), ..order })
			.collect();
		let (entered, totals) = book_of(&orders, &grid);
		let book = [GriddedDemand { grid, totals: &totals }];
		for index in [0, 300, 400, 450, 500, LAST] {
			let price = grid.price(index);
			let exact: FixedU128 = entered
				.iter()
				.map(|order| order.units_at(&grid, index))
				.fold(FixedU128::zero(), |sum, units| sum + units);
			assert_eq!(aggregate_demand(&book, params.unit_fee, price), exact);
		}
		// The book's clearing price is within 0.1 % of the orders' own: the interpolation
		// between grid prices 4.4 % apart overstates convex demand only slightly.
		let exact = clearing_price(&orders, &params);
		let gridded = clearing_price(&book, &params);
		assert!(exact > fixed(0.5), "capacity binds: {exact:?}");
		assert!(abs_diff(exact, gridded) <= exact / fixed(1000.0), "{exact:?} vs {gridded:?}");
	}

	#[test]
	fn newton_converges_on_the_gridded_book() {
		let mut params = paper_market(StepRule::SafeguardedNewton {
			max_relative_change: Perbill::from_percent(100),
			min_change: FixedU128::one(),
		});
		params.capacity = fixed(50.0);
		let grid = PriceGrid::of(&params);
		let (_, totals) = book_of(&paper_orders(20, 11), &grid);
		let book = [GriddedDemand { grid, totals: &totals }];
		let target = clearing_price(&book, &params);
		let mut price = FixedU128::zero();
		let mut blocks = 0;
		while abs_diff(price, target) > fixed(1e-6) {
			price = next_price(&book, &params, price).price;
			blocks += 1;
			assert!(blocks < 30, "no convergence: {price:?} vs {target:?}");
		}
	}

	#[test]
	fn settlement_fits_capacity_budgets_and_values() {
		let grid = demo_grid();
		let (entered, totals) = book_of(&paper_orders(40, 5), &grid);
		for (capacity, price) in [(10.0, 0.3), (50.0, 1.0), (500.0, 0.02), (30.0, 2.71)] {
			let (clearing, owed) =
				clear(&grid, &totals, fixed(0.5), fixed(1.0), fixed(capacity), fixed(price));
			assert!(owed.allocated <= fixed(capacity));
			let (mut allocated, mut paid) = (FixedU128::zero(), FixedU128::zero());
			for order in &entered {
				let settled = clearing.settle(order, &grid);
				allocated = allocated + settled.allocation;
				paid = paid + settled.payment;
				assert!(settled.payment <= order.order.budget);
				let value = total_surplus([(&order.order.curve, settled.allocation)]);
				// Rounding may cost the bid a few units of 10⁻¹⁸.
				assert!(value + FixedU128::from_inner(100) >= settled.payment, "{order:?}");
			}
			assert!(allocated <= owed.allocated && owed.allocated <= fixed(capacity));
			assert!(paid >= owed.to_payee + owed.fees, "{paid:?} < {owed:?}");
		}
	}

	mod properties {
		use super::*;
		use proptest::prelude::*;

		fn any_order() -> impl Strategy<Value = Order> {
			(
				prop_oneof![
					(1u128..=100_000, 1u128..=20_000).prop_map(|(alpha, beta)| {
						DemandCurve::LogUtility {
							alpha: FixedU128::from_rational(alpha, 1_000),
							beta: FixedU128::from_rational(beta.max(1), 1_000),
						}
					}),
					(0u128..=100_000).prop_map(|x| DemandCurve::Quantity {
						x: FixedU128::from_rational(x, 1_000)
					}),
				],
				0u128..=1_000_000,
			)
				.prop_map(|(curve, budget)| Order {
					curve,
					budget: FixedU128::from_rational(budget, 1_000),
					fixed_fee: FixedU128::one(),
				})
		}

		proptest! {
			/// Whatever the orders, capacity and price: the allocations fit the capacity, each
			/// payment fits its budget, the bids pay at least what the totals say is owed, and
			/// the book's demand never rises with the price.
			#[test]
			fn settling_from_the_totals_is_sound(
				orders in prop::collection::vec(any_order(), 1..25),
				capacity in 1u128..=200_000,
				price in 0u128..=100_000,
			) {
				let grid = demo_grid();
				let (entered, totals) = book_of(&orders, &grid);
				let capacity = FixedU128::from_rational(capacity, 1_000);
				let price = FixedU128::from_rational(price, 1_000);
				let (clearing, owed) =
					clear(&grid, &totals, fixed(0.5), FixedU128::one(), capacity, price);
				let (mut allocated, mut paid) = (FixedU128::zero(), FixedU128::zero());
				for order in &entered {
					let settled = clearing.settle(order, &grid);
					prop_assert!(settled.payment <= order.order.budget);
					prop_assert!(settled.allocation.is_zero() || !settled.payment.is_zero());
					allocated = allocated.saturating_add(settled.allocation);
					paid = paid.saturating_add(settled.payment);
				}
				prop_assert!(allocated <= owed.allocated && owed.allocated <= capacity);
				prop_assert!(paid >= owed.to_payee.saturating_add(owed.fees));
				let book = GriddedDemand { grid, totals: &totals };
				let mut last = book.demand_at(fixed(0.5), FixedU128::zero());
				for step in 1..60u32 {
					let demand = book.demand_at(fixed(0.5), FixedU128::from_rational(u128::from(step), 20));
					prop_assert!(demand <= last);
					last = demand;
				}
			}
		}
	}
}
