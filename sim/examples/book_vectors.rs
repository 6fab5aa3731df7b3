//! Test vectors of the order book on a price grid (`primitives/contract-equilibrium/src/book.rs`)
//! for the Polkadot.js replica of the chain's math (`scripts/polkadot-js/lib/book.mjs`).
//!
//! ```sh
//! cargo run -q -p equilibrium-sim --example book_vectors > /tmp/book_vectors.json
//! node scripts/polkadot-js/book-vectors.mjs /tmp/book_vectors.json
//! ```
//!
//! writes one JSON document to stdout: grids, grid prices and positions, orders entered on each
//! grid (exit, contracts), the book's totals (and after removing, merging and subtracting), the
//! gridded demand and its slopes, clearings with every order's settlement, and price steps of the
//! market rules on the gridded book. Every FixedU128 is its inner u128 (value × 10¹⁸) as a
//! decimal string, every FixedI128 its inner i128; indices and participant counts are numbers.

use contract_equilibrium_primitives::{
	book::{interpolate, GridPosition, GRID_POINTS, POINTS_PER_DOUBLING},
	clear, clearing_price,
	equilibrium::aggregate_demand,
	lipschitz_bound, next_price, BookTotals, Demand, DemandCurve, FixedI128, FixedU128, GridOrder,
	GriddedDemand, MarketParams, Order, PriceGrid, StepRule,
};
use sp_arithmetic::{
	traits::{Saturating, Zero},
	Rounding,
};
use std::collections::BTreeSet;

/// The market's unit fee `τ` and fixed fee `g` of every order here.
const UNIT_FEE: u128 = 500;
const FIXED_FEE: u128 = 1_000;

/// A value given in thousandths, exactly.
fn tokens(thousandths: u128) -> FixedU128 {
	FixedU128::from_inner(thousandths.saturating_mul(1_000_000_000_000_000))
}

/// A value given in units of 10⁻¹⁸.
fn inner(value: u128) -> FixedU128 {
	FixedU128::from_inner(value)
}

// A hand-written JSON writer: values are already formatted JSON text.

fn fixed(value: FixedU128) -> String {
	format!("\"{}\"", value.into_inner())
}

fn signed(value: FixedI128) -> String {
	format!("\"{}\"", value.into_inner())
}

fn text(value: &str) -> String {
	format!("\"{value}\"")
}

fn number(value: impl std::fmt::Display) -> String {
	value.to_string()
}

fn optional(value: Option<FixedU128>) -> String {
	value.map(fixed).unwrap_or_else(|| "null".to_string())
}

fn array(items: impl IntoIterator<Item = String>) -> String {
	format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

fn object(fields: &[(&str, String)]) -> String {
	let fields: Vec<String> =
		fields.iter().map(|(name, value)| format!("\"{name}\":{value}")).collect();
	format!("{{{}}}", fields.join(","))
}

fn rounding_name(rounding: Rounding) -> &'static str {
	match rounding {
		Rounding::Up => "up",
		Rounding::Down => "down",
		Rounding::NearestPrefUp => "nearestPrefUp",
		Rounding::NearestPrefDown => "nearestPrefDown",
	}
}

fn curve(curve: &DemandCurve) -> String {
	match *curve {
		DemandCurve::LogUtility { alpha, beta } => {
			object(&[("kind", text("LogUtility")), ("alpha", fixed(alpha)), ("beta", fixed(beta))])
		},
		DemandCurve::Quantity { x } => object(&[("kind", text("Quantity")), ("x", fixed(x))]),
		DemandCurve::Linear { quantity, price, slope } => object(&[
			("kind", text("Linear")),
			("quantity", fixed(quantity)),
			("price", fixed(price)),
			("slope", fixed(slope)),
		]),
	}
}

fn totals(totals: &BookTotals) -> String {
	object(&[
		("units", array(totals.units.iter().copied().map(fixed))),
		("participants", array(totals.participants.iter().map(number))),
	])
}

