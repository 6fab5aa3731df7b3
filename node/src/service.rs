//! The node service: client, database, transaction pool, networking, RPC, block production and
//! finality, wired according to the chosen [`Sealing`] mode.

use crate::cli::Sealing;
use equilibrium_runtime::{apis::RuntimeApi, opaque::Block};
use futures::{channel::mpsc, FutureExt, SinkExt};
use sc_client_api::BlockBackend;
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_consensus_manual_seal::{
	consensus::{aura::AuraConsensusDataProvider, timestamp::SlotTimestampProvider},
	EngineCommand,
};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::{OffchainTransactionPoolFactory, TransactionPool};
use sp_consensus_aura::sr25519::AuthorityPair as AuraPair;
use std::{sync::Arc, time::Duration};

/// The client: the runtime executed in wasm with the standard host functions.
pub(crate) type FullClient = sc_service::TFullClient<
	Block,
	RuntimeApi,
	sc_executor::WasmExecutor<sp_io::SubstrateHostFunctions>,
>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullGrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;

/// Every how many blocks GRANDPA justifications are imported and generated.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the service that subcommands (check-block, export-blocks, …) need too.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		FullGrandpaBlockImport,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// Builds the client, database, transaction pool and import queue.
///
/// Under [`Sealing::Aura`] blocks are verified as Aura blocks (author, slot, inherents) and fed
/// through GRANDPA's block import; under the development sealing modes they are imported as they
/// come from the local manual-seal task.
pub fn new_partial(config: &Configuration, sealing: Sealing) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|endpoints| !endpoints.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<sp_io::SubstrateHostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let import_queue = match sealing {
		Sealing::Aura => {
			let cidp_client = client.clone();
			sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
				block_import: grandpa_block_import.clone(),
				justification_import: Some(Box::new(grandpa_block_import.clone())),
				client: client.clone(),
				create_inherent_data_providers: move |parent_hash, _| {
					let cidp_client = cidp_client.clone();
					async move {
						let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
							&*cidp_client,
							parent_hash,
						)?;
						let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
						let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
						Ok((slot, timestamp))
					}
				},
				spawner: &task_manager.spawn_essential_handle(),
				registry: config.prometheus_registry(),
				check_for_equivocation: Default::default(),
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			})?
		},
		Sealing::Instant | Sealing::Manual | Sealing::Interval(_) => {
			sc_consensus_manual_seal::import_queue(
				Box::new(client.clone()),
				&task_manager.spawn_essential_handle(),
				config.prometheus_registry(),
			)
		},
	};

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// Builds and starts a full node: networking, RPC and, for an authority, block production.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	sealing: Sealing,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry),
	} = new_partial(&config, sealing)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	// GRANDPA's gossip protocol and warp sync exist only under real consensus.
	let grandpa_protocol_name = sc_consensus_grandpa::protocol_standard_name(
		&client.block_hash(0).ok().flatten().expect("Genesis block exists; qed"),
		&config.chain_spec,
	);
	let (grandpa_notification_service, warp_sync_config) = if sealing == Sealing::Aura {
		let (grandpa_protocol_config, grandpa_notification_service) =
			sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
				grandpa_protocol_name.clone(),
				metrics.clone(),
				net_config.peer_store_handle(),
			);
		net_config.add_notification_protocol(grandpa_protocol_config);
		let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
			backend.clone(),
			grandpa_link.shared_authority_set().clone(),
			Vec::default(),
		));
		(Some(grandpa_notification_service), Some(WarpSyncConfig::WithProvider(warp_sync)))
	} else {
		(None, None)
	};

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config,
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	// Under manual and interval sealing, blocks are sealed on command: from the RPC
	// (`engine_createBlock`) and, for the interval mode, from a timer.
	let (seal_commands, seal_command_stream) = match sealing {
		Sealing::Instant | Sealing::Manual | Sealing::Interval(_) => {
			let (sender, receiver) = mpsc::channel::<EngineCommand<sp_core::H256>>(1024);
			(Some(sender), Some(receiver))
		},
		Sealing::Aura => (None, None),
	};

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		// `engine_createBlock` and `engine_finalizeBlock` only where blocks are sealed on command.
		let manual_seal = seal_commands.clone().filter(|_| sealing != Sealing::Instant);

		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				manual_seal: manual_seal.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if !role.is_authority() {
		return Ok(task_manager);
	}
	if matches!(sealing, Sealing::Aura) {
		warn_without_authority_keys(&client, &keystore_container.keystore());
	}

	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		task_manager.spawn_handle(),
		client.clone(),
		transaction_pool.clone(),
		prometheus_registry.as_ref(),
		telemetry.as_ref().map(|x| x.handle()),
	);

	match sealing {
		Sealing::Aura => {
			let slot_duration = sc_consensus_aura::slot_duration(&*client)?;
			let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
				StartAuraParams {
					slot_duration,
					client,
					select_chain,
					block_import,
					proposer_factory,
					create_inherent_data_providers: move |_, ()| async move {
						let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
						let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
						Ok((slot, timestamp))
					},
					force_authoring,
					backoff_authoring_blocks: Option::<()>::None,
					keystore: keystore_container.keystore(),
					sync_oracle: sync_service.clone(),
					justification_sync_link: sync_service.clone(),
					block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
					max_block_proposal_slot_portion: None,
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					compatibility_mode: Default::default(),
				},
			)?;
			// Block authoring is essential: if it fails, the node stops.
			task_manager.spawn_essential_handle().spawn_blocking(
				"aura",
				Some("block-authoring"),
				aura,
			);

			if enable_grandpa {
				let grandpa_config = sc_consensus_grandpa::Config {
					gossip_duration: Duration::from_millis(333),
					justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
					name: Some(name),
					observer_enabled: false,
					keystore: Some(keystore_container.keystore()),
					local_role: role,
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					protocol_name: grandpa_protocol_name,
				};
				let grandpa_params = sc_consensus_grandpa::GrandpaParams {
					config: grandpa_config,
					link: grandpa_link,
					network,
					sync: sync_service,
					notification_service: grandpa_notification_service
						.expect("the GRANDPA protocol is registered under Aura sealing; qed"),
					voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
					prometheus_registry,
					shared_voter_state: SharedVoterState::empty(),
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
				};
				// The GRANDPA voter is essential: if it fails, the node stops.
				task_manager.spawn_essential_handle().spawn_blocking(
					"grandpa-voter",
					None,
					sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
				);
			}
		},
		Sealing::Instant | Sealing::Manual | Sealing::Interval(_) => {
			let commands = seal_commands.clone().expect("a command channel exists; qed");
			match sealing {
				// A block (and its finality) for each transaction that enters the pool.
				Sealing::Instant => task_manager.spawn_handle().spawn(
					"instant-sealing",
					None,
					seal_and_finalize_on(
						transaction_pool.import_notification_stream(),
						false,
						commands,
					),
				),
				// A block (and its finality) at every tick.
				Sealing::Interval(millis) => {
					let ticks = tokio_stream_interval(Duration::from_millis(millis));
					task_manager.spawn_handle().spawn(
						"interval-sealing",
						None,
						seal_and_finalize_on(ticks, true, commands),
					)
				},
				// Blocks only from `engine_createBlock`.
				_ => {},
			}
			let params = sc_consensus_manual_seal::ManualSealParams {
				block_import: client.clone(),
				env: proposer_factory,
				client: client.clone(),
				pool: transaction_pool,
				commands_stream: seal_command_stream
					.expect("a command channel exists under development sealing; qed"),
				select_chain,
				consensus_data_provider: Some(Box::new(AuraConsensusDataProvider::new(
					client.clone(),
				))),
				create_inherent_data_providers: slot_timestamp_providers(client),
			};
			task_manager.spawn_essential_handle().spawn_blocking(
				"manual-seal",
				None,
				sc_consensus_manual_seal::run_manual_seal(params).boxed(),
			);
		},
	}

	Ok(task_manager)
}

