// How many blocks projected dual ascent may take to bring the price within a tolerance of μ*:
// upper bounds derived from the mechanism (docs/mechanism.md), computed in floating point.
//
// Notation: S(μ) = Σ x_i(μ), x_i(μ) = max(0, α_i/(β_i+τ+μ) − 1), |x_i'(μ)| = α_i/(β_i+τ+μ)²
// while active (decreasing in μ), zero once the agent has left (μ ≥ α_i − β_i − τ).
// The chain's step is μ_{t+1} = clamp(μ_t + η·(S(μ_t) − m)) with η = min(eta, 1/L) ≤ 1/L.
//
// Floats are used only here, for the bounds; every slope sum is evaluated so that it errs on
// the safe side (see SAFETY), and a tolerance slack absorbs the chain's fixed-point rounding
// (each step rounds S's terms and the product down: at most (N + 2)·10⁻¹⁸ per block).

/** Relative margin applied to slope lower bounds (down) and upper bounds (up). */
const SAFETY = 1e-9;
/** Absolute slack subtracted from the tolerance for fixed-point rounding (≫ 10⁻¹⁸ per block × blocks). */
export const ROUNDING_SLACK = 1e-12;

/** Σ α/(β+τ+μ)² over the agents still active at μ (α > β+τ+μ). Agents: { alpha, beta } floats. */
export function slopeSum(agents, unitFee, price) {
  let sum = 0;
  for (const { alpha, beta } of agents) {
    const cost = beta + unitFee + price;
    if (alpha > cost) sum += alpha / (cost * cost);
  }
  return sum;
}

/** Σ max(0, α/(β+τ+μ) − 1): the agents' demand at μ. */
export function demandSum(agents, unitFee, price) {
  let sum = 0;
  for (const { alpha, beta } of agents) sum += Math.max(0, alpha / (beta + unitFee + price) - 1);
  return sum;
}

/** The least t ≥ 0 with start·rate^t ≤ target (rate < 1). */
function blocksToReach(start, rate, target) {
  if (start <= target) return 0;
  return Math.ceil(Math.log(start / target) / -Math.log(rate));
}

/**
 * Price-responsive bids only (the LogUtility phase): the map μ ↦ μ + η(S(μ) − m) is
 * non-decreasing (η ≤ 1/L) and fixes μ*, so the price approaches μ* from one side and, with
 * ℓ = min |S'| between the start price and μ* (attained at the higher end, where the fewest
 * agents are active and each slope is smallest),
 *     |μ_{t+1} − μ*| ≤ (1 − η·ℓ)·|μ_t − μ*|.
 * Returns { ell, rate, blocks }: blocks = the least t with d0·rate^t ≤ tolerance − slack.
 */
export function monotoneBound({ agents, unitFee, start, muStar, eta, tolerance }) {
  const high = Math.max(start, muStar);
  const ell = slopeSum(agents, unitFee, high) * (1 - SAFETY);
  const rate = 1 - eta * ell;
  const d0 = Math.abs(start - muStar);
  if (!(rate < 1)) return { ell, rate, blocks: Infinity };
  return { ell, rate, blocks: blocksToReach(d0, rate, tolerance - ROUNDING_SLACK) };
}

