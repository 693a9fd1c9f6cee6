/* daemon.c - xrelayd: runs the pipeline of one node until SIGTERM or SIGINT
 * (drain and exit 0; a second signal exits at once). */
#include "daemon.h"

#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

static sigset_t sigs;

/* After the first signal, waits for a second one and exits at once. */
static void *second_signal(void *arg)
{
	(void)arg;
	int sig;
	sigwait(&sigs, &sig);
	fprintf(stderr, "xrelayd: second signal %d: exiting now\n", sig);
	_exit(128 + sig);
}

int xr_daemon_run(const char *config_path)
{
	struct xr_err err = {0};
	struct xr_relay *r = NULL;
	char buf[4096];

	if (strlen(config_path) >= sizeof(buf)) {
		fprintf(stderr, "xrelayd: config path is too long\n");
		return 2;
	}
	/* The node directory is the config file's folder. */
	memcpy(buf, config_path, strlen(config_path) + 1);
	const char *dir = dirname(buf);
	const char *base = strrchr(config_path, '/');
	if (strcmp(base ? base + 1 : config_path, "relay.json") != 0) {
		fprintf(stderr,
			"xrelayd: the config must be a node's relay.json (made by xrelay "
			"init), got '%s'\n",
			config_path);
		return 2;
	}

	/* Every thread inherits blocked signals; this one takes them in turn. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (xr_relay_open(dir, &r, &err) < 0 || xr_relay_start(r, &err) < 0) {
		fprintf(stderr, "xrelayd: %s\n", err.msg);
		xr_relay_free(r);
		return 1;
	}
	fprintf(stderr, "xrelayd: running node in %s (pid %d)\n", dir, (int)getpid());
	for (;;) {
		struct timespec ts = {0, 250 * 1000000L};
		siginfo_t si;
		int sig = sigtimedwait(&sigs, &si, &ts);
		if (sig > 0) {
			fprintf(stderr, "xrelayd: signal %d: draining\n", sig);
			break;
		}
		struct xr_err terr = {0};
		if (xr_relay_tick(r, &terr) < 0)
			fprintf(stderr, "xrelayd: %s\n", terr.msg);
	}
	pthread_t th;
	pthread_create(&th, NULL, second_signal, NULL);
	pthread_detach(th);
	xr_relay_free(r);
	fprintf(stderr, "xrelayd: stopped\n");
	return 0;
}
