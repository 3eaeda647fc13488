/*
 * chorusd --check: the loaded file against the running corosync.
 *
 * The loader has accepted the file; what only corosync can tell is checked
 * here when corosync answers: the failure timing derived from its effective
 * token and consensus (a heartbeat or liveness that does not fit is refused
 * at start and by reload, so --check refuses it too), and whether the file
 * agrees with corosync's nodelist.  cmap's calls block for ever on a
 * stopped corosync, so they run in a child that gets CHECK_PROBE_MS.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapters/cluster.h"
#include "adapters/conf.h"
#include "core/timing.h"
#include "daemon/daemon.h"

#define CHECK_PROBE_MS 3000
#define CHECK_OK 0
#define CHECK_BAD_CONFIG 78	/* EX_CONFIG, as chorusd's other config errors */

/* The probe in a child: 0 and '*p' filled, -ENOTCONN (no corosync), or
 * -ETIMEDOUT (it did not answer in time). */
static int probe_bounded(struct cluster_probe *p)
{
	int fds[2], status;
	pid_t pid;
	struct pollfd pfd;
	size_t got = 0;
	int rc = -ENOTCONN;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		struct cluster_probe cp;
		ssize_t w = 0;

		close(fds[0]);
		if (cluster_probe(&cp) == 0)
			w = write(fds[1], &cp, sizeof(cp));
		_exit(w == (ssize_t)sizeof(cp) ? 0 : 1);
	}
	close(fds[1]);
	pfd = (struct pollfd){.fd = fds[0], .events = POLLIN};
	for (;;) {
		int n = poll(&pfd, 1, CHECK_PROBE_MS);

		if (n == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		{
			ssize_t r = read(fds[0], (char *)p + got, sizeof(*p) - got);

			if (r <= 0)
				break;
			got += (size_t)r;
			if (got == sizeof(*p)) {
				rc = 0;
				break;
			}
		}
	}
	close(fds[0]);
	if (rc == -ETIMEDOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

int daemon_check_corosync(const char *path, const struct chorus_conf *c)
{
	struct cluster_probe p;
	struct timing t;
	char err[512], warn[512];
	int rc = probe_bounded(&p);

	if (rc == -ETIMEDOUT) {
		printf("chorusd: %s: corosync did not answer within %d ms (stopped or wedged?): "
		       "timing not checked against it\n", path, CHECK_PROBE_MS);
		return CHECK_OK;
	}
	if (rc < 0) {
		printf("chorusd: %s: corosync not running here: timing not checked against it\n",
		       path);
		return CHECK_OK;
	}
	if (daemon_timing_for(c, p.token_ms, p.consensus_ms, &t, err, sizeof(err), warn,
			      sizeof(warn)) < 0) {
		fprintf(stderr, "chorusd: %s: %s (corosync's token is %u ms, consensus %u ms)\n",
			path, err, p.token_ms, p.consensus_ms);
		return CHECK_BAD_CONFIG;
	}
	if (warn[0])
		fprintf(stderr, "chorusd: %s: warning: %s\n", path, warn);
	printf("chorusd: %s: fits the running corosync: token %u ms, consensus %u ms, %zu nodes "
	       "in its nodelist; heartbeat %u ms, quiet limit %u ms, address lifetime %u s\n", path,
	       p.token_ms, p.consensus_ms, p.n_ids, t.heartbeat_ms, t.quiet_limit_ms, t.lifetime_s);
	return CHECK_OK;
}
