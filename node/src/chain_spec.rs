//! The chain specifications the node knows by name: `dev` and `local`.

use equilibrium_runtime::WASM_BINARY;
use sc_service::ChainType;

/// The chain specification of this node: the generic one, with no extensions.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token properties that wallets such as Polkadot.js show: symbol, decimals and address format.
fn token_properties() -> sc_service::Properties {
	let mut properties = sc_service::Properties::new();
	properties.insert("tokenSymbol".into(), "EQ".into());
	properties.insert("tokenDecimals".into(), 12.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"The runtime's wasm binary is not available: the node was built with SKIP_WASM_BUILD=1."
			.to_string()
	})
}

/// `dev`: a single-validator development chain (Alice authors and finalizes every block).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Contract Equilibrium Development")
		.with_id("contract_equilibrium_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}

/// `local`: a four-validator local testnet (Alice, Bob, Charlie and Dave), see
/// `scripts/network`.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Contract Equilibrium Local Testnet")
		.with_id("contract_equilibrium_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(token_properties())
		.build())
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Building the raw spec runs the runtime's genesis builder on the preset: it fails if the
	/// preset does not match the runtime's genesis config.
	#[test]
	fn both_chain_specs_build_their_genesis_state() {
		for spec in [development_chain_spec().unwrap(), local_chain_spec().unwrap()] {
			let raw = spec.as_json(true).expect("the genesis state builds");
			assert!(raw.contains("\"raw\""));
			assert_eq!(spec.properties().get("tokenSymbol").and_then(|v| v.as_str()), Some("EQ"));
		}
	}
}
