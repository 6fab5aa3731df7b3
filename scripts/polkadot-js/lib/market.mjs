// Reading markets through the runtime API, and building the arguments of the market's calls.
//
// Plain JS shapes used throughout (all numbers BigInt, FixedU128 as inner values):
//   params = { capacity, unitFee, fixedFee, stepRule, priceFloor, priceCeiling, epochLength,
//              tolerance, payee }
//   stepRule = { kind: 'DualAscent', eta } | { kind: 'SafeguardedNewton', maxRelativeChange
//              (Perbill parts), minChange }
//   curve = { kind: 'LogUtility', alpha, beta } | { kind: 'Quantity', x }
//           | { kind: 'Linear', quantity, price, slope }
//   terms = { curve, budget (planck per epoch), from, until, exit } — an order, counting in the
//           epochs from … until − 1, taking part at the grid prices below index `exit`
//   bid = { order: terms, next: terms | null, settledTo, escrow (planck), deposit (planck) }
//   totals = { units: BigInt[513], participants: Number[513] } — a book on its price grid (book.mjs)
//   clearing = { price, lower, lowerWeight, upperWeight } — how an epoch settled (book.mjs `clear`)

import { stringToU8a, u8aConcat } from '@polkadot/util';
import { encodeAddress } from '@polkadot/util-crypto';
import { formatFixed } from './fixed.mjs';

const MAX_QUANTITY = 1_000_000_000n * 10n ** 18n;
const MAX_PRICE = 1_000_000_000n * 10n ** 18n;

/** A codec MarketParams → plain params. */
export function decodeParams(codec) {
  const rule = codec.stepRule;
  const stepRule = rule.isDualAscent
    ? { kind: 'DualAscent', eta: rule.asDualAscent.eta.toBigInt() }
    : {
      kind: 'SafeguardedNewton',
      maxRelativeChange: rule.asSafeguardedNewton.maxRelativeChange.toBigInt(),
      minChange: rule.asSafeguardedNewton.minChange.toBigInt(),
    };
  return {
    capacity: codec.capacity.toBigInt(),
    unitFee: codec.unitFee.toBigInt(),
    fixedFee: codec.fixedFee.toBigInt(),
    stepRule,
    priceFloor: codec.priceFloor.toBigInt(),
    priceCeiling: codec.priceCeiling.toBigInt(),
    epochLength: codec.epochLength.toNumber(),
    tolerance: codec.tolerance.toBigInt(),
    payee: codec.payee.toString(),
  };
}

/** Plain params → the argument of createMarket / setMarketParams. */
export function encodeParams(params) {
  const stepRule = params.stepRule.kind === 'DualAscent'
    ? { DualAscent: { eta: params.stepRule.eta } }
    : {
      SafeguardedNewton: {
        maxRelativeChange: params.stepRule.maxRelativeChange,
        minChange: params.stepRule.minChange,
      },
    };
  return {
    capacity: params.capacity,
    unitFee: params.unitFee,
    fixedFee: params.fixedFee,
    stepRule,
    priceFloor: params.priceFloor,
    priceCeiling: params.priceCeiling,
    epochLength: params.epochLength,
    tolerance: params.tolerance,
    payee: params.payee,
  };
}

/** Plain curve → the `curve` argument of submitDemand / quote. */
export function encodeCurve(curve) {
  if (curve.kind === 'LogUtility') return { LogUtility: { alpha: curve.alpha, beta: curve.beta } };
  if (curve.kind === 'Linear') return { Linear: { quantity: curve.quantity, price: curve.price, slope: curve.slope } };
  return { Quantity: { x: curve.x } };
}

/** A codec DemandCurve → plain curve. */
export function decodeCurve(codec) {
  if (codec.isLogUtility) return { kind: 'LogUtility', alpha: codec.asLogUtility.alpha.toBigInt(), beta: codec.asLogUtility.beta.toBigInt() };
  if (codec.isLinear) {
    const { quantity, price, slope } = codec.asLinear;
    return { kind: 'Linear', quantity: quantity.toBigInt(), price: price.toBigInt(), slope: slope.toBigInt() };
  }
  return { kind: 'Quantity', x: codec.asQuantity.x.toBigInt() };
}

/**
 * The name of the error `ContractEquilibrium` would return for `params`, or null (market.rs
 * `validate`; and, given the market's `current` parameters and its number of `bids`, the
 * pallet's `TermsFixedByBids`: fees and price bounds change only on a market without bids,
 * since its bids' contracts are priced on them).
 */
