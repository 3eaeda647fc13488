#include "core/res.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int res_addr_parse(const char *text, struct res_addr *out)
{
	char ip[CHORUS_ADDR_STRLEN];
	const char *slash;
	char *end = NULL;
	unsigned long prefix;
	size_t len;

	if (text == NULL || out == NULL)
		return -EINVAL;
	slash = strchr(text, '/');
	if (slash == NULL)
		return -EINVAL;
	len = (size_t)(slash - text);
	if (len == 0 || len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text, len);
	ip[len] = '\0';
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno != 0 || end == NULL || *end != '\0')
		return -EINVAL;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, out->bytes) == 1) {
		if (prefix > 32)
			return -EINVAL;
		out->family = 4;
	} else if (inet_pton(AF_INET6, ip, out->bytes) == 1) {
		if (prefix > 128)
			return -EINVAL;
		out->family = 6;
	} else {
		return -EINVAL;
	}
	out->prefix = (uint8_t)prefix;
	return 0;
}

void res_addr_format_ip(const struct res_addr *a, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (a->family != 4 && a->family != 6) {
		snprintf(buf, size, "?");
		return;
	}
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, buf,
		      (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

void res_addr_format(const struct res_addr *a, char *buf, size_t size)
{
	char ip[CHORUS_ADDR_STRLEN];

	res_addr_format_ip(a, ip, sizeof(ip));
	snprintf(buf, size, "%s/%u", ip, a->prefix);
}

struct ranked_ref {
	const struct res_addr *addr;
	size_t rank;
};

static int ranked_ref_cmp(const void *pa, const void *pb)
{
	const struct ranked_ref *a = pa, *b = pb;
	int d = res_addr_cmp(a->addr, b->addr);

	if (d != 0)
		return d;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

long res_addr_sort_unique(void *base, size_t n, size_t size, size_t off)
{
	unsigned char *b = base, *out;
	struct ranked_ref *r;
	size_t w = 0;

	if (n < 2)
		return (long)n;
	r = malloc(n * sizeof(*r));
	out = malloc(n * size);
	if (r == NULL || out == NULL) {
		free(r);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		r[i] = (struct ranked_ref){(const struct res_addr *)(const void *)(b + i * size + off),
					   i};
	/* qsort is not stable: the rank breaks ties, so the first one wins */
	qsort(r, n, sizeof(*r), ranked_ref_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || res_addr_cmp(r[i - 1].addr, r[i].addr) != 0)
			memcpy(out + w++ * size, b + r[i].rank * size, size);
	memcpy(b, out, w * size);
	free(out);
	free(r);
	return (long)w;
}

long res_addr_search(const void *base, size_t n, size_t size, size_t off,
		     const struct res_addr *key)
{
	const unsigned char *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int k = res_addr_cmp((const struct res_addr *)(const void *)(b + mid * size + off), key);

		if (k == 0)
			return (long)mid;
		if (k < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}
