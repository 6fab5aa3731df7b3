// How many blocks projected dual ascent may take to bring the price within a tolerance of its
// target: upper bounds derived from the mechanism (docs/mechanism.md), computed in floating point.
//
// What the chain steps on is its order book on a price grid (book.rs): every order's contracts
// D_j at the grid prices g_0 < … < g_{K−1}, summed to A_j, and between two grid prices the
// linear interpolation S̃(μ) = (1 − t)·A_j + t·A_{j+1}. S̃ is continuous, piecewise linear and
// non-increasing (each order's contracts fall with the price, and a declared agent that leaves
// at some grid price takes no part above it), with slope −s_j on cell j = [g_j, g_{j+1}],
// s_j = (A_j − A_{j+1})/(g_{j+1} − g_j) ≥ 0. The chain's step is
// μ_{t+1} = clamp(μ_t + η·(S̃(μ_t) − m)), η = min(eta, 1/L), L = max_j s_j (rounded up):
// the steepest cell anywhere on the grid (book.rs `steepest_slope_from`). A declared agent's
// exit is a drop of its whole contract over one cell, so L can be set by a cell far from the
// prices the market visits; the bounds below use the step size the chain actually computes.
//
// Quantity reporters (Algorithm 1) report x(μ) = max(0, α/(β+τ+μ) − 1) computed off chain, so
// their part of the demand is their true curve, not a grid: |x'(μ)| = α/(β+τ+μ)², decreasing in
// μ, zero once the agent wants nothing (μ ≥ α − β − τ).
//
// Floats are used only here, for the bounds; every slope is taken so that it errs on the safe
// side (see SAFETY), and a tolerance slack absorbs the chain's fixed-point rounding (each step
// rounds S̃'s interpolation and the product η·(S̃ − m) down: a few 10⁻¹⁸ per block).

/** Relative margin applied to slope lower bounds (down) and upper bounds (up). */
const SAFETY = 1e-9;
/** Absolute slack subtracted from the tolerance for fixed-point rounding (≫ 10⁻¹⁸ per block × blocks). */
export const ROUNDING_SLACK = 1e-12;

/** Σ α/(β+τ+μ)² over the agents still demanding at μ (α > β+τ+μ). Agents: { alpha, beta } floats. */
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

/**
 * A gridded demand S̃ in floats: `prices` g_j (ascending), `units` A_j, and `slopes` s_j of each
 * cell j (length K − 1), which the caller computes from the exact integer differences (so that
 * no cancellation blurs them). Returns { demand(μ), slopeRange(low, high) }: S̃(μ) by
 * interpolation (the ends held flat), and [min s_j, max s_j] over the cells that meet
 * [low, high] (a point on a grid price meets both cells beside it) — the mean slope of S̃
 * between any two prices of [low, high] lies in that range.
 */