export function paramsError(params, current = null, bids = 0) {
  if (params.capacity === 0n || params.capacity > MAX_QUANTITY) return 'CapacityOutOfRange';
  if (params.priceFloor > params.priceCeiling) return 'PriceBoundsInverted';
  if (params.priceCeiling > MAX_PRICE) return 'PriceCeilingTooHigh';
  if (params.unitFee > MAX_PRICE || params.fixedFee > MAX_PRICE) return 'FeeTooHigh';
  if (params.epochLength === 0) return 'ZeroEpochLength';
  if (params.tolerance === 0n) return 'ZeroTolerance';
  const rule = params.stepRule;
  if (rule.kind === 'DualAscent' && rule.eta === 0n) return 'InvalidStepRule';
  if (rule.kind === 'SafeguardedNewton' && (rule.maxRelativeChange === 0n || rule.minChange === 0n)) {
    return 'InvalidStepRule';
  }
  if (current && bids > 0 && !sameTerms(current, params)) return 'TermsFixedByBids';
  return null;
}

/** The API decorated at block `at` (a hash), or the API itself for the best block. */
const atBlock = async (api, at) => (at ? api.at(at) : api);

/**
 * contractEquilibriumApi.market(id): { params, price, aggregateDemand, converged, epoch,
 * epochStart, epochLength (of the epoch under way: a new length applies from the next epoch;
 * the parameters' on runtimes that do not store it), bidders }, or null when there is no such
 * market.
 */
export async function readMarket(api, id, at) {
  const view = await (await atBlock(api, at)).call.contractEquilibriumApi.market(id);
  if (view.isNone) return null;
  const { market, bidders } = view.unwrap();
  return {
    params: decodeParams(market.params),
    price: market.price.toBigInt(),
    aggregateDemand: market.aggregateDemand.toBigInt(),
    converged: market.converged.isTrue,
    epoch: market.epoch.toNumber(),
    epochStart: market.epochStart.toNumber(),
    epochLength: market.epochLength === undefined ? market.params.epochLength.toNumber() : market.epochLength.toNumber(),
    bidders: bidders.toNumber(),
  };
}

/**
 * contractEquilibriumApi.equilibrium(id): { clearingPrice, demandAtClearingPrice, price,
 * distance, excessDemand (signed) }, or null.
 */
export async function readEquilibrium(api, id, at) {
  const view = await (await atBlock(api, at)).call.contractEquilibriumApi.equilibrium(id);
  if (view.isNone) return null;
  const eq = view.unwrap();
  return {
    clearingPrice: eq.clearingPrice.toBigInt(),
    demandAtClearingPrice: eq.demandAtClearingPrice.toBigInt(),
    price: eq.price.toBigInt(),
    distance: eq.distance.toBigInt(),
    excessDemand: eq.excessDemand.toBigInt(),
  };
}

/** A codec OrderTerms → { curve, budget (planck per epoch), from, until (it counts in from … until − 1), exit (grid index) }. */
export const decodeTerms = (codec) => ({
  curve: decodeCurve(codec.curve),
  budget: codec.budget.toBigInt(),
  from: codec.from.toNumber(),
  until: codec.until.toNumber(),
  exit: codec.exit.toNumber(),
});

/** A codec Bid → { order, next (terms or null), settledTo, escrow, deposit }. */
export const decodeBid = (codec) => ({
  order: decodeTerms(codec.order),
  next: codec.next.isSome ? decodeTerms(codec.next.unwrap()) : null,
  settledTo: codec.settledTo.toNumber(),
  escrow: codec.escrow.toBigInt(),
  deposit: codec.deposit.toBigInt(),
});

/** A codec Clearing → { price, lower, lowerWeight, upperWeight } (book.mjs `clear`'s shape). */
export const decodeClearing = (codec) => ({
  price: codec.price.toBigInt(),
  lower: codec.lower.toNumber(),
  lowerWeight: codec.lowerWeight.toBigInt(),
  upperWeight: codec.upperWeight.toBigInt(),
});

/** A codec EpochOutcome → { clearing, demand, totalAllocated, bidders, participants, totalPaid, capacity }. */
export const decodeOutcome = (codec) => ({
  clearing: decodeClearing(codec.clearing),
  demand: codec.demand.toBigInt(),
  totalAllocated: codec.totalAllocated.toBigInt(),
  bidders: codec.bidders.toNumber(),
  participants: codec.participants.toNumber(),
  totalPaid: codec.totalPaid.toBigInt(),
  capacity: codec.capacity.toBigInt(),
});

/** A codec BookTotals → book.mjs totals { units: BigInt[513], participants: Number[513] }. */
export const decodeTotals = (codec) => ({
  units: codec.units.map((unit) => unit.toBigInt()),
  participants: codec.participants.map((count) => count.toNumber()),
});

/** The API decorated at `at`, for storage queries. */
const queryAt = async (api, at) => (at ? (await api.at(at)).query : api.query);