/// The paper's agents: α ∈ [5, 20], β ∈ [0.5, 5], budgets in [5, 100], in thousandths, from a
/// 64-bit linear congruential generator.
fn paper_orders(count: usize, mut seed: u64) -> Vec<Order> {
	let mut uniform = |low: u128, high: u128| {
		seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
		let draw = u128::from(seed.wrapping_shr(16));
		let width = high.saturating_sub(low).saturating_add(1);
		tokens(low.saturating_add(draw.checked_rem(width).unwrap_or(0)))
	};
	(0..count)
		.map(|_| {
			let alpha = uniform(5_000, 20_000);
			let beta = uniform(500, 5_000);
			let budget = uniform(5_000, 100_000);
			Order {
				curve: DemandCurve::LogUtility { alpha, beta },
				budget,
				fixed_fee: tokens(FIXED_FEE),
			}
		})
		.collect()
}

/// The orders entered on every grid.
fn orders() -> Vec<Order> {
	let fixed_fee = tokens(FIXED_FEE);
	let mut orders = paper_orders(12, 7);
	orders.extend([
		// A reported quantity with a budget that never binds: it stays in everywhere.
		Order {
			curve: DemandCurve::Quantity { x: tokens(1_000) },
			budget: tokens(1_000_000),
			fixed_fee,
		},
		// A reported quantity whose budget binds: (4 − 1)/(μ + 0.5) units.
		Order {
			curve: DemandCurve::Quantity { x: tokens(3_000) },
			budget: tokens(4_000),
			fixed_fee,
		},
		// Unbacked: a budget at or below g backs nothing.
		Order {
			curve: DemandCurve::Quantity { x: tokens(1_000_000_000_000) },
			budget: tokens(1_000),
			fixed_fee,
		},
		Order {
			curve: DemandCurve::LogUtility { alpha: tokens(10_000), beta: tokens(1_000) },
			budget: tokens(500),
			fixed_fee,
		},
		// Leaves where its value no longer covers its price and g, well before its curve does.
		Order {
			curve: DemandCurve::LogUtility { alpha: tokens(3_000), beta: tokens(500) },
			budget: tokens(100_000),
			fixed_fee,
		},
		// A steep curve on a small budget: the budget cap binds at low prices.
		Order {
			curve: DemandCurve::LogUtility { alpha: tokens(20_000), beta: tokens(500) },
			budget: tokens(2_000),
			fixed_fee,
		},
	]);
	orders
}

/// Prices at and around the grid points, between them, and outside the grid.
fn probe_prices(grid: &PriceGrid) -> Vec<FixedU128> {
	let mut prices = vec![
		FixedU128::zero(),
		inner(1),
		tokens(250),
		tokens(300),
		tokens(500),
		tokens(1_000),
		tokens(2_000),
		tokens(2_710),
		tokens(7_000),
		tokens(50_000),
		tokens(100_000),
		tokens(100_500),
		tokens(150_000),
		tokens(1_000_000_000),
	];
	for index in [0usize, 1, 2, 16, 17, 100, 256, 300, 400, 450, 480, 500, 510, 511, 512] {
		let here = grid.price(index);
		let next = grid.price(index.saturating_add(1));
		prices.push(here);
		prices.push(here.saturating_add(inner(1)));
		prices.push(here.saturating_sub(inner(1)));
		let half = inner(next.saturating_sub(here).into_inner().checked_div(2).unwrap_or(0));
		prices.push(here.saturating_add(half));
		let third = inner(next.saturating_sub(here).into_inner().checked_div(3).unwrap_or(0));
		prices.push(next.saturating_sub(third));
	}
	prices
}

/// Indices at which each order's contracts are checked (besides its exit and the ones around
/// it).
const INDICES: [usize; 21] = [
	0, 1, 2, 15, 16, 17, 100, 255, 256, 300, 400, 450, 480, 496, 500, 510, 511, 512, 513, 600, 1000,
];

