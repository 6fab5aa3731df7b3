# shellcheck shell=bash
# Sourced by scripts/governance and scripts/scenario (after common.sh): makes sure Node.js and npm
# are installed (from Debian's packages, only when missing) and that scripts/polkadot-js has its
# pinned dependencies (npm ci from package-lock.json, only when node_modules is missing or older
# than the lock file). Safe to run every time.

PJS_DIR="$REPO_ROOT/scripts/polkadot-js"

ensure_polkadot_js() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		log "installing Node.js and npm (Debian packages)"
		as_root apt-get update
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
	fi
	local major
	major="$(node -p 'process.versions.node.split(".")[0]')"
	[ "$major" -ge 18 ] || die "Node.js $(node --version) is too old: scripts/polkadot-js needs Node.js 18 or newer"

	local stamp="$PJS_DIR/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$PJS_DIR/package-lock.json" -nt "$stamp" ]; then
		log "installing the Polkadot.js dependencies (npm ci in scripts/polkadot-js)"
		(cd "$PJS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