/**
 * The bids of market `id` (`Bids` is a double map market → bidder): a Map from the bidder's
 * address to its bid (`decodeBid`), in the order the storage iterates them.
 */
export async function readBids(api, id, at) {
  const entries = await (await queryAt(api, at)).contractEquilibrium.bids.entries(id);
  return new Map(entries.map(([key, bid]) => [key.args[1].toString(), decodeBid(bid.unwrap())]));
}

/** Market `id`'s book: { totals, counted, bids }, or null. */
export async function readBook(api, id, at) {
  const book = await (await queryAt(api, at)).contractEquilibrium.books(id);
  if (book.isNone) return null;
  const { totals, counted, bids } = book.unwrap();
  return { totals: decodeTotals(totals), counted: counted.toNumber(), bids: bids.toNumber() };
}

/** The changes scheduled for market `id`'s book: Map epoch → { entering, leaving, enteringCount, leavingCount }. */
export async function readBookChanges(api, id, at) {
  const entries = await (await queryAt(api, at)).contractEquilibrium.bookChanges.entries(id);
  return new Map(entries.map(([key, change]) => {
    const { entering, leaving, enteringCount, leavingCount } = change.unwrap();
    return [key.args[1].toNumber(), { entering: decodeTotals(entering), leaving: decodeTotals(leaving), enteringCount: enteringCount.toNumber(), leavingCount: leavingCount.toNumber() }];
  }));
}

/** Market `id`'s clearing records: Map epoch → { clearing, unsettled }. */
export async function readClearings(api, id, at) {
  const entries = await (await queryAt(api, at)).contractEquilibrium.clearings.entries(id);
  return new Map(entries.map(([key, record]) => {
    const { clearing, unsettled } = record.unwrap();
    return [key.args[1].toNumber(), { clearing: decodeClearing(clearing), unsettled: unsettled.toNumber() }];
  }));
}

/**
 * contractEquilibriumApi.bid(id, who): { bid (`decodeBid`), unsettledAllocation,
 * unsettledPayment (planck) } — what settling the bid now would allocate and charge — or null.
 */
export async function readBidView(api, id, who, at) {
  const view = await (await atBlock(api, at)).call.contractEquilibriumApi.bid(id, who);
  if (view.isNone) return null;
  const { bid, unsettledAllocation, unsettledPayment } = view.unwrap();
  return { bid: decodeBid(bid), unsettledAllocation: unsettledAllocation.toBigInt(), unsettledPayment: unsettledPayment.toBigInt() };
}

/**
 * The pallet's escrow account: `PalletId::into_account_truncating`, i.e. "modl" ‖ the 8-byte
 * pallet id (`eq/markt` in the runtime) ‖ zero padding, as an SS58 address.
 */
export function escrowAccount(api) {
  const id = api.consts.contractEquilibrium.palletId.toU8a();
  return encodeAddress(u8aConcat(stringToU8a('modl'), id, new Uint8Array(32 - 4 - id.length)), api.registry.chainSS58 ?? 42);
}

/** One line per parameter, human-readable, exact. */
export function describeParams(params) {
  const rule = params.stepRule.kind === 'DualAscent'
    ? `DualAscent { eta: ${formatFixed(params.stepRule.eta)} }`
    : `SafeguardedNewton { maxRelativeChange: ${Number(params.stepRule.maxRelativeChange) / 1e7} %, minChange: ${formatFixed(params.stepRule.minChange)} }`;
  return [
    ['capacity', `${formatFixed(params.capacity)} units`],
    ['unit fee', `${formatFixed(params.unitFee)} EQ/unit`],
    ['fixed fee', `${formatFixed(params.fixedFee)} EQ`],
    ['step rule', rule],
    ['price floor', `${formatFixed(params.priceFloor)} EQ/unit`],
    ['price ceiling', `${formatFixed(params.priceCeiling)} EQ/unit`],
    ['epoch length', `${params.epochLength} blocks`],
    ['tolerance', formatFixed(params.tolerance)],
    ['payee', params.payee],
  ];
}

/** Whether two plain params price contracts alike: the same fees and price bounds (the pallet's `TermsFixedByBids`). */
export const sameTerms = (a, b) => a.unitFee === b.unitFee && a.fixedFee === b.fixedFee
  && a.priceFloor === b.priceFloor && a.priceCeiling === b.priceCeiling;

/** Whether two plain params are equal. */
export const sameParams = (a, b) => JSON.stringify(encodeParams(a), bigintJson) === JSON.stringify(encodeParams(b), bigintJson);

/** JSON.stringify replacer that prints BigInts as decimal strings. */
export function bigintJson(_key, value) {
  return typeof value === 'bigint' ? value.toString() : value;
}