/**
 * With quantity reporters (Algorithm 1): agents j report x_j(μ_{t−1}), the best response to
 * the last price they saw, so the step at μ_t sees S_L(μ_t) + Q(μ_{t−1}), S_L the chain-
 * evaluated (LogUtility) demand and Q the reports. Let μ** be the equilibrium of all agents'
 * true responses (S_L(μ**) + Q(μ**) = m) and e_t = μ_t − μ**. By the mean-value theorem,
 *     e_{t+1} = A_t·e_t − B_t·e_{t−1},   A_t = 1 − η·a_t,   B_t = η·b_t,
 * where a_t is the mean of |S_L'| between μ_t and μ**, b_t the mean of |Q'| between μ_{t−1}
 * and μ**. Since |x'| = α/(β+τ+μ)² decreases in μ and agents only leave as μ rises, on a price
 * interval [lo, hi] the mean slope lies between the slope sum at hi and the one at lo; and
 * A_t ≥ 0 because η ≤ 1/L. So, given intervals E_t ∋ e_t and E_{t−1} ∋ e_{t−1}, e_{t+1} lies in
 *     E_{t+1} = [A_min, A_max]·E_t − [B_min, B_max]·E_{t−1}   (interval arithmetic),
 * with the slope ranges taken over μ** + (E ∪ {0}), intersected with the clamp's range. Starting
 * from the two measured points E_{−1} = {e_{−1}}, E_0 = {e_0}, this bounds every later price
 * rigorously, keeping the sign information that a plain |e| recursion loses (a lagged report
 * on the same side as the price pulls it back, not further away). The runtime API's μ*_t (the
 * clearing price with the reports standing after block t, made at μ_{t−1}) solves
 * S_L(μ*_t) = m − Q(μ_{t−1}), which is within δ_t = max|Q'|·max|E_{t−1}| of S_L(μ**); S_L is
 * non-increasing, so μ*_t lies between the prices where S_L equals S_L(μ**) ± δ_t, at most v_t
 * from μ**, and the posted price's distance to it is at most max|E_t| + v_t.
 * The reports need not be one block old: when the chain's order book is sealed (the second half
 * of each epoch) a report waits for the settlement, and the price sees the last one made while
 * the book was open. `reportIndex(t)` gives { view, step }: the index j of the price μ_j (t
 * counting from the start, e_0, e_−1 measured) at which the reports standing after block t were
 * made (what the runtime API's μ*_t sees) and at which those the step from μ_t to μ_{t+1} sees
 * were made; the recursion above then reads E_j for E_{t−1}. By default both are t − 1. Indices
 * below −1 are measured prices: `measuredError(j)` gives e_j.
 * The step size may move from block to block: the chain's L counts each report's backed term
 * min(k/c², x²/k), which moves with the report. So `eta` is the step size, or a function
 * (low, high) ↦ [η_min, η_max] bounding the step size when every report was made at a price in
 * [low, high]; each step then takes A_t and B_t over the range the reports' price interval
 * μ** + E_{t−1} gives (η ≤ 1/L still holds for each η in it, so A_t ≥ 0).
 * Returns { blocks, steps, rate, etaEnvelope }: blocks is the least t with max|E_τ| + v_τ ≤
 * tolerance − slack for every τ in t … t + hold (Infinity if the intervals never get there);
 * steps the number of steps the recursion took to show it (t + hold); rate the contraction
 * factor near μ** (the larger root of ρ² = (1 − η·ℓ_L)·ρ + η·L_Q with the slopes at μ**, the
 * larger over the step sizes at μ**); etaEnvelope [least η_min, greatest η_max] over those
 * steps, which every step size the chain uses in them must lie in for the bound to hold.
 */
