//! The runtime's custom governance origins, and which set of referendum track timings applies.

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use frame_support::pallet_prelude::*;

	/// The origins pallet has no configuration of its own.
	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// An origin that only a passed referendum on its track produces.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// The market administrator: creates markets and sets their parameters
		/// (`ContractEquilibrium.create_market`, `ContractEquilibrium.set_market_params`).
		MarketAdmin,
	}

	/// How long referenda take: realistic periods for a live network, or periods of a few
	/// blocks so that a vote on a development chain completes in a couple of minutes.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		Default,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
		serde::Serialize,
		serde::Deserialize,
	)]
	pub enum TrackTimings {
		/// Hours to days per referendum (see `docs/governance.md`).
		#[default]
		Production,
		/// A few blocks per referendum.
		Development,
	}

	/// The track timings of this chain, fixed at genesis.
	#[pallet::storage]
	pub type ActiveTrackTimings<T> = StorageValue<_, TrackTimings, ValueQuery>;

	/// The track timings a chain starts with.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Which timings the referendum tracks use.
		pub track_timings: TrackTimings,
		#[serde(skip)]
		#[doc(hidden)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			ActiveTrackTimings::<T>::put(self.track_timings);
		}
	}

	/// Ensures the origin is [`Origin::MarketAdmin`], which only a referendum on the
	/// market-admin track dispatches with.
	pub struct EnsureMarketAdmin;

	impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for EnsureMarketAdmin
	where
		for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
	{
		type Success = ();

		fn try_origin(origin: O) -> Result<Self::Success, O> {
			let is_market_admin = matches!(origin.caller().try_into(), Ok(Origin::MarketAdmin));
			if is_market_admin {
				Ok(())
			} else {
				Err(origin)
			}
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::MarketAdmin))
		}
	}
}
