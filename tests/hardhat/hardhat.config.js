// tests/hardhat/hardhat.config.js - the minimal Hardhat 2 project that
// tests/hardhat_lib.sh runs `hardhat node` with (--config this file). It only
// configures the in-process "hardhat" network (EDR); nothing is compiled, so
// no solc is ever downloaded. Every folder Hardhat may write (cache,
// artifacts) lives under XR_HARDHAT_DIR, a scratch folder the caller made,
// never in the repo.
//   XR_HARDHAT_DIR       scratch folder (required)
//   XR_HARDHAT_CHAIN_ID  chain id (default 31337)
//   XR_HARDHAT_HARDFORK  hardfork name (default: Hardhat's own, osaka in 2.29)
//   XR_HARDHAT_LOGGING   1: log every JSON-RPC call to the node's stdout
//                        (`hardhat node` does by default; here it is off, as
//                        anvil's --silent)
const path = require("path");

const dir = process.env.XR_HARDHAT_DIR;
if (!dir || !path.isAbsolute(dir)) {
	throw new Error("XR_HARDHAT_DIR must be an absolute scratch folder");
}

const hardhat = {
	chainId: Number(process.env.XR_HARDHAT_CHAIN_ID || 31337),
	loggingEnabled: process.env.XR_HARDHAT_LOGGING === "1",
};
if (process.env.XR_HARDHAT_HARDFORK) hardhat.hardfork = process.env.XR_HARDHAT_HARDFORK;

module.exports = {
	defaultNetwork: "hardhat",
	networks: { hardhat },
	paths: {
		root: dir,
		sources: path.join(dir, "contracts"),
		tests: path.join(dir, "test"),
		cache: path.join(dir, "cache"),
		artifacts: path.join(dir, "artifacts"),
	},
};
