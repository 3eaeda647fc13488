/*
 * Hostile control-socket clients, for tests/integration/control-hostile.sh
 * and tests/bench/control.sh: they hold connections the way a broken or
 * malicious local user would, and reconnect whenever the daemon lets go.
 *
 *   idle       connects and says nothing
 *   trickle    sends one byte of a request a second and never ends the line
 *   garbage    writes malformed lines (random bytes, bad JSON, unknown keys,
 *              over-long lines) as fast as the socket takes them, and reads
 *              and discards the answers so that it is never dropped as a
 *              slow reader
 *   subscribe  asks for the event stream, then never reads another byte
 *
 * One poll loop per process, so the numbers measure the daemon.  With
 * -u FIRST -k K (as root) the clients are spread over K processes running
 * as uids FIRST..FIRST+K-1 with group -g GID (primary and supplementary),
 * which is how a per-uid limit is put to the test.  Counters live in shared
 * memory so that the parent can sum them.
 *
 * usage: control_hostile SOCKET SECONDS [-n idle=N,trickle=N,garbage=N,subscribe=N]
 *                        [-u FIRST -k K -g GID] [-r RECONNECT_MS]
 * prints: hostile procs=K clients=N connects=N refused=N closed=N garbage_bytes=N
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 4096
#define MAXPROC 256

enum kind { K_IDLE, K_TRICKLE, K_GARBAGE, K_SUBSCRIBE, K_N };
static const char *const kind_names[K_N] = {"idle", "trickle", "garbage", "subscribe"};

struct counters {
	atomic_ulong connects, refused, closed, garbage_bytes;
};

struct client {
	enum kind kind;
	int fd;
	uint64_t next_ms;		/* reconnect (fd < 0) or next trickle byte */
	unsigned trickled;
	bool refused;
};

static struct counters *cnt;
static const char *sock_path;
static unsigned reconnect_ms = 50;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void client_open(struct client *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	static const char sub[] = "{\"cmd\":\"events\",\"args\":{\"follow\":true}}\n";

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto retry;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(c->fd);
		c->fd = -1;
		goto retry;
	}
	atomic_fetch_add(&cnt->connects, 1);
	c->refused = false;
	c->trickled = 0;
	c->next_ms = now_ms() + 1000;
	if (c->kind == K_SUBSCRIBE && send(c->fd, sub, sizeof(sub) - 1, MSG_NOSIGNAL) < 0) {
		close(c->fd);
		c->fd = -1;
		goto retry;
	}
	return;
retry:
	c->next_ms = now_ms() + reconnect_ms;
}

static void client_lost(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	atomic_fetch_add(c->refused ? &cnt->refused : &cnt->closed, 1);
	c->next_ms = now_ms() + reconnect_ms;
}

/* Bytes no parser wants: random binary, broken JSON, valid JSON with the
 * wrong shape, and now and then a line longer than any request may be. */
static size_t garbage_fill(char *buf, size_t size)
{
	static const char *const lines[] = {
		"{\"cmd\":\"status\"\n", "{\"cmd\":42}\n", "[1,2,3]\n", "\n",
		"{\"cmd\":\"status\",\"x\":1}\n", "{\"v\":9,\"cmd\":\"status\"}\n",
		"{\"cmd\":\"st\xc0\xaf\"}\n", "{\"id\":\"\xed\xa0\x80\",\"cmd\":\"nodes\"}\n",
		"null\n", "{\"cmd\":\"status\"}{\"cmd\":\"status\"}\n",
	};
	size_t off = 0, n, i;

	while (off < size) {
		uint64_t r = next_rand();

		if (r % 4 == 0) {
			n = 1 + r % 120;
			if (n > size - off)
				n = size - off;
			for (i = 0; i < n; i++)
				buf[off + i] = (char)(next_rand() & 0xff);
			off += n;
			if (off < size)
				buf[off++] = '\n';
		} else if (r % 997 == 1) {
			n = size - off;	/* no newline: works toward an over-long line */
			memset(buf + off, 'x', n);
			off += n;
		} else {
			const char *l = lines[r % (sizeof(lines) / sizeof(lines[0]))];

			n = strlen(l);
			if (n > size - off)
				break;
			memcpy(buf + off, l, n);
			off += n;
		}
	}
	return off;
}

