/* xrelayd.c - the relay daemon's entry point. */
#include "json_budget.h"
#include <stdio.h>
#include <string.h>

#include "daemon.h"

int main(int argc, char **argv)
{
	xr_json_budget_install(); /* before any other jansson call */
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: xrelayd -c NODE_DIR/relay.json\n\nWatches the node's chains and "
		       "commits what they emit to its ledger.\nSIGTERM or SIGINT drain and exit "
		       "0; a second signal exits at once.\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "-c") != 0) {
		fprintf(stderr, "usage: xrelayd -c NODE_DIR/relay.json\n");
		return 2;
	}
	return xr_daemon_run(argv[2]);
}