/// A stream that yields every `period`, starting one period from now.
fn tokio_stream_interval(period: Duration) -> impl futures::Stream<Item = ()> + Send + Unpin {
	let now = tokio::time::Instant::now();
	let mut ticks = tokio::time::interval_at(now.checked_add(period).unwrap_or(now), period);
	Box::pin(futures::stream::poll_fn(move |context| ticks.poll_tick(context).map(|_| Some(()))))
}

/// How long after sealing a development block it is finalized.
const FINALITY_LAG: Duration = Duration::from_millis(100);

/// Seals a block whenever `triggers` yields, then finalizes it.
///
/// Sealing and finalizing are two steps (rather than importing blocks already final) so that
/// the transaction pool and clients see each transaction `InBlock` before `Finalized`.
async fn seal_and_finalize_on<T>(
	mut triggers: impl futures::Stream<Item = T> + Unpin,
	create_empty: bool,
	mut commands: mpsc::Sender<EngineCommand<sp_core::H256>>,
) {
	use futures::{channel::oneshot, StreamExt};
	while triggers.next().await.is_some() {
		let (created_sender, created) = oneshot::channel();
		let seal = EngineCommand::SealNewBlock {
			create_empty,
			finalize: false,
			parent_hash: None,
			sender: Some(created_sender),
		};
		if commands.send(seal).await.is_err() {
			return;
		}
		// An error here is an empty pool under instant sealing, or a failed proposal, which
		// manual seal has logged already.
		let Ok(Ok(block)) = created.await else { continue };
		// Let the transaction pool process the import (and report `InBlock`) before finality.
		tokio::time::sleep(FINALITY_LAG).await;
		let (finalized_sender, finalized) = oneshot::channel();
		let finalize = EngineCommand::FinalizeBlock {
			hash: block.hash,
			sender: Some(finalized_sender),
			justification: None,
		};
		if commands.send(finalize).await.is_err() {
			return;
		}
		let _ = finalized.await;
	}
}

