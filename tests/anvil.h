/* anvil.h - a real local EVM node for tests: anvil from the npm package that
 * scripts/setup installs, on a free loopback port, stopped by PID. */
#ifndef XR_TEST_ANVIL_H
#define XR_TEST_ANVIL_H

#include <stddef.h>

/* "http://127.0.0.1:PORT" of the running node. */
extern char fx_anvil_url[64];

/* Starts anvil (chain id 31337) and waits until it listens. On failure
 * writes why into problem (anvil missing: how to install it) and returns -1.
 * Call from the runner process (an unchecked fixture or main) so that the
 * node is stopped even when a test's forked child dies; it also dies with
 * the process that started it. */
int fx_anvil_start(char *problem, size_t cap);
/* SIGTERM, then SIGKILL after 2 s; accepts a node that is not running. */
void fx_anvil_stop(void);

#endif
