//! The runtime API clients use to watch a market and to quote a bid before placing it.

use crate::types::{BidView, EquilibriumView, MarketId, MarketView, QuoteView};
use codec::Codec;
use contract_equilibrium_primitives::DemandCurve;

sp_api::decl_runtime_apis! {
	/// Read-only views of the contract-equilibrium markets.
	pub trait ContractEquilibriumApi<AccountId, BlockNumber, Balance>
	where
		AccountId: Codec,
		BlockNumber: Codec,
		Balance: Codec,
	{
		/// The market's parameters, posted price and number of bids; `None` if there is no
		/// such market.
		fn market(market: MarketId) -> Option<MarketView<AccountId, BlockNumber>>;

		/// The exact clearing price `μ*` of the market's current bids, `S(μ*)`, and how far the
		/// posted price is from it.
		fn equilibrium(market: MarketId) -> Option<EquilibriumView>;

		/// What `curve` would be allocated and pay at the market's posted price (before any
		/// rationing).
		fn quote(market: MarketId, curve: DemandCurve) -> Option<QuoteView<Balance>>;

		/// `who`'s bid in the market, and what settling it now would allocate and charge it.
		fn bid(market: MarketId, who: AccountId) -> Option<BidView<Balance>>;
	}
}
