/* main.c - xrelay, the command line for deployers, dapps and auditors. */
#include "json_budget.h"
#include "cli.h"

static const struct xr_cmd cmds[] = {
    {"init", cmd_init, "create a node directory: keys, config, committee, genesis ledger"},
    {"run", cmd_run, "run the relay in the foreground (as xrelayd)"},
    {"status", cmd_status, "per-chain progress and the ledger, also while running"},
    {"envelopes", cmd_envelopes, "list committed envelopes"},
    {"envelope", cmd_envelope, "encode, decode or hash an envelope (JSON <-> hex)"},
    {"ledger", cmd_ledger, "append, checkpoint, show, audit and prove consistency"},
    {"evm", cmd_evm, "deploy the bridge contract and send transfers (EVM chains)"},
    {"proof", cmd_proof, "print the proof bundle of a record"},
    {"verify", cmd_verify, "verify a proof bundle offline against committee keys"},
    {"verify-consistency", cmd_verify_consistency,
     "verify that a newer checkpoint extends an older one"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	xr_json_budget_install(); /* before any other jansson call */
	return xr_cli_dispatch("xrelay", cmds, argc, argv);
}
