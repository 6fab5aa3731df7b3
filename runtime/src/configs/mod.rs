//! The `Config` of every pallet in the runtime, one file per concern.

mod consensus;
mod governance;
mod intermediated_trade;
mod liquidity;
mod market;
mod monetary;
mod system;

pub use consensus::*;
pub use governance::*;
pub use liquidity::{AssetKind, STABLE_ASSET_ID, STABLE_DECIMALS, STABLE_UNIT};
pub use monetary::*;
pub use system::*;
