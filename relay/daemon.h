/* daemon.h - the relay process: `xrelayd -c relay.json`, `xrelay run -c`. */
#ifndef XR_DAEMON_H
#define XR_DAEMON_H

/* Runs until SIGTERM or SIGINT; returns the process exit code. */
int xr_daemon_run(const char *config_path);

#endif
