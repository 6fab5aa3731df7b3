//! The clients' schedules, as their dealers report them, with validation and inverses.

use crate::fixed::{div, mul};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{CheckedAdd, Saturating, Zero},
	FixedU128, Rounding,
};

/// The largest accepted rate (or hurdle), in tokens per unit of cash: 10⁴.
pub const MAX_RATE: FixedU128 = FixedU128::from_u32(10_000);
/// The smallest accepted slope, in units of cash per unit of rate: 10⁻⁶.
pub const MIN_SLOPE: FixedU128 = FixedU128::from_inner(1_000_000_000_000);
/// The largest accepted slope, in units of cash per unit of rate: 10⁶.
///
/// With [`MAX_RATE`] these bounds keep every quantity below 5·10⁹ units and every interest
/// payment `r·Q` below 5·10¹³ tokens: far from overflow in `FixedU128` and in a `u128` balance
/// with 12 decimals.
pub const MAX_SLOPE: FixedU128 = FixedU128::from_u32(1_000_000);

/// MM's cash supply: `D(r) = slope · max(0, r − reservation_rate)`, increasing in the rate `r`
/// MM receives.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct SupplySchedule {
	/// The rate below which MM lends nothing, in tokens per unit (`≤ 10⁴`).
	pub reservation_rate: FixedU128,
	/// The cash MM adds per unit of rate above it (`10⁻⁶ ≤ slope ≤ 10⁶`).
	pub slope: FixedU128,
}

/// RM's cash demand: `S(r) = slope · max(0, choke_rate − r)`, decreasing in the rate `r` RM
/// pays.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct DemandSchedule {
	/// The rate at and above which RM borrows nothing, in tokens per unit (`≤ 10⁴`).
	pub choke_rate: FixedU128,
	/// The cash RM gives up per unit of rate (`10⁻⁶ ≤ slope ≤ 10⁶`).
	pub slope: FixedU128,
}

/// A client's schedule as its dealer reports it: BDmm reports MM's supply, BDrm RM's demand.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ClientSchedule {
	/// MM's cash supply `D(r)`, reported by BDmm.
	Supply(SupplySchedule),
	/// RM's cash demand `S(r)`, reported by BDrm.
	Demand(DemandSchedule),
}

/// What a dealer commits to and later reveals: its client's schedule and its own hurdle.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Report {
	/// The client's schedule.
	pub schedule: ClientSchedule,
	/// The least spread `r_rm − r_mm` the dealer trades at, in tokens per unit (`≤ 10⁴`).
	pub hurdle: FixedU128,
}

/// Why a schedule or report is not accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum ScheduleError {
	/// A slope is below [`MIN_SLOPE`] or above [`MAX_SLOPE`].
	SlopeOutOfRange,
	/// A rate is above [`MAX_RATE`].
	RateOutOfRange,
	/// The hurdle is above [`MAX_RATE`].
	HurdleOutOfRange,
}

fn check(rate: FixedU128, slope: FixedU128) -> Result<(), ScheduleError> {
	if slope < MIN_SLOPE || slope > MAX_SLOPE {
		return Err(ScheduleError::SlopeOutOfRange);
	}
	if rate > MAX_RATE {
		return Err(ScheduleError::RateOutOfRange);
	}
	Ok(())
}

impl SupplySchedule {
	/// Checks the parameters against the documented ranges; increasing by construction.
	pub fn validate(&self) -> Result<(), ScheduleError> {
		check(self.reservation_rate, self.slope)
	}

	/// `D(r)`, rounded down; `None` on overflow (impossible for validated schedules).
	pub fn supply_at(&self, rate: FixedU128) -> Option<FixedU128> {
		mul(self.slope, rate.saturating_sub(self.reservation_rate), Rounding::Down)
	}

	/// `D⁻¹(Q) = reservation_rate + Q/slope`: the rate at which MM lends `Q`, rounded up (MM
	/// gets at least its asking rate); `None` on overflow or a zero slope.
	pub fn inverse(&self, quantity: FixedU128) -> Option<FixedU128> {
		self.reservation_rate.checked_add(&div(quantity, self.slope, Rounding::Up)?)
	}
}

