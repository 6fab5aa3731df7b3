//! The node's JSON-RPC methods beyond the standard ones `sc-service` registers: account nonces
//! (`system_accountNextIndex`), fee queries (`payment_*`) and, under manual or instant sealing,
//! block creation (`engine_createBlock`, `engine_finalizeBlock`).

use equilibrium_runtime::{opaque::Block, AccountId, Balance, Nonce};
use jsonrpsee::RpcModule;
use sc_consensus_manual_seal::{
	rpc::{ManualSeal, ManualSealApiServer},
	EngineCommand,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use std::sync::Arc;

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	/// The client, to read chain state.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// The channel to the manual-seal task, when blocks are sealed by command.
	pub manual_seal: Option<futures::channel::mpsc::Sender<EngineCommand<sp_core::H256>>>,
}

/// Builds the node's RPC module: every method beyond the standard ones.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, manual_seal } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client).into_rpc())?;
	if let Some(commands) = manual_seal {
		module.merge(ManualSeal::new(commands).into_rpc())?;
	}

	Ok(module)
}