fn grid_vectors(floor: FixedU128, ceiling: FixedU128, capacity: FixedU128) -> String {
	let grid = PriceGrid::new(floor, ceiling);
	let unit_fee = tokens(UNIT_FEE);
	let fixed_fee = tokens(FIXED_FEE);

	let prices = array(
		(0..GRID_POINTS.saturating_add(3))
			.chain([1_000, 1_000_000])
			.map(|index| object(&[("index", number(index)), ("price", fixed(grid.price(index)))])),
	);
	let probes = probe_prices(&grid);
	let locate = array(probes.iter().map(|price| {
		let GridPosition { lower, position } = grid.locate(*price);
		object(&[("price", fixed(*price)), ("lower", number(lower)), ("position", fixed(position))])
	}));

	let entered: Vec<GridOrder> =
		orders().into_iter().map(|order| GridOrder::new(order, unit_fee, &grid)).collect();
	let order_vectors = array(entered.iter().map(|order| {
		let mut indices: BTreeSet<usize> = INDICES.into_iter().collect();
		indices.extend([
			order.exit.saturating_sub(2),
			order.exit.saturating_sub(1),
			order.exit,
			order.exit.saturating_add(1),
		]);
		object(&[
			("curve", curve(&order.order.curve)),
			("budget", fixed(order.order.budget)),
			("fixed_fee", fixed(order.order.fixed_fee)),
			("unit_fee", fixed(order.unit_fee)),
			("exit", number(order.exit)),
			(
				"at",
				array(indices.into_iter().map(|index| {
					object(&[
						("index", number(index)),
						("units", fixed(order.units_at(&grid, index))),
						("payment", fixed(order.payment_at(&grid, index))),
					])
				})),
			),
		])
	}));

	let mut book = BookTotals::default();
	for order in &entered {
		book.add(order, &grid);
	}
	// Remove the first and the third order again, then merge and subtract.
	let mut removed = book.clone();
	for order in entered.iter().step_by(2).take(2) {
		removed.remove(order, &grid);
	}
	let mut merged = book.clone();
	merged.merge(&removed);
	let mut subtracted = merged.clone();
	subtracted.subtract(&book);

	let gridded = GriddedDemand { grid, totals: &book };
	let demand = array(probes.iter().map(|price| {
		let (below, above) = gridded.slopes_at(unit_fee, *price);
		object(&[
			("price", fixed(*price)),
			("demand", fixed(gridded.demand_at(unit_fee, *price))),
			("slope_below", fixed(below)),
			("slope_above", fixed(above)),
		])
	}));
	let empty = BookTotals::default();
	let gridded_empty = GriddedDemand { grid, totals: &empty };

	let mut clear_cases: Vec<(&str, FixedU128, FixedU128, FixedU128, FixedU128)> = vec![
		("full", tokens(10_000), tokens(300), unit_fee, fixed_fee),
		("full", tokens(50_000), tokens(1_000), unit_fee, fixed_fee),
		("full", tokens(500_000), tokens(20), unit_fee, fixed_fee),
		("full", tokens(30_000), tokens(2_710), unit_fee, fixed_fee),
		("full", tokens(5_000), FixedU128::zero(), unit_fee, fixed_fee),
		("full", inner(1), tokens(700), unit_fee, fixed_fee),
		("full", tokens(1_000_000), tokens(150_000), unit_fee, fixed_fee),
		("full", tokens(20_000), tokens(1_000), tokens(250), tokens(2_000)),
		("removed", tokens(20_000), tokens(1_500), unit_fee, fixed_fee),
		("empty", tokens(20_000), tokens(1_000), unit_fee, fixed_fee),
	];
	for index in [1usize, 300, 450, 511, 512] {
		clear_cases.push(("full", tokens(15_000), grid.price(index), unit_fee, fixed_fee));
	}
	let clears = array(clear_cases.into_iter().map(
		|(which, capacity, price, clear_unit_fee, clear_fixed_fee)| {
			let totals = match which {
				"removed" => &removed,
				"empty" => &empty,
				_ => &book,
			};
			let (clearing, owed) =
				clear(&grid, totals, clear_unit_fee, clear_fixed_fee, capacity, price);
			object(&[
				("book", text(which)),
				("capacity", fixed(capacity)),
				("price", fixed(price)),
				("unit_fee", fixed(clear_unit_fee)),
				("fixed_fee", fixed(clear_fixed_fee)),
				(
					"clearing",
					object(&[
						("price", fixed(clearing.price)),
						("lower", number(clearing.lower)),
						("lower_weight", fixed(clearing.lower_weight)),
						("upper_weight", fixed(clearing.upper_weight)),
					]),
				),
				(
					"totals",
					object(&[
						("demand", fixed(owed.demand)),
						("allocated", fixed(owed.allocated)),
						("to_payee", fixed(owed.to_payee)),
						("fees", fixed(owed.fees)),
						("participants", number(owed.participants)),
					]),
				),
				(
					"settle",
					array(entered.iter().map(|order| {
						let settled = clearing.settle(order, &grid);
						object(&[
							("allocation", fixed(settled.allocation)),
							("payment", fixed(settled.payment)),
						])
					})),
				),
			])
		},
	));

	// The price rules on the gridded book.
	let params = MarketParams {
		capacity,
		unit_fee,
		fixed_fee,
		step_rule: StepRule::DualAscent { eta: tokens(100) },
		price_floor: grid.price(0),
		price_ceiling: grid.price(GRID_POINTS.saturating_sub(1)),
		epoch_length: 1,
		tolerance: inner(1_000_000_000),
		payee: 0u64,
	};
	let market_book = [gridded];
	let target = clearing_price(&market_book, &params);
	let mut steps = Vec::new();
	for start in [FixedU128::zero(), tokens(1_000), params.price_ceiling] {
		let mut price = start;
		for _ in 0..12 {
			let step = next_price(&market_book, &params, price);
			steps.push(object(&[
				("start", fixed(price)),
				("price", fixed(step.price)),
				("aggregate_demand", fixed(step.aggregate_demand)),
				("excess_demand", signed(step.excess_demand)),
				("converged", number(step.converged)),
			]));
			price = step.price;
		}
	}
	let market = object(&[
		("capacity", fixed(params.capacity)),
		("unit_fee", fixed(params.unit_fee)),
		("fixed_fee", fixed(params.fixed_fee)),
		("eta", fixed(tokens(100))),
		("price_floor", fixed(params.price_floor)),
		("price_ceiling", fixed(params.price_ceiling)),
		("tolerance", fixed(params.tolerance)),
		("lipschitz_bound", fixed(lipschitz_bound(&market_book, unit_fee, params.price_floor))),
		("clearing_price", fixed(target)),
		("demand_at_clearing_price", fixed(aggregate_demand(&market_book, unit_fee, target))),
		("steps", array(steps)),
	]);

	object(&[
		("floor", fixed(floor)),
		("ceiling", fixed(ceiling)),
		("prices", prices),
		("locate", locate),
		("orders", order_vectors),
		("totals", totals(&book)),
		("removed", totals(&removed)),
		("merged", totals(&merged)),
		("subtracted", totals(&subtracted)),
		(
			"is_empty",
			object(&[("full", number(book.is_empty())), ("empty", number(empty.is_empty()))]),
		),
		("demand", demand),
		("exit_price", optional(gridded.exit_price(unit_fee))),
		("exit_price_empty", optional(gridded_empty.exit_price(unit_fee))),
		("steepest_slope", fixed(gridded.steepest_slope_from(unit_fee, floor))),
		("steepest_slope_empty", fixed(gridded_empty.steepest_slope_from(unit_fee, floor))),
		("clear", clears),
		("market", market),
	])
}

