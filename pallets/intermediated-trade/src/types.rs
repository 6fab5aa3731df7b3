//! The pallet's stored and reported types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use intermediated_trade_primitives::{FixedU128, Report, Terms};
use scale_info::TypeInfo;
use sp_runtime::traits::Zero;

/// A round's identifier: rounds are numbered from zero in the order they were opened.
pub type RoundId = u32;

/// A 32-byte commitment: `blake2_256(SCALE((dealer, report, salt)))`.
pub type Commitment = [u8; 32];

/// The 32 random bytes a dealer mixes into its commitment so that its report cannot be guessed
/// from the hash. Use fresh ones for every round.
pub type Salt = [u8; 32];

/// Where a round stands: the step the protocol waits for, in order. Each step has a window of
/// blocks; the party it waits for must act by the round's deadline or deviates.
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
pub enum Phase {
	/// BDrm opened the round and committed; BDmm must join and commit.
	Joining,
	/// Both committed; both dealers must reveal.
	Revealing,
	/// The contract sent its instructions; BDmm must offer MM `r_mm` for `Q*`.
	MmOffer,
	/// MM must accept BDmm's offer.
	MmAcceptance,
	/// BDrm must offer RM `Q*` at `r_rm`.
	RmOffer,
	/// RM must accept BDrm's offer (its interest `r_rm·Q*` is then held).
	RmAcceptance,
	/// BDrm must offer BDmm the inter-dealer leg at `r_bd`.
	DealerOffer,
	/// BDmm must accept the inter-dealer leg; the round then settles.
	DealerAcceptance,
}

/// A participant's role in a round.
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
pub enum Role {
	/// BDrm, RM's broker-dealer.
	RmDealer,
	/// BDmm, MM's broker-dealer.
	MmDealer,
	/// RM, the repo borrower (it borrows cash against collateral and pays `r_rm`).
	Rm,
	/// MM, the money-market lender (it lends cash against collateral and receives `r_mm`).
	Mm,
}

/// Why a round ended without settling.
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
pub enum AbortReason {
	/// A party did not take its step by the deadline.
	MissedDeadline,
	/// A dealer revealed a report and salt that do not hash to its commitment.
	BadReveal,
	/// A dealer's revealed report matched its commitment but is invalid (out of range, or the
	/// wrong client's schedule).
	InvalidReport,
}

/// One trading round: its four participants, the dealers' commitments and reports, the
/// contract's terms and what is held.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Round<AccountId, Balance, BlockNumber> {
	/// BDrm: opened the round; reports RM's demand.
	pub rm_dealer: AccountId,
	/// BDmm: joins the round; reports MM's supply.
	pub mm_dealer: AccountId,
	/// RM, the repo borrower.
	pub rm: AccountId,
	/// MM, the money-market lender.
	pub mm: AccountId,
	/// The step the round waits for.
	pub phase: Phase,
	/// The last block in which that step may be taken.
	pub deadline: BlockNumber,
	/// Each dealer's contingent deposit, held from BDrm since it opened and from BDmm since it
	/// joined; forfeited on deviation.
	pub dealer_deposit: Balance,
	/// The storage deposit held from BDrm while the round exists.
	pub round_deposit: Balance,
	/// BDrm's commitment.
	pub rm_commitment: Commitment,
	/// BDmm's commitment, once it joined.
	pub mm_commitment: Option<Commitment>,
	/// BDrm's revealed report (RM's demand and BDrm's hurdle).
	pub rm_report: Option<Report>,
	/// BDmm's revealed report (MM's supply and BDmm's hurdle).
	pub mm_report: Option<Report>,
	/// The contract's terms, once both reports are revealed and a trade is possible.
	pub terms: Option<Terms>,
	/// RM's interest `r_rm·Q*`, held from RM since it accepted.
	pub interest_held: Balance,
}

impl<AccountId, Balance: Copy + Zero, BlockNumber> Round<AccountId, Balance, BlockNumber> {
	/// The account that plays `role`.
	pub fn account(&self, role: Role) -> &AccountId {
		match role {
			Role::RmDealer => &self.rm_dealer,
			Role::MmDealer => &self.mm_dealer,
			Role::Rm => &self.rm,
			Role::Mm => &self.mm,
		}
	}

	/// The deposit `role` holds for this round: each dealer's contingent deposit (BDmm's once
	/// it joined); nothing for a client.
	pub fn held_deposit(&self, role: Role) -> Balance {
		match role {
			Role::RmDealer => self.dealer_deposit,
			Role::MmDealer if self.phase != Phase::Joining => self.dealer_deposit,
			_ => Zero::zero(),
		}
	}
}

/// A repo leg of a settled round: the cash lender lends `quantity` units of cash (off-chain) to
/// the cash borrower against collateral, at `rate`.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct RepoLeg<AccountId, Balance> {
	/// Who lends cash and receives collateral (MM, then BDmm, then BDrm).
	pub cash_lender: AccountId,
	/// Who borrows cash and posts collateral (BDmm, then BDrm, then RM).
	pub cash_borrower: AccountId,
	/// `Q*`, in units of cash.
	pub quantity: FixedU128,
	/// The leg's rate, in tokens per unit of cash.
	pub rate: FixedU128,
	/// The leg's interest `rate·Q*`, in the token's smallest unit.
	pub interest: Balance,
}

/// What a settled round paid, in the token's smallest unit, out of RM's held interest.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Payments<Balance> {
	/// What RM paid: `r_rm·Q*`.
	pub rm_paid: Balance,
	/// What MM received: `r_mm·Q*`.
	pub mm_received: Balance,
	/// BDmm's profit: `(r_bd − r_mm)·Q*`.
	pub mm_dealer_received: Balance,
	/// BDrm's profit: `(r_rm − r_bd)·Q*` (and any rounding remainder).
	pub rm_dealer_received: Balance,
}