/// Inherent data for development sealing: each block's timestamp is one Aura slot after its
/// parent's, so that blocks may come faster than the runtime's slot duration and the Aura
/// pallet still sees strictly increasing slots.
fn slot_timestamp_providers(
	client: Arc<FullClient>,
) -> impl Fn(
	sp_core::H256,
	(),
) -> futures::future::Ready<
	Result<SlotTimestampProvider, Box<dyn std::error::Error + Send + Sync>>,
> + Send
       + Sync
       + 'static {
	move |_, ()| {
		futures::future::ready(
			SlotTimestampProvider::new_aura(client.clone()).map_err(|error| error.into()),
		)
	}
}

/// Says, in words an operator can act on, when this validator's keystore holds none of the current
/// Aura or GRANDPA authorities' keys: such a node runs and follows the chain, but never authors a
/// block or votes, and nothing else would tell.
fn warn_without_authority_keys(client: &FullClient, keystore: &sp_keystore::KeystorePtr) {
	use sp_api::ProvideRuntimeApi;
	use sp_blockchain::HeaderBackend;
	use sp_consensus_aura::AuraApi;
	use sp_consensus_grandpa::GrandpaApi;
	use sp_core::crypto::{key_types, ByteArray};

	let best = client.info().best_hash;
	let api = client.runtime_api();
	if let Ok(authorities) = api.authorities(best) {
		let keys: Vec<_> =
			authorities.iter().map(|key| (key.to_raw_vec(), key_types::AURA)).collect();
		if !keys.iter().any(|key| keystore.has_keys(core::slice::from_ref(key))) {
			log::error!(
				"This node runs as a validator, but its keystore holds none of the {} current Aura \
				 authority keys: it will not author blocks. Insert the validator's key (`key insert \
				 --key-type aura`, or the author_insertKey RPC) or run it without --validator.",
				authorities.len()
			);
		}
	}
	if let Ok(authorities) = api.grandpa_authorities(best) {
		let keys: Vec<_> =
			authorities.iter().map(|(key, _)| (key.to_raw_vec(), key_types::GRANDPA)).collect();
		if !keys.iter().any(|key| keystore.has_keys(core::slice::from_ref(key))) {
			log::error!(
				"This node runs as a validator, but its keystore holds none of the {} current \
				 GRANDPA authority keys: it will not vote for finality. Insert the validator's key \
				 (`key insert --key-type gran --scheme ed25519`, or the author_insertKey RPC).",
				authorities.len()
			);
		}
	}
}