static void run_clients(const unsigned counts[K_N], unsigned seconds)
{
	static struct client cl[MAXC];
	static struct pollfd pfd[MAXC];
	static char buf[65536];
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	unsigned n = 0, i, k;

	for (k = 0; k < K_N; k++)
		for (i = 0; i < counts[k] && n < MAXC; i++) {
			cl[n].kind = (enum kind)k;
			cl[n].fd = -1;
			n++;
		}
	for (i = 0; i < n; i++)
		client_open(&cl[i]);
	while (now_ms() < end) {
		uint64_t t = now_ms();
		int timeout = 100;

		for (i = 0; i < n; i++) {
			struct client *c = &cl[i];

			pfd[i].fd = c->fd;
			pfd[i].events = 0;
			pfd[i].revents = 0;
			if (c->fd < 0) {
				if (c->next_ms <= t)
					client_open(c);
				pfd[i].fd = c->fd;
				if (c->fd < 0)
					continue;
			}
			/* A subscriber never reads: it only notices the end. */
			pfd[i].events = c->kind == K_SUBSCRIBE ? POLLRDHUP : POLLIN;
			if (c->kind == K_GARBAGE)
				pfd[i].events |= POLLOUT;
			if (c->kind == K_TRICKLE && c->next_ms <= t) {
				static const char req[] = "{\"id\":\"";

				char b = c->trickled < sizeof(req) - 1 ? req[c->trickled] : 'a';

				if (send(c->fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					c->trickled++;
				c->next_ms = t + 1000;
			}
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct client *c = &cl[i];
			ssize_t r;

			if (c->fd < 0 || pfd[i].revents == 0)
				continue;
			if (c->kind == K_SUBSCRIBE) {
				if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR))
					client_lost(c);
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				r = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
				if (r > 0) {
					buf[r] = '\0';
					if (strstr(buf, "\"busy\"") || strstr(buf, "permission_denied"))
						c->refused = true;
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					client_lost(c);
					continue;
				}
			}
			if (c->kind == K_GARBAGE && (pfd[i].revents & POLLOUT)) {
				size_t len = garbage_fill(buf, 4096);

				r = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (r > 0)
					atomic_fetch_add(&cnt->garbage_bytes, (unsigned long)r);
				else if (r < 0 && errno != EAGAIN && errno != EINTR)
					client_lost(c);
			}
		}
	}
	for (i = 0; i < n; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
}

static int parse_counts(char *s, unsigned counts[K_N])
{
	char *tok, *save = NULL, *eq;
	unsigned k;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (eq == NULL)
			return -1;
		*eq = '\0';
		for (k = 0; k < K_N && strcmp(tok, kind_names[k]) != 0; k++)
			;
		if (k == K_N)
			return -1;
		counts[k] = (unsigned)strtoul(eq + 1, NULL, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned counts[K_N] = {50, 50, 50, 50}, share[K_N], seconds, nproc = 1, k, p, total = 0;
	pid_t pids[MAXPROC];
	long first_uid = -1;
	gid_t gid = (gid_t)-1;
	int opt;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SOCKET SECONDS [-n idle=N,trickle=N,garbage=N,subscribe=N]"
				" [-u FIRST_UID -k PROCS -g GID] [-r RECONNECT_MS]\n", argv[0]);
		return 2;
	}
	sock_path = argv[1];
	seconds = (unsigned)strtoul(argv[2], NULL, 10);
	optind = 3;
	while ((opt = getopt(argc, argv, "n:u:k:g:r:")) != -1) {
		switch (opt) {
		case 'n':
			memset(counts, 0, sizeof(counts));
			if (parse_counts(optarg, counts) != 0)
				return 2;
			break;
		case 'u': first_uid = strtol(optarg, NULL, 10); break;
		case 'k': nproc = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'g': gid = (gid_t)strtoul(optarg, NULL, 10); break;
		case 'r': reconnect_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (nproc < 1 || nproc > MAXPROC || seconds < 1)
		return 2;
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < K_N; k++)
		total += counts[k];
	for (p = 0; p < nproc; p++) {
		/* Spread every kind over the processes, remainders to the first. */
		for (k = 0; k < K_N; k++)
			share[k] = counts[k] / nproc + (p < counts[k] % nproc);
		pids[p] = fork();
		if (pids[p] < 0)
			return 1;
		if (pids[p] == 0) {
			rng ^= (uint64_t)(p + 1) * 0x2545f4914f6cdd1dull;
			if (first_uid >= 0) {
				gid_t g = gid;

				if (gid != (gid_t)-1 && (setgroups(1, &g) != 0 || setgid(g) != 0))
					_exit(3);
				if (setuid((uid_t)(first_uid + p)) != 0)
					_exit(3);
			}
			/* Go with the parent, however it ends (set after the
			 * uid change, which clears it). */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
				_exit(4);
			run_clients(share, seconds);
			_exit(0);
		}
	}
	for (p = 0; p < nproc; p++) {
		int st;

		while (waitpid(pids[p], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "control_hostile: process %u failed\n", p);
			return 1;
		}
	}
	printf("hostile procs=%u clients=%u connects=%lu refused=%lu closed=%lu garbage_bytes=%lu\n",
	       nproc, total, atomic_load(&cnt->connects), atomic_load(&cnt->refused),
	       atomic_load(&cnt->closed), atomic_load(&cnt->garbage_bytes));
	return 0;
}
