/* anvil.c - starts and stops a real anvil node for the tests. */
#include "anvil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANVIL_REL "/.tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

char fx_anvil_url[64];
static pid_t anvil_pid = -1;

/* A port nobody listens on now (anvil cannot report one it picked itself). */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

int fx_anvil_start(char *problem, size_t cap)
{
	const char *src = getenv("XR_SOURCE");
	char path[PATH_MAX], port_s[16];
	int status, port = free_port();
	pid_t parent = getpid();

	snprintf(path, sizeof(path), "%s%s", src ? src : ".", ANVIL_REL);
	if (access(path, X_OK) != 0) {
		snprintf(problem, cap,
			 "anvil not found at %s (XR_SOURCE=%s): run ./scripts/setup --no-build",
			 path, src ? src : "unset");
		return -1;
	}
	if (port < 0) {
		snprintf(problem, cap, "no free loopback port: %s", strerror(errno));
		return -1;
	}
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(fx_anvil_url, sizeof(fx_anvil_url), "http://127.0.0.1:%d", port);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(problem, cap, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Dies with the runner, even if the runner is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		execl(path, "anvil", "--host", "127.0.0.1", "--port", port_s, "--silent",
		      (char *)NULL);
		_exit(127);
	}
	anvil_pid = pid;
	for (int i = 0; i < 600; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			anvil_pid = -1;
			snprintf(problem, cap, "anvil %s exited early with status %d", path,
				 WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
			return -1;
		}
		if (port_open(port))
			return 0;
		struct timespec ts = {0, 50000000};
		nanosleep(&ts, NULL);
	}
	snprintf(problem, cap, "anvil did not listen on %s in 30 s", fx_anvil_url);
	fx_anvil_stop();
	return -1;
}

void fx_anvil_stop(void)
{
	int status;
	if (anvil_pid <= 0)
		return;
	kill(anvil_pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(anvil_pid, &status, WNOHANG) == anvil_pid) {
			anvil_pid = -1;
			return;
		}
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	kill(anvil_pid, SIGKILL);
	waitpid(anvil_pid, &status, 0);
	anvil_pid = -1;
}
