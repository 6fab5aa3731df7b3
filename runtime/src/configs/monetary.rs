//! The native token (`pallet-balances`) and transaction fees (`pallet-transaction-payment`).

use crate::{
	Balance, Balances, Runtime, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason,
	EXISTENTIAL_DEPOSIT,
};
use frame_support::{
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU8, VariantCountOf},
	weights::IdentityFee,
};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{traits::Bounded, FixedPointNumber, Perquintill};

/// The native token.
impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = frame_system::Pallet<Runtime>;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// The block fullness the fee multiplier steers towards.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast the multiplier reacts to fullness: with 0.000075 a full day of full blocks
	/// multiplies fees by about 2.3.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(75, 1_000_000);
	/// Fees never fall below a tenth of their base: the multiplier is never zero, so spam is
	/// never free.
	pub MinimumMultiplier: Multiplier = Multiplier::saturating_from_rational(1, 10u128);
	/// No upper bound on the multiplier.
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

/// The fee multiplier follows block fullness: it rises while blocks are fuller than the target
/// and falls, down to `MinimumMultiplier`, while they are emptier.
pub type SlowAdjustingFeeUpdate<R> = TargetedFeeAdjustment<
	R,
	TargetBlockFullness,
	AdjustmentVariable,
	MinimumMultiplier,
	MaximumMultiplier,
>;

/// Transaction fees: weight and length both cost one smallest token unit per unit; fees are
/// burned (the `()` handler drops the imbalance, which reduces total issuance).
impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::{dispatch::DispatchClass, weights::Weight};
	use sp_runtime::{
		traits::{Convert, One},
		BuildStorage,
	};

	fn with_block_fullness(normal_weight: Weight, test: impl FnOnce()) {
		let mut ext: sp_io::TestExternalities =
			frame_system::GenesisConfig::<Runtime>::default().build_storage().unwrap().into();
		ext.execute_with(|| {
			frame_system::Pallet::<Runtime>::register_extra_weight_unchecked(
				normal_weight,
				DispatchClass::Normal,
			);
			test();
		});
	}

	#[test]
	fn empty_blocks_lower_fees_to_the_floor_never_to_zero() {
		with_block_fullness(Weight::zero(), || {
			let mut multiplier = Multiplier::one();
			for _ in 0..200_000 {
				multiplier = SlowAdjustingFeeUpdate::<Runtime>::convert(multiplier);
			}
			assert_eq!(multiplier, MinimumMultiplier::get());
			assert!(multiplier > Multiplier::from_inner(0));
		});
	}

	#[test]
	fn full_blocks_raise_fees() {
		let max_normal = crate::configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.unwrap_or_default();
		with_block_fullness(max_normal, || {
			let next = SlowAdjustingFeeUpdate::<Runtime>::convert(Multiplier::one());
			assert!(next > Multiplier::one());
		});
	}
}
