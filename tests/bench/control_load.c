/*
 * Control-socket load generator: C concurrent clients, each sending
 * {"cmd":"status"} requests back to back over its own connection for a
 * fixed time, timing every round trip with CLOCK_MONOTONIC.  One process,
 * one poll loop, so the numbers measure the daemon, not process start-up.
 *
 * usage: control_load SOCKET [CLIENTS] [SECONDS] [CMD]
 * prints: control clients=C requests=N p50_us=X p99_us=Y max_us=Z errors=E
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAXC 64
#define BUF (8 * 1024 * 1024)

struct client {
	int fd;
	char *buf;
	size_t len;
	uint64_t sent_ns;
	unsigned long seq;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int send_req(struct client *c, const char *cmd)
{
	char req[128];
	int n = snprintf(req, sizeof(req), "{\"v\":1,\"id\":\"%lu\",\"cmd\":\"%s\"}\n", ++c->seq, cmd);

	c->sent_ns = now_ns();
	return write(c->fd, req, (size_t)n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/run/chorus/chorusd.sock";
	int nc = argc > 2 ? atoi(argv[2]) : 4;
	int secs = argc > 3 ? atoi(argv[3]) : 10;
	const char *cmd = argc > 4 ? argv[4] : "status";
	struct client cl[MAXC];
	struct pollfd pf[MAXC];
	size_t cap = 1 << 20, n = 0;
	uint64_t *lat = malloc(cap * sizeof(*lat)), end;
	unsigned long errors = 0;

	if (nc < 1 || nc > MAXC || secs < 1 || lat == NULL) {
		fprintf(stderr, "usage: control_load SOCKET [CLIENTS<=64] [SECONDS] [CMD]\n");
		return 2;
	}
	for (int i = 0; i < nc; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		cl[i] = (struct client){.fd = socket(AF_UNIX, SOCK_STREAM, 0), .buf = malloc(BUF)};
		if (cl[i].fd < 0 || cl[i].buf == NULL ||
		    connect(cl[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("connect");
			return 3;
		}
		if (send_req(&cl[i], cmd) < 0)
			return 3;
		pf[i] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
	}
	end = now_ns() + (uint64_t)secs * 1000000000ull;
	while (now_ns() < end) {
		int r = poll(pf, (nfds_t)nc, 1000);

		if (r < 0 && errno != EINTR)
			return 3;
		for (int i = 0; i < nc; i++) {
			struct client *c = &cl[i];
			ssize_t got;
			char *nl;

			if (!(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			got = read(c->fd, c->buf + c->len, BUF - c->len - 1);
			if (got <= 0) {
				fprintf(stderr, "client %d: connection closed\n", i);
				return 3;
			}
			c->len += (size_t)got;
			while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
				size_t line = (size_t)(nl - c->buf) + 1;

				if (n == cap) {
					cap *= 2;
					lat = realloc(lat, cap * sizeof(*lat));
					if (lat == NULL)
						return 3;
				}
				lat[n++] = now_ns() - c->sent_ns;
				if (memmem(c->buf, line, "\"ok\":true", 9) == NULL)
					errors++;
				memmove(c->buf, c->buf + line, c->len - line);
				c->len -= line;
				if (send_req(c, cmd) < 0)
					return 3;
			}
		}
	}
	if (n == 0) {
		fprintf(stderr, "no replies\n");
		return 1;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("control clients=%d requests=%zu p50_us=%llu p99_us=%llu max_us=%llu errors=%lu\n",
	       nc, n, (unsigned long long)(lat[n / 2] / 1000),
	       (unsigned long long)(lat[(n * 99) / 100] / 1000),
	       (unsigned long long)(lat[n - 1] / 1000), errors);
	return errors ? 1 : 0;
}
