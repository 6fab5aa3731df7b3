// Exact conversions between decimal text and the chain's integers, with BigInt only.
//
// - A FixedU128 travels as its inner u128, the value × 10^18: 0.5 is 500000000000000000n.
// - A balance is in planck, 10^-12 EQ: 1 EQ is 1000000000000n.
//
// Floats are used only for display and for the convergence bounds (documented where used);
// every value that goes on chain or is compared with the chain is a BigInt.

export const FIXED_DECIMALS = 18;
export const FIXED_ONE = 10n ** 18n;
export const EQ_DECIMALS = 12;
export const PLANCK_PER_EQ = 10n ** 12n;

/**
 * Parses a decimal number ("12", "0.5", "1e-6", "2.5E3", 7, 0.001, 3n) into an integer scaled by
 * 10^decimals, exactly. Throws if it is negative, malformed, or has more decimals than fit.
 */
export function parseDecimal(value, decimals, what = 'value') {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new Error(`${what} must not be negative: ${value}`);
    return value * 10n ** BigInt(decimals);
  }
  const text = String(value).trim();
  const match = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[1] === '' && (match[2] ?? '') === '')) {
    throw new Error(`${what} is not a non-negative decimal number: "${text}"`);
  }
  const [, whole, fraction = '', exponent = '0'] = match;
  const digits = BigInt((whole || '0') + fraction);
  const shift = decimals - fraction.length + Number(exponent);
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  if (digits % divisor !== 0n) {
    throw new Error(`${what} has more than ${decimals} decimals: "${text}"`);
  }
  return digits / divisor;
}

/** Formats an integer scaled by 10^decimals as exact decimal text ("0.5", "20", "1.000001"). */
export function formatDecimal(scaled, decimals, { places } = {}) {
  const value = BigInt(scaled);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = magnitude / unit;
  let fraction = (magnitude % unit).toString().padStart(decimals, '0');
  if (places !== undefined) {
    fraction = fraction.slice(0, places); // truncated, never rounded up
  } else {
    fraction = fraction.replace(/0+$/, '');
  }
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Decimal text (or number) → FixedU128 inner value. */
export const toFixed = (value, what) => parseDecimal(value, FIXED_DECIMALS, what);
/** FixedU128 inner value (or signed FixedI128 inner value) → exact decimal text. */
export const formatFixed = (inner, places) => formatDecimal(inner, FIXED_DECIMALS, { places });
/** FixedU128 inner value → float, for display and bound computations only. */
export const fixedToNumber = (inner) => Number(BigInt(inner)) / 1e18;

/** EQ as decimal text (or number) → planck. */
export const eqToPlanck = (value, what) => parseDecimal(value, EQ_DECIMALS, what);
/** Planck → exact EQ decimal text. */
export const formatEq = (planck, places) => formatDecimal(planck, EQ_DECIMALS, { places });

/**
 * a·b/c on non-negative BigInts, rounded 'down', 'up', 'nearestPrefDown' (half down) or
 * 'nearestPrefUp' (half up): sp_arithmetic's multiply_by_rational_with_rounding (without its
 * u128 overflow check; see mechanism.mjs `satMulDiv` for that).
 */
export function mulDiv(a, b, c, rounding = 'down') {
  if (c === 0n) throw new Error('division by zero');
  const product = a * b;
  const quotient = product / c;
  const remainder = product - quotient * c;
  const roundUp = rounding === 'up' ? remainder > 0n
    : rounding === 'nearestPrefDown' ? remainder > c / 2n
      : rounding === 'nearestPrefUp' ? remainder >= c / 2n + (c % 2n)
        : rounding === 'down' ? false
          : (() => { throw new Error(`unknown rounding ${rounding}`); })();
  return roundUp ? quotient + 1n : quotient;
}

/** FixedU128 product, rounded as asked. */
export const fixedMul = (a, b, rounding = 'down') => mulDiv(a, b, FIXED_ONE, rounding);
/** FixedU128 quotient, rounded as asked. */
export const fixedDiv = (a, b, rounding = 'down') => mulDiv(a, FIXED_ONE, b, rounding);

export const min = (a, b) => (a < b ? a : b);
export const max = (a, b) => (a > b ? a : b);
export const absDiff = (a, b) => (a > b ? a - b : b - a);
