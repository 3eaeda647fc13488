/*
 * Golden placement scenarios: each tests/scenarios/place/NNN-what.in holds an
 * input, and NNN-what.out the output place_run() must produce.  Every
 * balancing bug fixed adds one.
 *
 * Each scenario runs twice: with placement version 2 against NNN-what.out,
 * and with version 1 (place_v1.c, what mixed-version clusters still run)
 * against NNN-what.v1.out, or NNN-what.out when there is none because both
 * agree.  A scenario pinning a bug of version 1 thus shows the wrong answer
 * it gave in its .v1.out, next to the right one.
 *
 * Usage:  place_golden [DIR]        run every *.in of DIR (default:
 *                                   $srcdir/tests/scenarios/place, the test
 *                                   harness exports srcdir)
 *         place_golden -p FILE.in   print the output for one scenario, to
 *                                   write a new .out (check it by hand!)
 *         place_golden -p1 FILE.in  the same with placement version 1
 *
 * Input format, one directive per line, '#' starts a comment:
 *
 *   nodes N                     slots 0..N-1
 *   pools P
 *   class [SLOT...]             one line per class, numbered from 0 in order;
 *                               no slots means an empty class
 *   rebalance yes|no            default no
 *   no_receive [SLOT...]
 *   res POOL CLASS PREV [pin=SLOT] [fixed] [noload] [w=WEIGHT] [c=CONNS] [s=SET] [xCOUNT]
 *                               one resource (or COUNT identical ones), indexed
 *                               from 0 in order; PREV and pin are a slot or
 *                               '-' for PLACE_NONE.  Values are not range
 *                               checked here so bad input reaches place_run.
 *   margin PCT                  load_margin_pct (rule 7)
 *   budget N                    load_budget (rule 7)
 *   rounds N NOISE SEED         run place_run N times, each time from the
 *                               previous result, with every weight scaled by
 *                               a pseudo-random factor in [100-NOISE,
 *                               100+NOISE] percent (xorshift from SEED): a
 *                               load that jitters must not make addresses
 *                               oscillate.  The output is the last round's,
 *                               plus a "rounds" line.
 *
 * Output format (comments and blank lines are ignored when comparing):
 *
 *   result RC                   place_run's return value (-22 = -EINVAL);
 *                               nothing else follows unless RC is 0
 *   owner I SLOT|-              one per resource
 *   node SLOT pool0=K ... total=T
 *   stats moves=M placed=P unplaced=U
 *   load SLOT=L ...             per-node weight sums, only with weights
 *   spread fixes=F collisions=C with sets: rule 8's moves and swaps, and the
 *                               pairs of one set left on one node
 *   again moves=M               the output placed again as prev (same input
 *                               otherwise, no load budget): 0 is idempotent
 *   rounds moves=M oscillations=O   with 'rounds': total moves over all
 *                               rounds after the first, and how many of them
 *                               took a resource back to a node it had left
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/place.h"

#define MAX_CLASSES 64
#define MAX_RES 100000
#define LINE_MAX_LEN 1024

struct scenario {
	struct place_in in;
	uint32_t rounds, noise;
	uint64_t seed;
	struct place_bits classes[MAX_CLASSES];
	struct place_res *res;
	uint32_t cap;
};

static int parse_slot(const char *tok, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (strcmp(tok, "-") == 0) {
		*out = PLACE_NONE;
		return 0;
	}
	v = strtoul(tok, &end, 10);
	if (*tok == '\0' || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_bits(char *rest, struct place_bits *b)
{
	char *tok, *save = NULL;

	memset(b, 0, sizeof(*b));
	for (tok = strtok_r(rest, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		uint32_t s;

		if (parse_slot(tok, &s) < 0 || s >= CHORUS_MAX_NODES)
			return -1;
		place_bits_set(b, s);
	}
	return 0;
}

static int parse_res(struct scenario *sc, char *rest)
{
	struct place_res r = {.pin = PLACE_NONE};
	char *tok, *save = NULL;
	uint32_t count = 1, field = 0;

	for (tok = strtok_r(rest, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (strncmp(tok, "pin=", 4) == 0) {
			if (parse_slot(tok + 4, &r.pin) < 0)
				return -1;
		} else if (strncmp(tok, "w=", 2) == 0) {
			if (parse_slot(tok + 2, &r.weight) < 0)
				return -1;
		} else if (strncmp(tok, "c=", 2) == 0) {
			if (parse_slot(tok + 2, &r.conns) < 0)
				return -1;
		} else if (strncmp(tok, "s=", 2) == 0) {
			if (parse_slot(tok + 2, &r.set) < 0)
				return -1;
		} else if (strcmp(tok, "fixed") == 0) {
			r.flags |= PLACE_F_FIXED;
		} else if (strcmp(tok, "noload") == 0) {
			r.flags |= PLACE_F_NO_LOAD_MOVE;
		} else if (tok[0] == 'x') {
			if (parse_slot(tok + 1, &count) < 0 || count == PLACE_NONE)
				return -1;
		} else {
			uint32_t *dst = field == 0 ? &r.pool : field == 1 ? &r.elig_class : &r.prev;

			if (field > 2 || parse_slot(tok, dst) < 0)
				return -1;
			field++;
		}
	}
	if (field != 3 || sc->in.n_res + count > MAX_RES)
		return -1;
	if (sc->in.n_res + count > sc->cap) {
		struct place_res *n;

		sc->cap = sc->in.n_res + count + 64;
		n = realloc(sc->res, sc->cap * sizeof(*n));
		if (n == NULL)
			return -1;
		sc->res = n;
	}
	while (count--)
		sc->res[sc->in.n_res++] = r;
	return 0;
}

static char *strip(char *line)
{
	char *hash = strchr(line, '#');
	size_t len;

	if (hash)
		*hash = '\0';
	len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\n' ||
			   line[len - 1] == '\r'))
		line[--len] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* Returns 0, or -1 with the offending line number in '*lineno'. */
