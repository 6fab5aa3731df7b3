//! Inputs made on purpose: the seed corpus (one input per call of the runtime's metadata, and
//! scripted sequences through each contract) and seeded random inputs of plausible calls, for
//! the deterministic replay test and as the starting corpus of a coverage-guided campaign.

// Small test values (indices, amounts in whole tokens): no arithmetic here can overflow.
#![allow(clippy::arithmetic_side_effects)]

use crate::{ACCOUNTS, MARKET_ADMIN, ROOT};
use codec::Encode;
use equilibrium_runtime::{
	configs::{AssetKind, STABLE_ASSET_ID, STABLE_DECIMALS, STABLE_UNIT},
	genesis_config_presets::demo_market,
	Runtime, RuntimeCall, UNIT,
};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use pallet_contract_equilibrium::{DemandCurve, FixedU128};
use pallet_intermediated_trade::{
	ClientSchedule, DemandSchedule, Report, SupplySchedule, Terms, COMMITMENT_DOMAIN,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scale_info::TypeDef;
use sp_core::H256;
use sp_runtime::{MultiAddress, Perbill};

/// One operation: finish `lapse` blocks (see [`crate::lapse_blocks`]), then send `call` from
/// `origin`.
pub fn op(lapse: u8, origin: u8, call: RuntimeCall) -> Vec<u8> {
	let mut bytes = vec![lapse, origin];
	call.encode_to(&mut bytes);
	bytes
}

/// For every call of every pallet in the runtime's metadata, an input that sends it signed by
/// Bob with every argument's bytes zero (what decodes from zeros: zero numbers, empty vectors,
/// the first variant). Named `call-<pallet>-<call>`.
pub fn per_call_seeds() -> Vec<(String, Vec<u8>)> {
	// Some metadata (constants) reads storage: build it on the genesis state.
	let prefixed: RuntimeMetadataPrefixed =
		sp_io::TestExternalities::new(crate::genesis().clone()).execute_with(Runtime::metadata);
	let RuntimeMetadata::V14(metadata) = prefixed.1 else {
		panic!("the runtime's default metadata is version 14");
	};
	let mut seeds = Vec::new();
	for pallet in &metadata.pallets {
		let Some(calls) = &pallet.calls else { continue };
		let ty = metadata.types.resolve(calls.ty.id).expect("the call type is registered");
		let TypeDef::Variant(variants) = &ty.type_def else { continue };
		for variant in &variants.variants {
			let mut bytes = vec![1u8, 1u8, pallet.index, variant.index];
			bytes.extend_from_slice(&[0u8; 96]);
			seeds.push((format!("call-{}-{}", pallet.name, variant.name), bytes));
		}
	}
	seeds
}

fn account(index: usize) -> sp_runtime::AccountId32 {
	ACCOUNTS[index % ACCOUNTS.len()].to_account_id()
}

fn oracle(call: pallet_oracle::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Oracle(call)
}

/// Governance's oracle for the native token: `feeders` feed, `min_feeds` fresh feeds of the
/// last `max_age` blocks count, `percent` a block at most.
fn native_oracle(feeders: &[usize], min_feeds: u32, max_age: u32, percent: u32) -> RuntimeCall {
	asset_oracle(AssetKind::Native, feeders, min_feeds, max_age, percent)
}

/// [`native_oracle`] for any asset.
fn asset_oracle(
	asset: AssetKind,
	feeders: &[usize],
	min_feeds: u32,
	max_age: u32,
	percent: u32,
) -> RuntimeCall {
	let list: Vec<_> = feeders.iter().map(|index| account(*index)).collect();
	oracle(pallet_oracle::Call::set_oracle {
		asset,
		feeders: list.try_into().unwrap_or_default(),
		min_feeds,
		max_age,
		max_change_per_block: Perbill::from_percent(percent),
	})
}

fn feed(asset: AssetKind, price: FixedU128) -> RuntimeCall {
	oracle(pallet_oracle::Call::feed { asset, price })
}

fn lending(call: pallet_liquidity_market::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::LiquidityMarket(call)
}

/// A lending market of the stable asset against the native token: an adaptive rate (target
/// 90 %), 10 % reserves, collateral factor 75 %, threshold 80 %, bonus 5 %, no caps.
fn lending_market() -> pallet_liquidity_market::MarketParams<AssetKind> {
	use pallet_liquidity_market::{AdaptiveRate, RateModel, RiskParams};
	let rate = |parts: u128| FixedU128::from_inner(parts);
	pallet_liquidity_market::MarketParams {
		loan_asset: AssetKind::WithId(STABLE_ASSET_ID),
		loan_decimals: STABLE_DECIMALS,
		collateral_asset: AssetKind::Native,
		collateral_decimals: 12,
		rate_model: RateModel::Adaptive(AdaptiveRate {
			target_utilization: FixedU128::from_rational(9, 10),
			step_size: rate(10_000_000_000),
			steepness: FixedU128::from_u32(4),
			min_rate_at_target: rate(1_000_000_000),
			max_rate_at_target: rate(100_000_000_000_000),
			initial_rate_at_target: rate(100_000_000_000),
		}),
		reserve_factor: Perbill::from_percent(10),
		risk: RiskParams {
			collateral_factor: Perbill::from_percent(75),
			liquidation_threshold: Perbill::from_percent(80),
			liquidation_bonus: Perbill::from_percent(5),
			close_factor: Perbill::from_percent(50),
			full_close_health: FixedU128::from_rational(95, 100),
			dust_value: FixedU128::from_u32(1),
		},
		supply_cap: u128::MAX,
		borrow_cap: u128::MAX,
	}
}

fn market(call: pallet_contract_equilibrium::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::ContractEquilibrium(call)
}

fn trade(call: pallet_intermediated_trade::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::IntermediatedTrade(call)
}

/// The worked example's reports: RM's demand `10 − r`, MM's supply `r`.
fn reports() -> (Report, Report) {
	let int = FixedU128::from_u32;
	(
		Report {
			schedule: ClientSchedule::Demand(DemandSchedule { choke_rate: int(10), slope: int(1) }),
			hurdle: int(0),
		},
		Report {
			schedule: ClientSchedule::Supply(SupplySchedule {
				reservation_rate: int(0),
				slope: int(1),
			}),
			hurdle: int(0),
		},
	)
}

/// A commitment as the pallet computes it on the fuzzer's chain, whose genesis hash (the
/// parent of block 1) is zero.
fn commitment(round: u32, dealer: usize, report: &Report, salt: &[u8; 32]) -> [u8; 32] {
	sp_io::hashing::blake2_256(
		&(COMMITMENT_DOMAIN, H256::zero(), round, account(dealer), report, salt).encode(),
	)
}

/// Scripted sequences through each contract, named `script-…`.
pub fn scripted_seeds() -> Vec<(String, Vec<u8>)> {
	use pallet_contract_equilibrium::Call as M;
	use pallet_intermediated_trade::Call as I;
	let mut seeds = Vec::new();

	// A market's life: Bob and Charlie bid, Dave reports, the epoch settles, bids are settled
	// and withdrawn; governance changes the capacity, opens a second market and closes it.
	let mut life = Vec::new();
	let curve = DemandCurve::LogUtility {
		alpha: FixedU128::from_u32(50),
		beta: FixedU128::from_rational(1, 2),
	};
	life.extend(op(
		1,
		1,
		market(M::submit_demand { market: 0, curve, budget: 20 * UNIT, epochs: 3 }),
	));
	life.extend(op(
		0,
		2,
		market(M::submit_demand {
			market: 0,
			curve: DemandCurve::Quantity { x: FixedU128::from_u32(4) },
			budget: 10 * UNIT,
			epochs: 2,
		}),
	));
	life.extend(op(
		1,
		3,
		market(M::report_demand {
			market: 0,
			quantity: FixedU128::from_u32(3),
			price: FixedU128::from_rational(1, 2),
		}),
	));
	life.extend(op(250, 4, market(M::settle_bid { market: 0, who: account(1) })));
	life.extend(op(0, 1, market(M::withdraw_demand { market: 0 })));
	let mut params = demo_market();
	params.capacity = FixedU128::from_u32(5);
	life.extend(op(
		1,
		MARKET_ADMIN,
		market(M::set_market_params { market: 0, params: params.clone() }),
	));
	life.extend(op(1, ROOT, market(M::create_market { params })));
	life.extend(op(
		250,
		2,
		market(M::submit_demand { market: 1, curve, budget: 5 * UNIT, epochs: 1 }),
	));
	life.extend(op(2, ROOT, market(M::close_market { market: 1 })));
	life.extend(op(3, 5, market(M::settle_bid { market: 1, who: account(2) })));
	life.extend(op(251, 0, RuntimeCall::System(frame_system::Call::remark { remark: vec![] })));
	seeds.push(("script-market-life".into(), life));

	// An intermediated-trade round on the public path and one on the private path, a dispute
	// and a round that times out.
	let (rm_report, mm_report) = reports();
	let (salt_rm, salt_mm) = ([1u8; 32], [2u8; 32]);
	let terms = Terms {
		quantity: FixedU128::from_rational(5, 2),
		mm_rate: FixedU128::from_rational(5, 2),
		rm_rate: FixedU128::from_rational(15, 2),
		bd_rate: FixedU128::from_u32(5),
	};
	let (bdrm, bdmm, rm, mm) = (1usize, 2usize, 3usize, 4usize);
	let round = |id: u32, private: bool, dispute: bool| {
		let mut bytes = Vec::new();
		bytes.extend(op(
			1,
			bdrm as u8,
			trade(I::open_round {
				mm_dealer: account(bdmm),
				rm: account(rm),
				mm: account(mm),
				stake_cap: 50 * UNIT,
			}),
		));
		bytes.extend(op(0, bdmm as u8, trade(I::join_round { round: id })));
		let c_rm = commitment(id, bdrm, &rm_report, &salt_rm);
		let c_mm = commitment(id, bdmm, &mm_report, &salt_mm);
		bytes.extend(op(0, bdrm as u8, trade(I::commit { round: id, commitment: c_rm })));
		bytes.extend(op(0, bdmm as u8, trade(I::commit { round: id, commitment: c_mm })));
		bytes.extend(op(0, rm as u8, trade(I::consent { round: id, commitment: c_rm })));
		bytes.extend(op(1, mm as u8, trade(I::consent { round: id, commitment: c_mm })));
		if private {
			bytes.extend(op(0, bdrm as u8, trade(I::agree { round: id, terms })));
			bytes.extend(op(0, bdmm as u8, trade(I::agree { round: id, terms })));
			if dispute {
				bytes.extend(op(1, rm as u8, trade(I::dispute { round: id })));
				bytes.extend(op(
					0,
					bdrm as u8,
					trade(I::reveal { round: id, report: rm_report, salt: salt_rm }),
				));
				bytes.extend(op(
					0,
					bdmm as u8,
					trade(I::reveal { round: id, report: mm_report, salt: salt_mm }),
				));
				return bytes;
			}
		} else {
			bytes.extend(op(
				0,
				bdrm as u8,
				trade(I::reveal { round: id, report: rm_report, salt: salt_rm }),
			));
			bytes.extend(op(
				1,
				bdmm as u8,
				trade(I::reveal { round: id, report: mm_report, salt: salt_mm }),
			));
		}
		let legs =
			[(bdmm, mm, terms.mm_rate), (bdrm, rm, terms.rm_rate), (bdrm, bdmm, terms.bd_rate)];
		for (offerer, acceptor, rate) in legs {
			bytes.extend(op(
				1,
				offerer as u8,
				trade(I::offer { round: id, quantity: terms.quantity, rate }),
			));
			bytes.extend(op(
				0,
				acceptor as u8,
				trade(I::accept { round: id, quantity: terms.quantity, rate }),
			));
		}
		bytes
	};
	seeds.push(("script-trade-public".into(), round(0, false, false)));
	seeds.push(("script-trade-private".into(), round(0, true, false)));
	seeds.push(("script-trade-dispute".into(), round(0, true, true)));
	let mut timeout = round(0, false, false);
	timeout.truncate(timeout.len() / 2);
	timeout.extend(op(255, 0, RuntimeCall::System(frame_system::Call::remark { remark: vec![] })));
	seeds.push(("script-trade-timeout".into(), timeout));

	// A referendum on the market_admin track: submitted, its decision deposit placed, voted.
	let mut referendum = Vec::new();
	// (An inline proposal holds at most 128 bytes: closing a market fits, new parameters do
	// not.)
	let proposal = market(M::close_market { market: 1 });
	let origin: equilibrium_runtime::OriginCaller =
		equilibrium_runtime::governance::origins::Origin::MarketAdmin.into();
	referendum.extend(op(
		1,
		1,
		RuntimeCall::Referenda(pallet_referenda::Call::submit {
			proposal_origin: Box::new(origin),
			proposal: frame_support::traits::Bounded::Inline(
				proposal.encode().try_into().expect("a short call"),
			),
			enactment_moment: frame_support::traits::schedule::DispatchTime::After(1),
		}),
	));
	referendum.extend(op(
		1,
		2,
		RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit { index: 0 }),
	));
	for voter in 0..4u8 {
		referendum.extend(op(
			0,
			voter,
			RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
				poll_index: 0,
				vote: pallet_conviction_voting::AccountVote::Standard {
					vote: pallet_conviction_voting::Vote {
						aye: true,
						conviction: pallet_conviction_voting::Conviction::Locked1x,
					},
					balance: 1_000 * UNIT,
				},
			}),
		));
	}
	referendum.extend(op(
		255,
		0,
		RuntimeCall::System(frame_system::Call::remark { remark: vec![] }),
	));
	seeds.push(("script-referendum".into(), referendum));

	// Transfers, including one that would reap an account.
	let mut transfers = Vec::new();
	transfers.extend(op(
		0,
		0,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: MultiAddress::Id(account(5)),
			value: 10 * UNIT,
		}),
	));
	transfers.extend(op(
		1,
		5,
		RuntimeCall::Balances(pallet_balances::Call::transfer_all {
			dest: MultiAddress::Id(account(0)),
			keep_alive: false,
		}),
	));
	seeds.push(("script-transfers".into(), transfers));

	// The oracle: governance names three feeders, two feed, the price crashes and is followed
	// at the bounded pace, the feeders fall silent and the price goes stale, a liar, removal.
	let price = FixedU128::from_u32;
	let mut prices = Vec::new();
	prices.extend(op(1, MARKET_ADMIN, native_oracle(&[0, 1, 2], 2, 10, 10)));
	prices.extend(op(1, 0, feed(AssetKind::Native, price(100))));
	prices.extend(op(0, 1, feed(AssetKind::Native, price(100))));
	for _ in 0..3 {
		prices.extend(op(1, 0, feed(AssetKind::Native, price(40))));
		prices.extend(op(0, 1, feed(AssetKind::Native, price(40))));
	}
	prices.extend(op(2, 2, feed(AssetKind::Native, price(1_000_000))));
	prices.extend(op(250, 2, feed(AssetKind::Native, price(41))));
	prices.extend(op(1, 3, feed(AssetKind::Native, price(41))));
	prices.extend(op(
		1,
		ROOT,
		oracle(pallet_oracle::Call::remove_oracle { asset: AssetKind::Native }),
	));
	seeds.push(("script-oracle".into(), prices));

	// Lending: oracles for both assets, a market, Alice lends, Bob borrows against EQ, EQ
	// crashes from 2 to 0.8 at the oracle's pace, the chain liquidates Bob by itself, Charlie
	// buys the seized collateral, governance lowers the threshold and pauses.
	use pallet_liquidity_market::Call as L;
	let stable = AssetKind::WithId(STABLE_ASSET_ID);
	let mut loans = Vec::new();
	loans.extend(op(1, MARKET_ADMIN, native_oracle(&[0, 1, 2], 2, 10, 10)));
	loans.extend(op(0, MARKET_ADMIN, asset_oracle(stable.clone(), &[0, 1, 2], 2, 10, 10)));
	for feeder in 0..2 {
		loans.extend(op(0, feeder, feed(AssetKind::Native, price(2))));
		loans.extend(op(0, feeder, feed(stable.clone(), price(1))));
	}
	loans.extend(op(1, MARKET_ADMIN, lending(L::create_market { params: lending_market() })));
	loans.extend(op(0, 0, lending(L::supply { market: 0, amount: 100_000 * STABLE_UNIT })));
	loans.extend(op(0, 1, lending(L::deposit_collateral { market: 0, amount: 10_000 * UNIT })));
	loans.extend(op(0, 1, lending(L::borrow { market: 0, amount: 14_000 * STABLE_UNIT })));
	for _ in 0..14 {
		for feeder in 0..2 {
			loans.extend(op(0, feeder, feed(AssetKind::Native, FixedU128::from_rational(4, 5))));
			loans.extend(op(0, feeder, feed(stable.clone(), price(1))));
		}
		loans.extend(op(
			1,
			3,
			lending(L::liquidate { market: 0, borrower: account(1), max_repay: 100 * STABLE_UNIT }),
		));
	}
	loans.extend(op(
		1,
		2,
		lending(L::buy_collateral { market: 0, amount: 5_000 * UNIT, max_payment: u128::MAX }),
	));
	let mut lower = lending_market().risk;
	lower.collateral_factor = Perbill::from_percent(60);
	lower.liquidation_threshold = Perbill::from_percent(65);
	loans.extend(op(
		1,
		ROOT,
		lending(L::tune_market {
			market: 0,
			tuning: pallet_liquidity_market::MarketTuning {
				risk: Some(lower),
				pause: Some(pallet_liquidity_market::PauseFlags {
					supply: true,
					borrow: true,
					liquidation: false,
				}),
				..Default::default()
			},
		}),
	));
	loans.extend(op(1, 0, lending(L::withdraw { market: 0, shares: 1_000_000 })));
	seeds.push(("script-lending".into(), loans));
	seeds
}

