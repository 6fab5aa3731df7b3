// The paper's agents, drawn reproducibly: α ~ U(5, 20), β ~ U(0.5, 5) (Cha et al., §6), each
// quantized to 10⁻⁶ so that it is exact on chain and prints exactly.

import { FIXED_ONE } from './fixed.mjs';

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MICRO = 10n ** 12n; // 10⁻⁶ in FixedU128 inner units

/** A uniform draw in [low, high) millionths, as a FixedU128 inner value. */
function uniformFixed(random, lowMicros, highMicros) {
  return (BigInt(lowMicros) + BigInt(Math.floor(random() * (highMicros - lowMicros)))) * MICRO;
}

/**
 * `count` agents { alpha, beta } (FixedU128 inner values) from `seed`, α ∈ [5, 20), β ∈ [0.5, 5).
 */
export function drawPaperAgents(seed, count) {
  const random = prng(seed);
  return Array.from({ length: count }, () => ({
    alpha: uniformFixed(random, 5_000_000, 20_000_000),
    beta: uniformFixed(random, 500_000, 5_000_000),
  }));
}

/** Floats of an agent's α and β, for the bounds. */
export const agentFloats = ({ alpha, beta }) => ({ alpha: Number(alpha) / Number(FIXED_ONE), beta: Number(beta) / Number(FIXED_ONE) });