export function delayedBound({ logAgents, quantityAgents, unitFee, floor, ceiling, muStarStar, e0, eMinus1, eta, tolerance, reportIndex = (t) => ({ view: t - 1, step: t - 1 }), measuredError = null, hold = 0, maxBlocks = 100_000 }) {
  const stepSizes = typeof eta === 'function' ? eta : () => [eta, eta];
  const slopeL = (price) => slopeSum(logAgents, unitFee, Math.max(floor, price));
  const slopeQ = (price) => slopeSum(quantityAgents, unitFee, Math.max(floor, price));
  const lowest = floor - muStarStar;
  const highest = ceiling - muStarStar;
  const target = tolerance - ROUNDING_SLACK;
  const magnitude = ([low, high]) => Math.max(Math.abs(low), Math.abs(high));
  const product = ([a0, a1], [x0, x1]) => {
    const corners = [a0 * x0, a0 * x1, a1 * x0, a1 * x1];
    return [Math.min(...corners), Math.max(...corners)];
  };
  // The distance from μ** to the API's μ*_t, given the interval of the reports' price error:
  // the reports differ from Q(μ**) by at most δ, so S_L(μ*_t) is within δ of S_L(μ**), and
  // S_L is non-increasing: μ*_t lies between the prices where S_L = S_L(μ**) ± δ.
  const demandL = (price) => demandSum(logAgents, unitFee, price);
  const atStar = demandL(muStarStar);
  const priceWhereDemandIs = (level) => {
    // The least price in [floor, ceiling] with S_L(price) ≤ level, by bisection.
    if (demandL(floor) <= level) return floor;
    if (demandL(ceiling) > level) return ceiling;
    let low = floor;
    let high = ceiling;
    for (let i = 0; i < 200 && high - low > 1e-15; i += 1) {
      const middle = (low + high) / 2;
      if (demandL(middle) <= level) high = middle;
      else low = middle;
    }
    return high;
  };
  const apiGap = (previous) => {
    const delta = slopeQ(muStarStar + Math.min(previous[0], 0)) * (1 + SAFETY) * magnitude(previous);
    if (delta === 0) return 0;
    const above = priceWhereDemandIs(atStar - delta) - muStarStar;
    const below = muStarStar - priceWhereDemandIs(atStar + delta);
    return Math.max(above, below, 0) * (1 + SAFETY) + ROUNDING_SLACK;
  };
  const ellStar = slopeL(muStarStar) * (1 - SAFETY);
  const lqStar = slopeQ(muStarStar) * (1 + SAFETY);
  const rateAt = (step) => {
    const a = 1 - step * ellStar;
    return (a + Math.sqrt(a * a + 4 * step * lqStar)) / 2;
  };
  const rate = Math.max(...stepSizes(muStarStar, muStarStar).map(rateAt));

  const intervals = new Map([[-1, [eMinus1, eMinus1]], [0, [e0, e0]]]); // j → E_j
  const interval = (j) => {
    if (intervals.has(j)) return intervals.get(j);
    if (j > 0 || !measuredError) throw new Error(`delayedBound: no price interval for index ${j}`);
    const error = measuredError(j);
    return [error, error];
  };
  const etaEnvelope = [Infinity, -Infinity];
  let runStart = null; // the first t of the run of t's within the target
  for (let t = 0; t <= maxBlocks; t += 1) {
    const current = interval(t);
    const { view, step } = reportIndex(t);
    if (view >= t || step >= t) throw new Error(`delayedBound: reports at step ${t} cannot come from index ${Math.max(view, step)}`);
    if (magnitude(current) + apiGap(interval(view)) <= target) {
      runStart ??= t;
      if (t - runStart >= hold) return { blocks: runStart, steps: t, rate, etaEnvelope };
    } else {
      runStart = null;
    }
    const previous = interval(step);
    const clampPrice = (error) => Math.min(Math.max(muStarStar + error, floor), ceiling);
    const [etaLow, etaHigh] = stepSizes(clampPrice(previous[0]), clampPrice(previous[1]));
    etaEnvelope[0] = Math.min(etaEnvelope[0], etaLow);
    etaEnvelope[1] = Math.max(etaEnvelope[1], etaHigh);
    const aLow = slopeL(muStarStar + Math.max(current[1], 0)) * (1 - SAFETY);
    const aHigh = slopeL(muStarStar + Math.min(current[0], 0)) * (1 + SAFETY);
    const bHigh = slopeQ(muStarStar + Math.min(previous[0], 0)) * (1 + SAFETY);
    const bLow = slopeQ(muStarStar + Math.max(previous[1], 0)) * (1 - SAFETY);
    const A = [Math.max(0, 1 - etaHigh * aHigh), Math.max(0, 1 - etaLow * aLow)];
    const B = [etaLow * bLow, etaHigh * bHigh];
    const ax = product(A, current);
    const by = product(B, previous);
    let next = [ax[0] - by[1], ax[1] - by[0]];
    next = [Math.min(Math.max(next[0], lowest), highest), Math.max(Math.min(next[1], highest), lowest)];
    intervals.set(t + 1, next);
    if (!(magnitude(next) < Infinity)) break;
  }
  return { blocks: Infinity, steps: 0, rate, etaEnvelope };
}