export function griddedCurve({ prices, units, slopes }) {
  const last = prices.length - 1;
  /** The largest j ≤ K − 2 with g_j ≤ μ (0 below the floor). */
  const cellOf = (price) => {
    let low = 0;
    let high = last - 1;
    while (low < high) {
      const middle = Math.floor((low + high + 1) / 2);
      if (prices[middle] <= price) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const demand = (price) => {
    if (price <= prices[0]) return units[0];
    if (price >= prices[last]) return units[last];
    const j = cellOf(price);
    const width = prices[j + 1] - prices[j];
    return width > 0 ? units[j] - (price - prices[j]) * slopes[j] : units[j];
  };
  const slopeRange = (low, high) => {
    // Cell j = [g_j, g_{j+1}] meets [low, high] when g_j ≤ high and g_{j+1} ≥ low.
    let from = cellOf(low);
    if (from > 0 && prices[from] >= low) from -= 1;
    const to = Math.max(from, cellOf(high));
    let least = Infinity;
    let most = -Infinity;
    for (let j = from; j <= to; j += 1) {
      least = Math.min(least, slopes[j]);
      most = Math.max(most, slopes[j]);
    }
    return [least, most];
  };
  return { demand, slopeRange };
}

/** The least t ≥ 0 with start·rate^t ≤ target (rate < 1). */
function blocksToReach(start, rate, target) {
  if (start <= target) return 0;
  return Math.ceil(Math.log(start / target) / -Math.log(rate));
}

/**
 * Declared (LogUtility) orders only, the phase-A book: the map μ ↦ μ + η(S̃(μ) − m) is
 * non-decreasing, since η ≤ 1/L and L bounds every cell's slope; it fixes μ* (the runtime API's
 * clearing price of the book, where S̃ falls to m). So the price approaches μ* from one side
 * without crossing it and, with ℓ the least cell slope on the way (the cells between the start
 * price and μ*),
 *     |μ_{t+1} − μ*| = |μ_t − μ*| − η·|S̃(μ_t) − S̃(μ*)| ≤ (1 − η·ℓ)·|μ_t − μ*|,
 * because S̃ is piecewise linear: |S̃(μ_t) − S̃(μ*)| is the integral of the cells' slopes over
 * [μ_t, μ*], at least ℓ·|μ_t − μ*|. (For the paper's curves without a grid, ℓ would be |S'(μ*)|,
 * the least slope of a convex S on the way; on the grid it is taken cell by cell.)
 * `book`: `griddedCurve` of the book. Returns { ell, rate, blocks }: blocks = the least t with
 * d0·rate^t ≤ tolerance − slack.
 */
export function monotoneBound({ book, start, muStar, eta, tolerance }) {
  const ell = book.slopeRange(Math.min(start, muStar), Math.max(start, muStar))[0] * (1 - SAFETY);
  const rate = 1 - eta * ell;
  const d0 = Math.abs(start - muStar);
  if (!(rate < 1)) return { ell, rate, blocks: Infinity };
  return { ell, rate, blocks: blocksToReach(d0, rate, tolerance - ROUNDING_SLACK) };
}

/**
 * With quantity reporters (Algorithm 1): agents r report x_r(μ_{t−1}), the best response to the
 * last price they saw, as Quantity orders. A Quantity order's contract is the reported x at
 * every grid price where its budget backs it, so where the budgets back the reports at the two
 * grid prices around μ_t (the caller checks it every block), the step at μ_t sees
 * S̃_L(μ_t) + Q(μ_{t−1}), S̃_L the gridded book of the declared (LogUtility) orders and
 * Q = Σ x_r the reports. Let μ** be the equilibrium of the declared book and the reporters' true
 * responses (S̃_L(μ**) + Q(μ**) = m) and e_t = μ_t − μ**. Then
 *     e_{t+1} = A_t·e_t − B_t·e_{t−1},   A_t = 1 − η·a_t,   B_t = η·b_t,
 * where a_t is the mean slope of S̃_L between μ_t and μ** (piecewise linear: between the least
 * and the greatest slope of the cells that interval meets) and b_t the mean of |Q'| between
 * μ_{t−1} and μ** (|x'| = α/(β+τ+μ)² decreases in μ and reporters only stop demanding as μ
 * rises, so on [lo, hi] it lies between the slope sum at hi and the one at lo); A_t ≥ 0 because
 * η ≤ 1/L and L bounds every cell's slope. So, given intervals E_t ∋ e_t and E_{t−1} ∋ e_{t−1},
 * e_{t+1} lies in
 *     E_{t+1} = [A_min, A_max]·E_t − [B_min, B_max]·E_{t−1}   (interval arithmetic),
 * with the slope ranges taken over μ** + (E ∪ {0}), intersected with the clamp's range. Starting
 * from the two measured points E_{−1} = {e_{−1}}, E_0 = {e_0}, this bounds every later price
 * rigorously, keeping the sign information that a plain |e| recursion loses (a lagged report
 * on the same side as the price pulls it back, not further away). The runtime API's μ*_t (the
 * clearing price with the reports standing after block t, made at μ_{t−1}) solves
 * S̃_L(μ*_t) = m − Q(μ_{t−1}), which is within δ_t = max|Q'|·max|E_{t−1}| of S̃_L(μ**); S̃_L is
 * non-increasing, so μ*_t lies between the prices where S̃_L equals S̃_L(μ**) ± δ_t, at most v_t
 * from μ**, and the posted price's distance to it is at most max|E_t| + v_t.
 * The reports need not be one block old: when the chain's order book is sealed (the second half
 * of each epoch) a report queues for the next epoch, and the price sees the last one made while
 * the book was open. `reportIndex(t)` gives { view, step }: the index j of the price μ_j (t
 * counting from the start, e_0, e_−1 measured) at which the reports standing after block t were
 * made (what the runtime API's μ*_t sees) and at which those the step from μ_t to μ_{t+1} sees
 * were made; the recursion above then reads E_j for E_{t−1}. By default both are t − 1. Indices
 * below −1 are measured prices: `measuredError(j)` gives e_j.
 * The step size may move from block to block: L is the steepest cell of the whole book, reports
 * included, and a report's contract falls over the cells where its budget stops backing it
 * (slope k/c², k = B − g, c = g_j + τ), over more cells the larger the report. So `eta` is the
 * step size, or a function (low, high) ↦ [η_min, η_max] bounding the step size when every report
 * was made at a price in [low, high]; each step then takes A_t and B_t over the range the
 * reports' price interval μ** + E_{t−1} gives (η ≤ 1/L still holds for each η in it, so A_t ≥ 0).
 * `book`: `griddedCurve` of the declared orders' book S̃_L; `quantityAgents`: the reporters'
 * { alpha, beta } floats.
 * Returns { blocks, steps, rate, etaEnvelope }: blocks is the least t with max|E_τ| + v_τ ≤
 * tolerance − slack for every τ in t … t + hold (Infinity if the intervals never get there);
 * steps the number of steps the recursion took to show it (t + hold); rate the contraction
 * factor near μ** (the larger root of ρ² = (1 − η·ℓ_L)·ρ + η·L_Q with ℓ_L the least slope of the
 * cells beside μ** and L_Q = |Q'(μ**)|, the larger over the step sizes at μ**); etaEnvelope
 * [least η_min, greatest η_max] over those steps, which every step size the chain uses in them
 * must lie in for the bound to hold.
 */
export function delayedBound({ book, quantityAgents, unitFee, floor, ceiling, muStarStar, e0, eMinus1, eta, etaCap = Infinity, tolerance, reportIndex = (t) => ({ view: t - 1, step: t - 1 }), measuredError = null, hold = 0, maxBlocks = 100_000 }) {
  const stepSizes = typeof eta === 'function' ? eta : () => [eta, eta];
  const clamp = (price) => Math.min(Math.max(price, floor), ceiling);
  const slopeRangeL = (low, high) => book.slopeRange(clamp(low), clamp(high));
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
  // the reports differ from Q(μ**) by at most δ, so S̃_L(μ*_t) is within δ of S̃_L(μ**), and
  // S̃_L is non-increasing: μ*_t lies between the prices where S̃_L = S̃_L(μ**) ± δ.
  const demandL = (price) => book.demand(price);
  const atStar = demandL(muStarStar);
  const priceWhereDemandIs = (level) => {
    // The least price in [floor, ceiling] with S̃_L(price) ≤ level, by bisection.
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
  const ellStar = slopeRangeL(muStarStar, muStarStar)[0] * (1 - SAFETY);
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
    const [etaLow, etaHighGlobal] = stepSizes(clamp(muStarStar + previous[0]), clamp(muStarStar + previous[1]));
    // The chain bounds |S̃'| only between the price and where governance's η would take it
    // (step.rs `dual_ascent_target`), a stretch that holds the price's own cell: the step size is
    // at most min(η, 1/ℓ) with ℓ the least cell slope of the declared book over the prices μ_t
    // may be at (reports only add slope, where their budgets stop backing them), and at least the
    // whole book's bound.
    const leastHere = slopeRangeL(muStarStar + current[0], muStarStar + current[1])[0] * (1 - SAFETY);
    const etaHigh = Math.max(etaHighGlobal, leastHere > 0 ? Math.min(etaCap, 1 / leastHere) : etaCap);
    etaEnvelope[0] = Math.min(etaEnvelope[0], etaLow);
    etaEnvelope[1] = Math.max(etaEnvelope[1], etaHigh);
    const [aLowRaw, aHighRaw] = slopeRangeL(muStarStar + Math.min(current[0], 0), muStarStar + Math.max(current[1], 0));
    const aLow = aLowRaw * (1 - SAFETY);
    const aHigh = aHighRaw * (1 + SAFETY);
    const bHigh = slopeQ(muStarStar + Math.min(previous[0], 0)) * (1 + SAFETY);
    const bLow = slopeQ(muStarStar + Math.max(previous[1], 0)) * (1 - SAFETY);
    // e_{t+1} = (1 − η·a)·e_t − η·b·e_{t−1} with the same η in both terms: the expression is
    // monotone in each of η, a, b, e_t and e_{t−1} over its range, so its extremes are at the
    // corners of the box.
    const corners = [];
    for (const step of [etaLow, etaHigh]) {
      for (const a of [aLow, aHigh]) {
        for (const b of [bLow, bHigh]) {
          for (const x of current) {
            for (const y of previous) corners.push(Math.max(0, 1 - step * a) * x - step * b * y);
          }
        }
      }
    }
    let next = [Math.min(...corners), Math.max(...corners)];
    next = [Math.min(Math.max(next[0], lowest), highest), Math.max(Math.min(next[1], highest), lowest)];
    intervals.set(t + 1, next);
    if (!(magnitude(next) < Infinity)) break;
  }
  return { blocks: Infinity, steps: 0, rate, etaEnvelope };
}