static int load_scenario(const char *path, struct scenario *sc, int *lineno)
{
	char buf[LINE_MAX_LEN];
	FILE *f = fopen(path, "r");
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	sc->in.classes = sc->classes;
	*lineno = 0;
	if (f == NULL)
		return -1;
	while (rc == 0 && fgets(buf, sizeof(buf), f)) {
		char *line = strip(buf), *rest;
		uint32_t v;

		++*lineno;
		if (*line == '\0')
			continue;
		rest = line + strcspn(line, " \t");
		if (*rest)
			*rest++ = '\0';
		if (strcmp(line, "nodes") == 0 || strcmp(line, "pools") == 0) {
			if (parse_slot(strip(rest), &v) < 0)
				rc = -1;
			else if (line[0] == 'n')
				sc->in.n_nodes = v;
			else
				sc->in.n_pools = v;
		} else if (strcmp(line, "class") == 0) {
			if (sc->in.n_classes == MAX_CLASSES ||
			    parse_bits(rest, &sc->classes[sc->in.n_classes]) < 0)
				rc = -1;
			else
				sc->in.n_classes++;
		} else if (strcmp(line, "rebalance") == 0) {
			rest = strip(rest);
			if (strcmp(rest, "yes") != 0 && strcmp(rest, "no") != 0)
				rc = -1;
			sc->in.rebalance = strcmp(rest, "yes") == 0;
		} else if (strcmp(line, "margin") == 0) {
			rc = parse_slot(strip(rest), &sc->in.load_margin_pct);
		} else if (strcmp(line, "budget") == 0) {
			rc = parse_slot(strip(rest), &sc->in.load_budget);
		} else if (strcmp(line, "rounds") == 0) {
			unsigned long long seed;

			if (sscanf(rest, "%u %u %llu", &sc->rounds, &sc->noise, &seed) != 3 ||
			    sc->noise > 100)
				rc = -1;
			sc->seed = seed ? seed : 1;
		} else if (strcmp(line, "no_receive") == 0) {
			rc = parse_bits(rest, &sc->in.no_receive);
		} else if (strcmp(line, "res") == 0) {
			rc = parse_res(sc, rest);
		} else {
			rc = -1;
		}
	}
	fclose(f);
	sc->in.res = sc->res;
	return rc;
}

static void append(char **out, size_t *len, size_t *size, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*out + *len, *size - *len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < *size - *len)
			break;
		*size = 2 * *size + (size_t)n;
		*out = realloc(*out, *size);
		assert_non_null(*out);
	}
	*len += (size_t)n;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The 'rounds' directive: round after round from the previous result with
 * jittered weights.  'left[i]' remembers the slot resource i last left, so
 * a move back there counts as an oscillation. */