impl DemandSchedule {
	/// Checks the parameters against the documented ranges; decreasing by construction.
	pub fn validate(&self) -> Result<(), ScheduleError> {
		check(self.choke_rate, self.slope)
	}

	/// `S(r)`, rounded down; `None` on overflow (impossible for validated schedules).
	pub fn demand_at(&self, rate: FixedU128) -> Option<FixedU128> {
		mul(self.slope, self.choke_rate.saturating_sub(rate), Rounding::Down)
	}

	/// `S⁻¹(Q) = choke_rate − Q/slope`: the rate at which RM borrows `Q`, rounded down (RM pays
	/// at most its bid); zero beyond `S(0)`; `None` on overflow or a zero slope.
	pub fn inverse(&self, quantity: FixedU128) -> Option<FixedU128> {
		Some(self.choke_rate.saturating_sub(div(quantity, self.slope, Rounding::Up)?))
	}
}

impl ClientSchedule {
	/// Checks the schedule's parameters.
	pub fn validate(&self) -> Result<(), ScheduleError> {
		match self {
			Self::Supply(supply) => supply.validate(),
			Self::Demand(demand) => demand.validate(),
		}
	}
}

impl Report {
	/// Checks the schedule and the hurdle.
	pub fn validate(&self) -> Result<(), ScheduleError> {
		self.schedule.validate()?;
		if self.hurdle > MAX_RATE {
			return Err(ScheduleError::HurdleOutOfRange);
		}
		Ok(())
	}

	/// A report of MM's supply with no hurdle.
	pub fn supply(schedule: SupplySchedule) -> Self {
		Self { schedule: ClientSchedule::Supply(schedule), hurdle: FixedU128::zero() }
	}

	/// A report of RM's demand with no hurdle.
	pub fn demand(schedule: DemandSchedule) -> Self {
		Self { schedule: ClientSchedule::Demand(schedule), hurdle: FixedU128::zero() }
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{example, int, ratio};

	fn one() -> FixedU128 {
		FixedU128::from_u32(1)
	}

	#[test]
	fn the_example_schedules_evaluate_and_invert() {
		let (supply, demand) = example();
		assert_eq!(supply.supply_at(ratio(5, 2)), Some(ratio(5, 2)));
		assert_eq!(demand.demand_at(ratio(15, 2)), Some(ratio(5, 2)));
		assert_eq!(supply.inverse(ratio(5, 2)), Some(ratio(5, 2)));
		assert_eq!(demand.inverse(ratio(5, 2)), Some(ratio(15, 2)));
		// Below the reservation rate MM lends nothing; above the choke rate RM borrows nothing.
		let shifted = SupplySchedule { reservation_rate: int(2), slope: int(3) };
		assert_eq!(shifted.supply_at(int(1)), Some(int(0)));
		assert_eq!(shifted.supply_at(int(4)), Some(int(6)));
		assert_eq!(demand.demand_at(int(12)), Some(int(0)));
		assert_eq!(demand.inverse(int(20)), Some(int(0)));
	}

	#[test]
	fn validation_names_the_bad_parameter() {
		let (supply, demand) = example();
		assert_eq!(Report::supply(supply).validate(), Ok(()));
		assert_eq!(Report::demand(demand).validate(), Ok(()));
		let flat = SupplySchedule { slope: int(0), ..supply };
		assert_eq!(flat.validate(), Err(ScheduleError::SlopeOutOfRange));
		let steep = DemandSchedule { slope: MAX_SLOPE.saturating_add(one()), ..demand };
		assert_eq!(steep.validate(), Err(ScheduleError::SlopeOutOfRange));
		let high = DemandSchedule { choke_rate: MAX_RATE.saturating_add(one()), ..demand };
		assert_eq!(high.validate(), Err(ScheduleError::RateOutOfRange));
		let greedy = Report { hurdle: MAX_RATE.saturating_add(one()), ..Report::demand(demand) };
		assert_eq!(greedy.validate(), Err(ScheduleError::HurdleOutOfRange));
		assert_eq!(
			ClientSchedule::Supply(SupplySchedule { slope: MIN_SLOPE, reservation_rate: MAX_RATE })
				.validate(),
			Ok(())
		);
	}
}
