/*
 * Action scripts run from the qb_loop: brick actions (acquire, release,
 * monitor), the inventory's "gluster volume info --xml", and later the
 * per-pool service hooks (NFS-Ganesha grace, Samba).
 *
 * A run is fork + execve of an argv (never a shell string) with an explicit
 * environment, stdin from /dev/null or from a few bytes the caller gives
 * (a fence agent's options and password, kept out of argv and environment), stdout and stderr into one pipe of which
 * only the last 'output_max' bytes are kept, in a new process group.  When
 * the timeout passes the group gets SIGTERM, and SIGKILL after the kill
 * grace.  The end of a run is seen through a pidfd in the loop, so nothing
 * waits and only our own children are reaped (never waitpid(-1): the
 * command-check plugin reaps its own children in worker threads).
 */
#ifndef CHORUS_SCRIPT_H
#define CHORUS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

/* Limits on what a caller may hand us (every run's argv and environment are
 * copied, so they bound memory per run as well). */
#define SCRIPT_ARGS_MAX 64
#define SCRIPT_ENV_MAX 128
#define SCRIPT_STRINGS_SIZE_MAX (64 * 1024)	/* argv + env bytes */
#define SCRIPT_OUTPUT_DEFAULT 4096
#define SCRIPT_OUTPUT_MAX (4 * 1024 * 1024)
#define SCRIPT_KILL_GRACE_DEFAULT_MS 5000
/* At most a page: written whole into the empty pipe before the fork, where
 * it always fits, so the loop never waits for the child to read it. */
#define SCRIPT_STDIN_MAX 4096

/* The PATH a script gets when its environment names none: the daemon's own
 * PATH is not passed on. */
#define SCRIPT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum script_status {
	SCRIPT_EXITED,		/* code = exit status */
	SCRIPT_SIGNALED,	/* code = signal; not one we sent */
	SCRIPT_TIMED_OUT,	/* ended after our SIGTERM; code = exit status or -signal */
	SCRIPT_KILLED,		/* still there after the kill grace: SIGKILLed */
	SCRIPT_EXEC_FAILED,	/* code = errno of execve */
};

struct script_result {
	enum script_status status;
	int code;
	uint64_t elapsed_ms;
	/* Borrowed for the callback only: the last bytes the script wrote on
	 * stdout and stderr, NUL-terminated ('output_size' excludes the NUL). */
	const char *output;
	size_t output_size;
	bool output_truncated;	/* it wrote more than output_max */
};

/* True if the run exited by itself with status 0. */
bool script_result_ok(const struct script_result *r);

/* "exit 3", "signal 11", "timed out (exit 143)", "killed after timeout",
 * "exec failed: No such file or directory"; returns 'buf'. */
const char *script_result_str(const struct script_result *r, char *buf, size_t size);

typedef void (*script_done_fn)(void *data, const struct script_result *r);

struct script_spec {
	const char *const *argv;	/* argv[0] is an absolute path; NULL-terminated */
	const char *const *envp;	/* "NAME=value", NULL-terminated, may be NULL;
					 * PATH=SCRIPT_PATH is added when absent */
	uint32_t timeout_ms;		/* 0 = no timeout */
	uint32_t kill_grace_ms;		/* 0 = SCRIPT_KILL_GRACE_DEFAULT_MS */
	size_t output_max;		/* 0 = SCRIPT_OUTPUT_DEFAULT */
	bool discard_stderr;		/* stderr to /dev/null: the output is data
					 * to parse, not a log */
	const char *stdin_data;		/* NULL: stdin is /dev/null; else these
					 * bytes, then EOF */
	size_t stdin_size;		/* at most SCRIPT_STDIN_MAX */
};

struct script_runner;
struct script_run;

int script_runner_new(qb_loop_t *loop, struct script_runner **out);

/* SIGKILL every run's process group, reap them (bounded: a process stuck in
 * the kernel is left to init) and free.  No callback is called.  Accepts NULL.
 * Not to be called from a script callback. */
void script_runner_free(struct script_runner *r);

/* Start 'spec' (copied: nothing in it needs to outlive the call).  'done' is
 * called exactly once from the loop when the run ends, unless the run is
 * cancelled first; the run is freed after 'done' returns, and 'done' may
 * start new runs.  '*out' (may be NULL) is the run's handle for
 * script_run_cancel(), valid until 'done' is called.  Returns 0, -EINVAL for
 * a bad spec (relative argv[0], limits, stdin_size), or -errno of the fork. */
int script_run(struct script_runner *r, const struct script_spec *spec, script_done_fn done,
	       void *data, struct script_run **out);

/* Stop a run: SIGKILL its process group; 'done' is not called.  The process
 * is reaped in the background; the handle is invalid after this call. */
void script_run_cancel(struct script_run *run);

/* Process id of a running run (its process group id too). */
int script_run_pid(const struct script_run *run);

/* Watch children with a 20 ms poll instead of pidfds, as is done anyway
 * where pidfd_open() fails (valgrind 3.19).  For tests of that path. */
void script_runner_poll_only(struct script_runner *r);

/* Runs started and not yet reaped (cancelled ones included). */
size_t script_runner_active(const struct script_runner *r);

#endif