static int run_rounds(const struct scenario *sc, uint32_t *owner, struct place_stats *st,
		      uint32_t *moves, uint32_t *osc)
{
	struct place_in in = sc->in;
	struct place_res *res = calloc(sc->in.n_res + 1, sizeof(*res));
	uint32_t *left = calloc(sc->in.n_res + 1, sizeof(*left));
	uint64_t x = sc->seed;
	int rc = 0;

	assert_non_null(res);
	assert_non_null(left);
	memcpy(res, sc->in.res, sc->in.n_res * sizeof(*res));
	in.res = res;
	for (uint32_t i = 0; i < sc->in.n_res; i++)
		left[i] = PLACE_NONE;
	for (uint32_t round = 0; rc == 0 && round < (sc->rounds ? sc->rounds : 1); round++) {
		for (uint32_t i = 0; round > 0 && i < sc->in.n_res; i++) {
			uint64_t f = 100 - sc->noise + xorshift(&x) % (2 * sc->noise + 1);

			res[i].weight = (uint32_t)(sc->in.res[i].weight * f / 100);
		}
		rc = place_run(&in, owner, st);
		for (uint32_t i = 0; rc == 0 && i < sc->in.n_res; i++) {
			if (owner[i] == res[i].prev || res[i].prev == PLACE_NONE)
				goto next;
			if (round > 0)
				(*moves)++;
			if (round > 0 && owner[i] == left[i])
				(*osc)++;
			left[i] = res[i].prev;
next:
			res[i].prev = owner[i];
		}
	}
	free(res);
	free(left);
	return rc;
}

/* Place 'owner' again from itself: how many move (idempotence). */
static uint32_t again(const struct place_in *in0, const uint32_t *owner)
{
	struct place_in in = *in0;
	struct place_res *res = calloc(in.n_res + 1, sizeof(*res));
	uint32_t *o2 = calloc(in.n_res + 1, sizeof(*o2));
	struct place_stats st;

	assert_non_null(res);
	assert_non_null(o2);
	memcpy(res, in.res, in.n_res * sizeof(*res));
	for (uint32_t i = 0; i < in.n_res; i++)
		res[i].prev = owner[i];
	in.res = res;
	in.load_budget = 0;
	assert_int_equal(place_run(&in, o2, &st), 0);
	free(res);
	free(o2);
	return st.moves;
}

/* Run one scenario with placement 'version' and render the result in the
 * .out format. */
static char *render(const struct scenario *sc0, uint32_t version)
{
	struct scenario copy = *sc0, *sc = &copy;
	size_t len = 0, size = 4096;
	char *out = malloc(size);
	uint32_t *owner = calloc(sc->in.n_res + 1, sizeof(*owner));
	struct place_stats st;
	uint32_t rmoves = 0, osc = 0;
	int rc;
	bool weighted = false, sets = false;

	assert_non_null(out);
	assert_non_null(owner);
	copy.in.version = version;
	out[0] = '\0';
	for (uint32_t i = 0; i < sc->in.n_res; i++) {
		weighted |= sc->res[i].weight != 0;
		sets |= sc->res[i].set != 0;
	}
	if (sc->rounds)
		rc = run_rounds(sc, owner, &st, &rmoves, &osc);
	else
		rc = place_run(&sc->in, owner, &st);
	append(&out, &len, &size, "result %d\n", rc);
	if (rc == 0) {
		for (uint32_t i = 0; i < sc->in.n_res; i++) {
			if (owner[i] == PLACE_NONE)
				append(&out, &len, &size, "owner %u -\n", i);
			else
				append(&out, &len, &size, "owner %u %u\n", i, owner[i]);
		}
		for (uint32_t n = 0; n < sc->in.n_nodes; n++) {
			uint32_t total = 0;

			append(&out, &len, &size, "node %u", n);
			for (uint32_t p = 0; p < sc->in.n_pools; p++) {
				uint32_t k = 0;

				for (uint32_t i = 0; i < sc->in.n_res; i++)
					k += owner[i] == n && sc->res[i].pool == p;
				append(&out, &len, &size, " pool%u=%u", p, k);
				total += k;
			}
			append(&out, &len, &size, " total=%u\n", total);
		}
		append(&out, &len, &size, "stats moves=%u placed=%u unplaced=%u\n", st.moves,
		       st.placed, st.unplaced);
		if (weighted) {
			append(&out, &len, &size, "load");
			for (uint32_t n = 0; n < sc->in.n_nodes; n++) {
				uint64_t l = 0;

				for (uint32_t i = 0; i < sc->in.n_res; i++)
					l += owner[i] == n ? sc->res[i].weight : 0;
				append(&out, &len, &size, " %u=%llu", n, (unsigned long long)l);
			}
			append(&out, &len, &size, "\n");
		}
		if (sets) {
			uint32_t pairs = 0;

			for (uint32_t i = 0; i < sc->in.n_res; i++)
				for (uint32_t j = i + 1; j < sc->in.n_res; j++)
					pairs += sc->res[i].set != 0 && sc->res[i].set == sc->res[j].set &&
						 owner[i] != PLACE_NONE && owner[i] == owner[j];
			append(&out, &len, &size, "spread fixes=%u collisions=%u\n", st.spread_fixes,
			       pairs);
		}
		if (sc->rounds)
			append(&out, &len, &size, "rounds moves=%u oscillations=%u\n", rmoves, osc);
		append(&out, &len, &size, "again moves=%u\n", again(&sc->in, owner));
	}
	free(owner);
	return out;
}

