//! The pallet's stored and reported types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use intermediated_trade_primitives::{FixedU128, Report, Terms};
use scale_info::TypeInfo;
use sp_runtime::traits::Zero;

/// A round's identifier: rounds are numbered from zero in the order they were opened.
pub type RoundId = u32;

/// A 32-byte commitment: `blake2_256(SCALE((COMMITMENT_DOMAIN, genesis_hash, round, dealer,
/// report, salt)))`, see [`crate::Pallet::commitment`].
pub type Commitment = [u8; 32];

/// The tag every commitment starts with, so that a commitment made for this contract cannot be
/// replayed as anything else (another pallet, another chain, another round: those are in the
/// preimage too).
pub const COMMITMENT_DOMAIN: [u8; 24] = *b"intermediated-trade/v1/c";

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
	/// BDrm opened the round; BDmm must join it (both dealers' deposits are then held).
	Joining,
	/// Both clients must consent to the round (each holding its deposit) and both dealers must
	/// commit to their reports, in any order.
	Committing,
	/// All four are bound; both dealers must reveal.
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
	/// A client disputed terms the dealers agreed off-chain: both dealers must reveal, and the
	/// contract checks the agreement against its own selection.
	Disputed,
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

impl Role {
	/// The four roles.
	pub const ALL: [Role; 4] = [Role::RmDealer, Role::MmDealer, Role::Rm, Role::Mm];

	/// Whether the role is on RM's side of the trade (RM and its dealer BDrm) rather than MM's.
	pub fn is_rm_side(self) -> bool {
		matches!(self, Role::RmDealer | Role::Rm)
	}

	/// Whether the role is a dealer.
	pub fn is_dealer(self) -> bool {
		matches!(self, Role::RmDealer | Role::MmDealer)
	}
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
	/// The runtime upgrade to storage version 1 cancelled the round (every hold released, no
	/// forfeit).
	RuntimeUpgrade,
	/// A dealer agreed off-chain to terms other than the contract's selection from the reports
	/// it and the other dealer committed to.
	FalseAgreement,
	/// A client disputed terms that were the contract's selection.
	FrivolousDispute,
}

/// What each participant holds as its deposit for a round (zero until it joins or consents).
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Deposits<Balance> {
	/// BDrm's, held since it opened the round.
	pub rm_dealer: Balance,
	/// BDmm's, held since it joined.
	pub mm_dealer: Balance,
	/// RM's, held since it consented.
	pub rm: Balance,
	/// MM's, held since it consented.
	pub mm: Balance,
}

impl<Balance: Copy> Deposits<Balance> {
	/// The deposit of `role`.
	pub fn get(&self, role: Role) -> Balance {
		match role {
			Role::RmDealer => self.rm_dealer,
			Role::MmDealer => self.mm_dealer,
			Role::Rm => self.rm,
			Role::Mm => self.mm,
		}
	}

	/// The deposit of `role`, to change.
	pub fn get_mut(&mut self, role: Role) -> &mut Balance {
		match role {
			Role::RmDealer => &mut self.rm_dealer,
			Role::MmDealer => &mut self.mm_dealer,
			Role::Rm => &mut self.rm,
			Role::Mm => &mut self.mm,
		}
	}
}

/// The interest of the three legs of a round's trade, in the token's smallest unit, fixed when
/// the contract selects the terms.
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
pub struct LegInterest<Balance> {
	/// `r_rm·Q*`: what RM pays (held from RM when it accepts).
	pub rm_leg: Balance,
	/// `r_bd·Q*`: the inter-dealer leg.
	pub bd_leg: Balance,
	/// `r_mm·Q*`: what MM receives.
	pub mm_leg: Balance,
}

/// One trading round: its four participants, their deposits, the dealers' commitments and
/// reports, the contract's terms and what is held.
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
	/// The count of congested blocks when the step's window began (or was last extended):
	/// every congested block since extends the window by one block.
	pub congestion_mark: u32,
	/// The blocks the current step's window has been extended by, at most the window itself.
	pub extended: u32,
	/// The most the round may put at stake, declared by BDrm: the trade is only selected if
	/// its stake ([`intermediated_trade_primitives::max_joint_profit`]) is at most this.
	pub stake_cap: Balance,
	/// What each participant holds as its deposit: `BaseDeposit + stake_cap` from joining
	/// or consenting, lowered to `BaseDeposit + stake` once the terms are selected.
	pub deposits: Deposits<Balance>,
	/// The storage deposit held from BDrm while the round exists.
	pub round_deposit: Balance,
	/// BDrm's commitment, once made.
	pub rm_commitment: Option<Commitment>,
	/// BDmm's commitment, once made.
	pub mm_commitment: Option<Commitment>,
	/// BDrm's revealed report (RM's demand and BDrm's hurdle).
	pub rm_report: Option<Report>,
	/// BDmm's revealed report (MM's supply and BDmm's hurdle).
	pub mm_report: Option<Report>,
	/// The terms BDrm agreed to off-chain (the private path), if it did.
	pub rm_agreed: Option<Terms>,
	/// The terms BDmm agreed to off-chain, if it did.
	pub mm_agreed: Option<Terms>,
	/// The client that disputed the agreed terms, in [`Phase::Disputed`].
	pub disputed_by: Option<Role>,
	/// The contract's terms: selected from the revealed reports, or agreed by both dealers.
	pub terms: Option<Terms>,
	/// The legs' interest in the token's smallest unit, fixed with the terms.
	pub interest: Option<LegInterest<Balance>>,
	/// RM's interest `r_rm·Q*`, held from RM since it accepted.
	pub interest_held: Balance,
}

impl<AccountId: PartialEq, Balance: Copy + Zero, BlockNumber>
	Round<AccountId, Balance, BlockNumber>
{
	/// The account that plays `role`.
	pub fn account(&self, role: Role) -> &AccountId {
		match role {
			Role::RmDealer => &self.rm_dealer,
			Role::MmDealer => &self.mm_dealer,
			Role::Rm => &self.rm,
			Role::Mm => &self.mm,
		}
	}

	/// The role `who` plays in the round, if any.
	pub fn role_of(&self, who: &AccountId) -> Option<Role> {
		Role::ALL.into_iter().find(|role| self.account(*role) == who)
	}

	/// Whether the terms were agreed off-chain by both dealers (no report on chain).
	pub fn is_private(&self) -> bool {
		self.terms.is_some() && self.rm_report.is_none() && self.mm_report.is_none()
	}

	/// Whether the round's terms must come from revealed reports: a report is already public,
	/// or the dealers' agreements differ, or a client disputed the agreement.
	pub fn needs_reveals(&self) -> bool {
		self.rm_report.is_some()
			|| self.mm_report.is_some()
			|| self.disputed_by.is_some()
			|| matches!((&self.rm_agreed, &self.mm_agreed), (Some(a), Some(b)) if a != b)
	}

	/// Whether `role` has taken part: it holds a deposit (every deposit is positive), so the
	/// round counts toward its limit of rounds.
	pub fn is_bound(&self, role: Role) -> bool {
		!self.deposits.get(role).is_zero()
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
