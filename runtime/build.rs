//! Builds the runtime's wasm blob (skipped with `SKIP_WASM_BUILD=1`, e.g. for fast unit tests).

fn main() {
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
