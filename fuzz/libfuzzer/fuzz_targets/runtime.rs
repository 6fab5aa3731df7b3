//! The runtime fuzzer as a libFuzzer target: each input is run from genesis by
//! `equilibrium_fuzz::run` (see that crate for the input format and the invariants); a panic
//! is a crash.

#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
	equilibrium_fuzz::run(input);
});