/// A random input of plausible calls (and some noise) from `seed`: the contracts' calls with
/// small random arguments, transfers, votes, admin calls with random parameters.
pub fn random_input(seed: u64) -> Vec<u8> {
	use pallet_contract_equilibrium::Call as M;
	use pallet_intermediated_trade::Call as I;
	let mut rng = ChaCha8Rng::seed_from_u64(seed);
	let mut bytes = Vec::new();
	let (rm_report, mm_report) = reports();
	let ops = rng.gen_range(1..40);
	for _ in 0..ops {
		let lapse = if rng.gen_bool(0.05) { rng.gen_range(250..=255) } else { rng.gen_range(0..4) };
		let signer = rng.gen_range(0..6u8);
		let who = usize::from(rng.gen_range(0..6u8));
		let fixed = |rng: &mut ChaCha8Rng| {
			FixedU128::from_inner(rng.gen_range(0..u128::from(u64::MAX)) * rng.gen_range(0..3_000))
		};
		let round = rng.gen_range(0..3u32);
		let call = match rng.gen_range(0..27) {
			0 => market(M::submit_demand {
				market: rng.gen_range(0..2),
				curve: match rng.gen_range(0..3) {
					0 => DemandCurve::LogUtility { alpha: fixed(&mut rng), beta: fixed(&mut rng) },
					1 => DemandCurve::Quantity { x: fixed(&mut rng) },
					_ => DemandCurve::Linear {
						quantity: fixed(&mut rng),
						price: fixed(&mut rng),
						slope: fixed(&mut rng),
					},
				},
				budget: rng.gen_range(0..100) * UNIT,
				epochs: rng.gen_range(0..5),
			}),
			1 => market(M::withdraw_demand { market: rng.gen_range(0..2) }),
			2 => market(M::report_demand {
				market: 0,
				quantity: fixed(&mut rng),
				price: fixed(&mut rng),
			}),
			3 => market(M::settle_bid { market: rng.gen_range(0..2), who: account(who) }),
			4 => {
				let mut params = demo_market();
				params.capacity = fixed(&mut rng);
				params.epoch_length = rng.gen_range(0..30);
				let call = if rng.gen_bool(0.5) {
					M::set_market_params { market: rng.gen_range(0..2), params }
				} else {
					M::create_market { params }
				};
				bytes.extend(op(
					lapse,
					if rng.gen_bool(0.5) { ROOT } else { MARKET_ADMIN },
					market(call),
				));
				continue;
			},
			5 => {
				bytes.extend(op(
					lapse,
					ROOT,
					market(M::close_market { market: rng.gen_range(0..3) }),
				));
				continue;
			},
			6 => trade(I::open_round {
				mm_dealer: account(who),
				rm: account(who + 1),
				mm: account(who + 2),
				stake_cap: rng.gen_range(0..100) * UNIT,
			}),
			7 => trade(I::join_round { round }),
			8 => trade(I::commit {
				round,
				commitment: commitment(
					round,
					usize::from(signer),
					if rng.gen_bool(0.5) { &rm_report } else { &mm_report },
					&[u8::from(rng.gen_bool(0.5)); 32],
				),
			}),
			9 => trade(I::consent {
				round,
				commitment: commitment(round, who, &rm_report, &[0; 32]),
			}),
			10 => trade(I::reveal {
				round,
				report: if rng.gen_bool(0.5) { rm_report } else { mm_report },
				salt: [u8::from(rng.gen_bool(0.5)); 32],
			}),
			11 => {
				let terms = Terms {
					quantity: fixed(&mut rng),
					mm_rate: fixed(&mut rng),
					rm_rate: fixed(&mut rng),
					bd_rate: fixed(&mut rng),
				};
				if rng.gen_bool(0.5) {
					trade(I::offer { round, quantity: terms.quantity, rate: terms.rm_rate })
				} else {
					trade(I::accept { round, quantity: terms.quantity, rate: terms.mm_rate })
				}
			},
			12 => trade(I::agree {
				round,
				terms: Terms {
					quantity: FixedU128::from_rational(5, 2),
					mm_rate: FixedU128::from_rational(5, 2),
					rm_rate: FixedU128::from_rational(15, 2),
					bd_rate: FixedU128::from_u32(5),
				},
			}),
			13 => trade(I::dispute { round }),
			14 => RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: MultiAddress::Id(account(who)),
				value: rng.gen_range(0..1_000) * UNIT,
			}),
			15 => RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::delegate {
				class: rng.gen_range(0..3),
				to: MultiAddress::Id(account(who)),
				conviction: pallet_conviction_voting::Conviction::None,
				balance: rng.gen_range(0..10_000) * UNIT,
			}),
			16 => RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::undelegate {
				class: rng.gen_range(0..3),
			}),
			17 => RuntimeCall::System(frame_system::Call::remark { remark: vec![0; 8] }),
			18 => {
				let call = if rng.gen_bool(0.8) {
					let count = rng.gen_range(0..5);
					let feeders: Vec<usize> = (0..count).map(|_| rng.gen_range(0..6)).collect();
					asset_oracle(
						if rng.gen_bool(0.7) {
							AssetKind::Native
						} else {
							AssetKind::WithId(STABLE_ASSET_ID)
						},
						&feeders,
						rng.gen_range(0..4),
						rng.gen_range(0..20),
						rng.gen_range(0..=100),
					)
				} else {
					oracle(pallet_oracle::Call::remove_oracle { asset: AssetKind::Native })
				};
				bytes.extend(op(lapse, if rng.gen_bool(0.5) { ROOT } else { MARKET_ADMIN }, call));
				continue;
			},
			20 => RuntimeCall::Assets(pallet_assets::Call::transfer_keep_alive {
				id: codec::Compact(if rng.gen_bool(0.9) { STABLE_ASSET_ID } else { 0 }),
				target: MultiAddress::Id(account(who)),
				amount: rng.gen_range(0..1_000_000) * STABLE_UNIT,
			}),
			19 => feed(
				if rng.gen_bool(0.8) {
					AssetKind::Native
				} else {
					AssetKind::WithId(rng.gen_range(0..2))
				},
				fixed(&mut rng),
			),
			22 => {
				let call = if rng.gen_bool(0.5) {
					lending(pallet_liquidity_market::Call::create_market {
						params: lending_market(),
					})
				} else {
					let mut risk = lending_market().risk;
					risk.liquidation_threshold = Perbill::from_percent(rng.gen_range(50..99));
					risk.collateral_factor = Perbill::from_percent(rng.gen_range(40..95));
					lending(pallet_liquidity_market::Call::tune_market {
						market: rng.gen_range(0..2),
						tuning: pallet_liquidity_market::MarketTuning {
							risk: rng.gen_bool(0.5).then_some(risk),
							pause: rng.gen_bool(0.3).then(|| pallet_liquidity_market::PauseFlags {
								supply: rng.gen_bool(0.5),
								borrow: rng.gen_bool(0.5),
								liquidation: rng.gen_bool(0.5),
							}),
							supply_cap: rng
								.gen_bool(0.2)
								.then(|| rng.gen_range(0..1_000_000) * STABLE_UNIT),
							..Default::default()
						},
					})
				};
				bytes.extend(op(lapse, if rng.gen_bool(0.5) { ROOT } else { MARKET_ADMIN }, call));
				continue;
			},
			23 => lending(if rng.gen_bool(0.6) {
				pallet_liquidity_market::Call::supply {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..100_000) * STABLE_UNIT,
				}
			} else {
				pallet_liquidity_market::Call::withdraw {
					market: rng.gen_range(0..2),
					shares: rng.gen_range(0..100_000) * STABLE_UNIT * 1_000_000,
				}
			}),
			24 => lending(if rng.gen_bool(0.6) {
				pallet_liquidity_market::Call::deposit_collateral {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..10_000) * UNIT,
				}
			} else {
				pallet_liquidity_market::Call::withdraw_collateral {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..10_000) * UNIT,
				}
			}),
			25 => lending(if rng.gen_bool(0.6) {
				pallet_liquidity_market::Call::borrow {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..20_000) * STABLE_UNIT,
				}
			} else {
				pallet_liquidity_market::Call::repay {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..20_000) * STABLE_UNIT,
				}
			}),
			26 => lending(if rng.gen_bool(0.6) {
				pallet_liquidity_market::Call::liquidate {
					market: rng.gen_range(0..2),
					borrower: account(who),
					max_repay: rng.gen_range(0..20_000) * STABLE_UNIT,
				}
			} else {
				pallet_liquidity_market::Call::buy_collateral {
					market: rng.gen_range(0..2),
					amount: rng.gen_range(0..10_000) * UNIT,
					max_payment: u128::MAX,
				}
			}),
			_ => {
				// Noise: random bytes that may or may not decode to a call.
				let mut noise = vec![lapse, signer];
				noise.extend((0..rng.gen_range(2..40)).map(|_| rng.gen::<u8>()));
				bytes.extend(noise);
				break;
			},
		};
		bytes.extend(op(lapse, signer, call));
	}
	bytes
}
