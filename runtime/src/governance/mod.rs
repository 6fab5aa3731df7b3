//! On-chain governance: token holders decide by referendum, with conviction voting.
//!
//! A proposal is a call stored as a preimage (`pallet-preimage`), submitted as a referendum on
//! the track of the origin it needs (`pallet-referenda`), voted on with locked tokens
//! (`pallet-conviction-voting`) and, once passed, dispatched by `pallet-scheduler`. The
//! `market_admin` track dispatches with [`origins::Origin::MarketAdmin`], the only origin other
//! than root that may create markets or change their parameters. `docs/governance.md` walks
//! through a vote.

pub mod origins;
pub mod tracks;

pub use origins::{EnsureMarketAdmin, TrackTimings};
pub use tracks::TracksInfo;
