// Reading markets through the runtime API, and building the arguments of the market's calls.
//
// Plain JS shapes used throughout (all numbers BigInt, FixedU128 as inner values):
//   params = { capacity, unitFee, fixedFee, stepRule, priceFloor, priceCeiling, epochLength,
//              tolerance, payee }
//   stepRule = { kind: 'DualAscent', eta } | { kind: 'SafeguardedNewton', maxRelativeChange
//              (Perbill parts), minChange }
//   curve = { kind: 'LogUtility', alpha, beta } | { kind: 'Quantity', x }

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
export const encodeCurve = (curve) => (curve.kind === 'LogUtility'
  ? { LogUtility: { alpha: curve.alpha, beta: curve.beta } }
  : { Quantity: { x: curve.x } });

/** A codec DemandCurve → plain curve. */
export const decodeCurve = (codec) => (codec.isLogUtility
  ? { kind: 'LogUtility', alpha: codec.asLogUtility.alpha.toBigInt(), beta: codec.asLogUtility.beta.toBigInt() }
  : { kind: 'Quantity', x: codec.asQuantity.x.toBigInt() });

/** The name of the error `ContractEquilibrium` would return for `params`, or null (market.rs `validate`). */
export function paramsError(params) {
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
  return null;
}

/** The API decorated at block `at` (a hash), or the API itself for the best block. */
const atBlock = async (api, at) => (at ? api.at(at) : api);

/**
 * contractEquilibriumApi.market(id): { params, price, aggregateDemand, converged, epoch,
 * epochStart, bidders }, or null when there is no such market.
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

/** A codec NextOrder → { kind: 'Keep' } | { kind: 'Replace', curve, budget } | { kind: 'Withdraw' }. */
export const decodeNextOrder = (codec) => (codec.isReplace
  ? { kind: 'Replace', curve: decodeCurve(codec.asReplace.curve), budget: codec.asReplace.budget.toBigInt() }
  : { kind: codec.isWithdraw ? 'Withdraw' : 'Keep' });

/**
 * The bids of market `id` in storage order: [{ who, curve, budget, deposit, countedFrom (the
 * first epoch the bid counts in), next (what happens to it once the epoch under way has
 * settled, `decodeNextOrder`) }].
 */
export async function readBids(api, id, at) {
  const bids = at ? await api.query.contractEquilibrium.bids.at(at, id) : await api.query.contractEquilibrium.bids(id);
  return bids.map((bid) => ({
    who: bid.bidder.toString(),
    curve: decodeCurve(bid.curve),
    budget: bid.budget.toBigInt(),
    deposit: bid.deposit.toBigInt(),
    countedFrom: bid.countedFrom.toNumber(),
    next: decodeNextOrder(bid.next),
  }));
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

/** Whether two plain params are equal. */
export const sameParams = (a, b) => JSON.stringify(encodeParams(a), bigintJson) === JSON.stringify(encodeParams(b), bigintJson);

/** JSON.stringify replacer that prints BigInts as decimal strings. */
export function bigintJson(_key, value) {
  return typeof value === 'bigint' ? value.toString() : value;
}