fn interpolate_vectors() -> String {
	let values = [
		FixedU128::zero(),
		inner(1),
		inner(7),
		tokens(1_000),
		tokens(3_333),
		tokens(12_345_678),
		FixedU128::from_inner(u128::MAX),
	];
	let positions = [
		FixedU128::zero(),
		inner(1),
		tokens(333),
		tokens(500),
		inner(999_999_999_999_999_999),
		tokens(1_000),
		tokens(1_500),
	];
	let mut cases = Vec::new();
	for lower in values {
		for upper in values {
			for position in positions {
				for rounding in [Rounding::Down, Rounding::Up] {
					cases.push(object(&[
						("lower", fixed(lower)),
						("upper", fixed(upper)),
						("position", fixed(position)),
						("rounding", text(rounding_name(rounding))),
						("result", fixed(interpolate(lower, upper, position, rounding))),
					]));
				}
			}
		}
	}
	array(cases)
}

fn main() {
	let grids = array([
		grid_vectors(FixedU128::zero(), tokens(100_000), tokens(50_000)),
		grid_vectors(tokens(500), tokens(100_500), tokens(50_000)),
		grid_vectors(tokens(2_000), tokens(2_000), tokens(20_000)),
		// A ceiling below the floor is taken as the floor.
		grid_vectors(tokens(3_000), tokens(1_000), tokens(20_000)),
		// A span too small to separate the grid points.
		grid_vectors(tokens(1_000), tokens(1_000).saturating_add(inner(1_000)), tokens(20_000)),
	]);
	let document = object(&[
		(
			"constants",
			object(&[
				("grid_points", number(GRID_POINTS)),
				("points_per_doubling", number(POINTS_PER_DOUBLING)),
			]),
		),
		("interpolate", interpolate_vectors()),
		("grids", grids),
	]);
	println!("{document}");
}