/* Next non-empty line of 'text' with comments stripped, or NULL. */
static char *next_line(char **text)
{
	while (**text) {
		char *line = *text, *nl = strchr(line, '\n');

		if (nl) {
			*nl = '\0';
			*text = nl + 1;
		} else {
			*text = line + strlen(line);
		}
		line = strip(line);
		if (*line)
			return line;
	}
	return NULL;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		if (buf)
			buf[size] = '\0';
	}
	fclose(f);
	return buf;
}

/* Compare 'got' with the expected output in 'path'. */
static void compare(const char *path, char *got)
{
	char *want = read_all(path), *g = got, *w, *gl, *wl;
	int n = 0;

	if (want == NULL) {
		free(got);
		fail_msg("%s: cannot read", path);
	}
	w = want;
	do {
		gl = next_line(&g);
		wl = next_line(&w);
		n++;
		if ((gl == NULL) != (wl == NULL) || (gl && strcmp(gl, wl) != 0)) {
			print_error("%s: line %d of the expected output differs\n"
				    "  expected: %s\n  got:      %s\n",
				    path, n, wl ? wl : "(end)", gl ? gl : "(end)");
			free(got);
			free(want);
			fail();
		}
	} while (gl);
	free(got);
	free(want);
}

static void run_scenario(void **state)
{
	const char *in_path = *state;
	char out_path[4096], v1_path[4096];
	struct scenario sc;
	char *got2, *got1;
	int lineno, stem = (int)(strlen(in_path) - 3);
	FILE *f;

	if (load_scenario(in_path, &sc, &lineno) < 0) {
		free(sc.res);
		fail_msg("%s:%d: cannot parse", in_path, lineno);
	}
	snprintf(out_path, sizeof(out_path), "%.*s.out", stem, in_path);
	snprintf(v1_path, sizeof(v1_path), "%.*s.v1.out", stem, in_path);
	got2 = render(&sc, PLACE_V2);
	got1 = render(&sc, PLACE_V1);
	free(sc.res);
	f = fopen(v1_path, "r");
	if (f)
		fclose(f);
	compare(out_path, got2);
	compare(f ? v1_path : out_path, got1);
}

static int print_one(const char *path, uint32_t version)
{
	struct scenario sc;
	char *out;
	int lineno;

	if (load_scenario(path, &sc, &lineno) < 0) {
		fprintf(stderr, "%s:%d: cannot parse\n", path, lineno);
		free(sc.res);
		return 1;
	}
	out = render(&sc, version);
	fputs(out, stdout);
	free(out);
	free(sc.res);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *srcdir = getenv("srcdir");
	char dir[4096];
	struct CMUnitTest *tests = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	if (argc == 3 && strcmp(argv[1], "-p") == 0)
		return print_one(argv[2], PLACE_V2);
	if (argc == 3 && strcmp(argv[1], "-p1") == 0)
		return print_one(argv[2], PLACE_V1);
	if (argc == 2)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/scenarios/place", srcdir ? srcdir : ".");

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "place_golden: cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 4 || strcmp(de->d_name + len - 3, ".in") != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				return 1;
		}
		names[n] = malloc(strlen(dir) + len + 2);
		if (names[n] == NULL)
			return 1;
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	/* An empty directory means the runner looked in the wrong place. */
	if (n == 0) {
		fprintf(stderr, "place_golden: no scenarios in %s\n", dir);
		return 1;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	tests = calloc(n, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (size_t i = 0; i < n; i++) {
		tests[i].name = strrchr(names[i], '/') + 1;
		tests[i].test_func = run_scenario;
		tests[i].initial_state = names[i];
	}
	rc = _cmocka_run_group_tests("place_golden", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
