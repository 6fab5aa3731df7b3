//! The referendum tracks: what each kind of proposal needs to pass, and how long it takes.
//!
//! Two tracks exist:
//! - `root` (id 0) dispatches with the root origin: runtime upgrades, sudo-free maintenance,
//!   treasury spends. One referendum is decided at a time.
//! - `market_admin` (id 1) dispatches with [`Origin::MarketAdmin`]: creating markets and setting
//!   their parameters. Up to ten are decided at once.
//!
//! Each has two sets of timings, chosen at genesis by [`TrackTimings`]: `Production`
//! (`local_testnet` and live networks) and `Development` (the `development` preset). The tables
//! in `docs/governance.md` list both.

use super::origins::{ActiveTrackTimings, Origin, TrackTimings};
use crate::{Balance, BlockNumber, OriginCaller, Runtime, DAYS, HOURS, MINUTES, UNIT};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::{str_array, FixedI64, Perbill};

/// The identifier of a track.
pub type TrackId = u16;

/// The track of proposals dispatched as root.
pub const ROOT_TRACK: TrackId = 0;
/// The track of proposals dispatched as the market administrator.
pub const MARKET_ADMIN_TRACK: TrackId = 1;

const fn percent(x: u128) -> FixedI64 {
	FixedI64::from_rational(x, 100)
}

/// Approval falls from 100 % to 50 % over the decision period (a reciprocal curve, as
/// Polkadot's root track), support from 50 % to 0 % linearly.
const PRODUCTION_ROOT_APPROVAL: Curve =
	Curve::make_reciprocal(4, 14, percent(80), percent(50), percent(100));
const PRODUCTION_ROOT_SUPPORT: Curve = Curve::make_linear(14, 14, percent(0), percent(50));
/// The market-admin track's curves follow Polkadot's general-admin track.
const PRODUCTION_MARKET_ADMIN_APPROVAL: Curve =
	Curve::make_reciprocal(4, 7, percent(80), percent(50), percent(100));
const PRODUCTION_MARKET_ADMIN_SUPPORT: Curve =
	Curve::make_reciprocal(5, 7, percent(10), percent(0), percent(50));

/// Development: a simple majority of the conviction-weighted vote, and aye votes of at least
/// 1 % of the issuance at the start of the decision period, falling linearly to 0.
const DEVELOPMENT_APPROVAL: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(50),
	ceil: Perbill::from_percent(100),
};
const DEVELOPMENT_SUPPORT: Curve = Curve::LinearDecreasing {
	length: Perbill::from_percent(100),
	floor: Perbill::from_percent(0),
	ceil: Perbill::from_percent(1),
};

/// A track's whole description.
type TrackOf = Track<TrackId, Balance, BlockNumber>;

/// The tracks of a live network: a proposal takes days.
pub const PRODUCTION_TRACKS: [TrackOf; 2] = [
	Track {
		id: ROOT_TRACK,
		info: TrackInfo {
			name: str_array("root"),
			max_deciding: 1,
			decision_deposit: 10_000 * UNIT,
			prepare_period: 2 * HOURS,
			decision_period: 14 * DAYS,
			confirm_period: DAYS,
			min_enactment_period: DAYS,
			min_approval: PRODUCTION_ROOT_APPROVAL,
			min_support: PRODUCTION_ROOT_SUPPORT,
		},
	},
	Track {
		id: MARKET_ADMIN_TRACK,
		info: TrackInfo {
			name: str_array("market_admin"),
			max_deciding: 10,
			decision_deposit: 1_000 * UNIT,
			prepare_period: 30 * MINUTES,
			decision_period: 7 * DAYS,
			confirm_period: 3 * HOURS,
			min_enactment_period: 10 * MINUTES,
			min_approval: PRODUCTION_MARKET_ADMIN_APPROVAL,
			min_support: PRODUCTION_MARKET_ADMIN_SUPPORT,
		},
	},
];

/// The tracks of a development chain: a proposal that passes is enacted about five blocks
/// after it was submitted; one that fails is rejected after 30 blocks (3 minutes of 6-second
/// blocks).
pub const DEVELOPMENT_TRACKS: [TrackOf; 2] = [
	Track {
		id: ROOT_TRACK,
		info: TrackInfo {
			name: str_array("root"),
			max_deciding: 1,
			decision_deposit: 100 * UNIT,
			prepare_period: 2,
			decision_period: 30,
			confirm_period: 2,
			min_enactment_period: 1,
			min_approval: DEVELOPMENT_APPROVAL,
			min_support: DEVELOPMENT_SUPPORT,
		},
	},
	Track {
		id: MARKET_ADMIN_TRACK,
		info: TrackInfo {
			name: str_array("market_admin"),
			max_deciding: 10,
			decision_deposit: 10 * UNIT,
			prepare_period: 2,
			decision_period: 30,
			confirm_period: 2,
			min_enactment_period: 1,
			min_approval: DEVELOPMENT_APPROVAL,
			min_support: DEVELOPMENT_SUPPORT,
		},
	},
];

/// The runtime's referendum tracks, with the timings chosen at genesis.
pub struct TracksInfo;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = TrackId;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, TrackOf>> {
		let tracks: &'static [TrackOf] = match ActiveTrackTimings::<Runtime>::get() {
			TrackTimings::Production => &PRODUCTION_TRACKS,
			TrackTimings::Development => &DEVELOPMENT_TRACKS,
		};
		tracks.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ROOT_TRACK),
			OriginCaller::Origins(Origin::MarketAdmin) => Ok(MARKET_ADMIN_TRACK),
			_ => Err(()),
		}
	}
}
