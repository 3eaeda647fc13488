/*
 * Action-script runner (see script.h).
 *
 * Life of a run, all on the loop thread:
 *   script_run: copy argv/env, open the output pipe and an exec-error pipe,
 *     fork; the child resets its signals, joins a new process group, closes
 *     every descriptor but its stdio and execs.  The parent opens a pidfd
 *     and watches it and the output pipe, and arms the timeout.
 *   timeout: SIGTERM to the group, arm the kill grace; grace: SIGKILL.
 *   pidfd readable (or, where pidfd_open is missing - valgrind 3.19 - a
 *   20 ms poll timer finds it): the child has ended.  Drain the pipe without waiting for
 *     EOF (a daemon the script started, such as glusterfsd, may still hold
 *     it), reap with waitid(P_PIDFD), read the exec-error pipe, report.
 *
 * The group is signalled only while its leader is not yet reaped, so the
 * process group id cannot have been reused by then.  After a timeout the
 * whole group is SIGKILLed again just before reaping, so helpers the script
 * left behind do not outlive a run that was given up on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>

#include "exec/script.h"

/* waitid() on a pidfd (Linux 5.4); glibc 2.36 has no name for it. */
#define P_PIDFD_ID 3

struct script_run {
	struct script_runner *runner;
	struct script_run *next;
	pid_t pid;
	int pidfd;
	int outfd;			/* read end of stdout+stderr, -1 once at EOF */
	int errfd;			/* read end of the exec-error pipe */
	bool cancelled;
	bool termed;			/* the timeout fired: SIGTERM sent */
	bool killed;			/* the grace ran out: SIGKILL sent */
	qb_loop_timer_handle timer;
	bool timer_armed;
	qb_loop_timer_handle reap_timer;	/* without a pidfd */
	bool reap_armed;
	uint32_t kill_grace_ms;
	uint64_t start_ms;
	script_done_fn done;
	void *data;
	/* Output ring: 'out_total' bytes seen, the last 'out_max' kept. */
	char *out;
	size_t out_max;
	size_t out_total;
};

struct script_runner {
	qb_loop_t *loop;
	bool poll_only;
	struct script_run *runs;
	size_t n_runs;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool script_result_ok(const struct script_result *r)
{
	return r->status == SCRIPT_EXITED && r->code == 0;
}

const char *script_result_str(const struct script_result *r, char *buf, size_t size)
{
	switch (r->status) {
	case SCRIPT_EXITED:
		snprintf(buf, size, "exit %d", r->code);
		break;
	case SCRIPT_SIGNALED:
		snprintf(buf, size, "signal %d", r->code);
		break;
	case SCRIPT_TIMED_OUT:
		if (r->code < 0)
			snprintf(buf, size, "timed out (signal %d)", -r->code);
		else
			snprintf(buf, size, "timed out (exit %d)", r->code);
		break;
	case SCRIPT_KILLED:
		snprintf(buf, size, "killed after timeout");
		break;
	case SCRIPT_EXEC_FAILED:
		snprintf(buf, size, "exec failed: %s", strerror(r->code));
		break;
	}
	return buf;
}

int script_runner_new(qb_loop_t *loop, struct script_runner **out)
{
	struct script_runner *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->loop = loop;
	*out = r;
	return 0;
}

void script_runner_poll_only(struct script_runner *r)
{
	r->poll_only = true;
}

size_t script_runner_active(const struct script_runner *r)
{
	return r->n_runs;
}

int script_run_pid(const struct script_run *run)
{
	return run->pid;
}

static void out_add(struct script_run *run, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run->out[(run->out_total + i) % run->out_max] = buf[i];
	run->out_total += n;
}

/* Read what is there now, a bounded amount per call so a chatty script
 * cannot hold the loop.  Returns false at EOF or error. */
static bool out_drain(struct script_run *run, unsigned max_reads)
{
	char buf[4096];

	for (unsigned i = 0; i < max_reads; i++) {
		ssize_t n = read(run->outfd, buf, sizeof(buf));

		if (n > 0) {
			out_add(run, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
	return true;
}

static void out_close(struct script_run *run)
{
	if (run->outfd < 0)
		return;
	qb_loop_poll_del(run->runner->loop, run->outfd);
	close(run->outfd);
	run->outfd = -1;
}

static int32_t out_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct script_run *run = data;

	if (!out_drain(run, 16))
		out_close(run);
	return 0;
}

static void timer_stop(struct script_run *run)
{
	if (run->timer_armed)
		qb_loop_timer_del(run->runner->loop, run->timer);
	run->timer_armed = false;
}

static void kill_group(struct script_run *run, int sig)
{
	/* The leader is unreaped, so the group id is still ours. */
	if (kill(-run->pid, sig) < 0)
		(void)kill(run->pid, sig);
}

static void grace_cb(void *data)
{
	struct script_run *run = data;

	run->timer_armed = false;
	run->killed = true;
	qb_log(LOG_WARNING, "script pid %d still running %u ms after SIGTERM: killing it",
	       (int)run->pid, run->kill_grace_ms);
	kill_group(run, SIGKILL);
}

static void timeout_cb(void *data)
{
	struct script_run *run = data;

	run->timer_armed = false;
	run->termed = true;
	qb_log(LOG_WARNING, "script pid %d timed out: terminating it", (int)run->pid);
	kill_group(run, SIGTERM);
	run->timer_armed = qb_loop_timer_add(run->runner->loop, QB_LOOP_MED,
					     (uint64_t)run->kill_grace_ms * QB_TIME_NS_IN_MSEC,
					     run, grace_cb, &run->timer) == 0;
	if (!run->timer_armed)
		grace_cb(run);
}

static void run_unlink_free(struct script_run *run)
{
	struct script_runner *r = run->runner;

	for (struct script_run **p = &r->runs; *p != NULL; p = &(*p)->next) {
		if (*p == run) {
			*p = run->next;
			r->n_runs--;
			break;
		}
	}
	timer_stop(run);
	if (run->reap_armed)
		qb_loop_timer_del(r->loop, run->reap_timer);
	out_close(run);
	if (run->pidfd >= 0) {
		qb_loop_poll_del(r->loop, run->pidfd);
		close(run->pidfd);
	}
	if (run->errfd >= 0)
		close(run->errfd);
	free(run->out);
	free(run);
}

/* A run that could not be set up: without its pidfd watched it would never
 * be reaped, so end it here (a SIGKILLed child goes at once; this blocks only
 * on a start-up failure, never in the normal path). */
static void run_abort(struct script_run *run)
{
	kill_group(run, SIGKILL);
	while (waitpid(run->pid, NULL, 0) < 0 && errno == EINTR)
		;
	run_unlink_free(run);
}

/* Linearise the ring into 'buf' (out_max + 1 bytes). */
static size_t out_copy(const struct script_run *run, char *buf)
{
	size_t n = run->out_total < run->out_max ? run->out_total : run->out_max;
	size_t start = run->out_total - n;

	for (size_t i = 0; i < n; i++)
		buf[i] = run->out[(start + i) % run->out_max];
	buf[n] = '\0';
	return n;
}

static int run_waitid(const struct script_run *run, siginfo_t *si, int flags)
{
	if (run->pidfd >= 0)
		return waitid((idtype_t)P_PIDFD_ID, (id_t)run->pidfd, si, flags);
	return waitid(P_PID, (id_t)run->pid, si, flags);
}

/* Has the child ended?  Then reap it, report and free the run: true. */
static bool run_check(struct script_run *run)
{
	struct script_result res = {0};
	siginfo_t si = {0};
	char *text;
	int err = 0;

	/* Peek first: the group may only be signalled while the leader is
	 * unreaped. */
	if (run_waitid(run, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		if (errno != ECHILD)
			return false;
		si.si_code = CLD_KILLED;	/* reaped behind our back */
		si.si_status = 0;
	} else if (si.si_pid == 0) {
		return false;	/* not ended yet */
	} else {
		if (run->termed && !run->cancelled)
			kill_group(run, SIGKILL);	/* helpers of a run given up on */
		(void)run_waitid(run, &(siginfo_t){0}, WEXITED | WNOHANG);
	}
	if (run->cancelled || run->done == NULL) {
		run_unlink_free(run);
		return true;
	}
	if (run->outfd >= 0) {
		/* Whatever the script wrote before it ended is in the pipe now. */
		(void)out_drain(run, 256);
		out_close(run);
	}
	if (read(run->errfd, &err, sizeof(err)) == (ssize_t)sizeof(err) && err > 0) {
		res.status = SCRIPT_EXEC_FAILED;
		res.code = err;
	} else if (run->killed) {
		res.status = SCRIPT_KILLED;
		res.code = SIGKILL;
	} else if (run->termed) {
		res.status = SCRIPT_TIMED_OUT;
		res.code = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
	} else if (si.si_code == CLD_EXITED) {
		res.status = SCRIPT_EXITED;
		res.code = si.si_status;
	} else {
		res.status = SCRIPT_SIGNALED;
		res.code = si.si_status;
	}
	res.elapsed_ms = mono_ms() - run->start_ms;
	text = malloc(run->out_max + 1);
	if (text != NULL) {
		res.output_size = out_copy(run, text);
		res.output = text;
	} else {
		res.output = "";
	}
	res.output_truncated = run->out_total > run->out_max;
	/* Unlink before the callback, which may start runs of its own. */
	{
		script_done_fn done = run->done;
		void *ud = run->data;

		run_unlink_free(run);
		done(ud, &res);
	}
	free(text);
	return true;
}

static int32_t pidfd_dispatch(int32_t fd, int32_t revents, void *data)
{
	(void)run_check(data);
	return 0;
}

#define REAP_POLL_MS 20

static void reap_cb(void *data)
{
	struct script_run *run = data;

	run->reap_armed = false;
	if (run_check(run))
		return;
	run->reap_armed = qb_loop_timer_add(run->runner->loop, QB_LOOP_MED,
					    REAP_POLL_MS * QB_TIME_NS_IN_MSEC, run, reap_cb,
					    &run->reap_timer) == 0;
}

static size_t strv_count(const char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* One allocation holding both NULL-terminated vectors and their strings, so
 * the child needs nothing but what is ready before the fork. */
static char **strv_pack(const struct script_spec *spec, char ***envp_out)
{
	size_t na = strv_count(spec->argv), ne = strv_count(spec->envp), bytes = 0;
	bool has_path = false;
	char **v, *p;

	if (na == 0 || na > SCRIPT_ARGS_MAX || ne > SCRIPT_ENV_MAX)
		return NULL;
	for (size_t i = 0; i < na; i++)
		bytes += strlen(spec->argv[i]) + 1;
	for (size_t i = 0; i < ne; i++) {
		if (strchr(spec->envp[i], '=') == NULL || spec->envp[i][0] == '=')
			return NULL;
		has_path |= strncmp(spec->envp[i], "PATH=", 5) == 0;
		bytes += strlen(spec->envp[i]) + 1;
	}
	if (bytes > SCRIPT_STRINGS_SIZE_MAX)
		return NULL;
	bytes += sizeof("PATH=" SCRIPT_PATH);
	v = malloc((na + ne + 3) * sizeof(char *) + bytes);
	if (v == NULL)
		return NULL;
	p = (char *)(v + na + ne + 3);
	for (size_t i = 0; i < na; i++) {
		v[i] = p;
		p = stpcpy(p, spec->argv[i]) + 1;
	}
	v[na] = NULL;
	*envp_out = v + na + 1;
	for (size_t i = 0; i < ne; i++) {
		v[na + 1 + i] = p;
		p = stpcpy(p, spec->envp[i]) + 1;
	}
	if (!has_path) {
		v[na + 1 + ne++] = p;
		strcpy(p, "PATH=" SCRIPT_PATH);
	}
	v[na + 1 + ne] = NULL;
	return v;
}

/* In the child, between fork and exec: async-signal-safe calls only (the
 * daemon has threads).  An exec failure is reported through 'errfd'. */
static void __attribute__((noreturn)) child_exec(char **argv, char **envp, int nullfd, int infd,
						  int outfd, int errfd, bool discard_stderr,
						  int maxfd)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int err;

	(void)setpgid(0, 0);
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL);
	/* now unblock (the parent blocked everything around the fork) */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(infd, 0) < 0 || dup2(outfd, 1) < 0 ||
	    dup2(discard_stderr ? nullfd : outfd, 2) < 0) {
		err = errno;
		goto fail;
	}
	/* errfd is close-on-exec: keep it until the exec succeeds. */
	if ((errfd > 3 && syscall(SYS_close_range, 3U, (unsigned)errfd - 1, 0U) < 0) ||
	    syscall(SYS_close_range, (unsigned)errfd + 1, ~0U, 0U) < 0) {
		/* no close_range (old kernel, valgrind): one by one */
		for (int fd = 3; fd < maxfd; fd++)
			if (fd != errfd)
				(void)close(fd);
	}
	execve(argv[0], argv, envp);
	err = errno;
fail:
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

int script_run(struct script_runner *r, const struct script_spec *spec, script_done_fn done,
	       void *data, struct script_run **out)
{
	struct script_run *run = NULL;
	char **argv = NULL, **envp = NULL;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1}, nullfd = -1;
	int rc, maxfd;
	sigset_t all, old;
	pid_t pid;

	if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] != '/' || done == NULL)
		return -EINVAL;
	if (spec->output_max > SCRIPT_OUTPUT_MAX || spec->stdin_size > SCRIPT_STDIN_MAX)
		return -EINVAL;
	argv = strv_pack(spec, &envp);
	if (argv == NULL)
		return -EINVAL;
	run = calloc(1, sizeof(*run));
	if (run == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	run->pidfd = run->outfd = run->errfd = -1;
	run->out_max = spec->output_max ? spec->output_max : SCRIPT_OUTPUT_DEFAULT;
	run->out = malloc(run->out_max);
	if (run->out == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (spec->stdin_data != NULL) {
		ssize_t n;

		/* Non-blocking all the same: a short write fails the run
		 * rather than hanging the loop. */
		if (pipe2(inp, O_CLOEXEC | O_NONBLOCK) < 0) {
			rc = -errno;
			goto fail;
		}
		n = spec->stdin_size ? write(inp[1], spec->stdin_data, spec->stdin_size) : 0;
		if (n != (ssize_t)spec->stdin_size) {
			rc = n < 0 ? -errno : -EIO;
			goto fail;
		}
		close(inp[1]);
		inp[1] = -1;
		/* the child's stdin blocks as a file's would */
		(void)fcntl(inp[0], F_SETFL, 0);
	}
	maxfd = (int)sysconf(_SC_OPEN_MAX);	/* not async-signal-safe: before the fork */
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	/* Signals stay blocked across the fork until the child has put every
	 * handler back to default: a signal caught in between would run the
	 * daemon's handler (qb_loop's, which writes to a pipe the parent reads). */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(argv, envp, nullfd, inp[0] >= 0 ? inp[0] : nullfd, outp[1], errp[1],
			   spec->discard_stderr, maxfd);
	rc = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		goto fail;

	/* Also here, so a timeout right away already hits the group. */
	(void)setpgid(pid, pid);
	close(outp[1]);
	close(errp[1]);
	close(nullfd);
	if (inp[0] >= 0)
		close(inp[0]);
	free(argv);
	run->runner = r;
	run->pid = pid;
	run->start_ms = mono_ms();
	run->outfd = outp[0];
	run->errfd = errp[0];
	run->done = done;
	run->data = data;
	run->kill_grace_ms = spec->kill_grace_ms ? spec->kill_grace_ms
						 : SCRIPT_KILL_GRACE_DEFAULT_MS;
	(void)fcntl(run->outfd, F_SETFL, O_NONBLOCK);
	(void)fcntl(run->errfd, F_SETFL, O_NONBLOCK);
	run->next = r->runs;
	r->runs = run;
	r->n_runs++;

	run->pidfd = r->poll_only ? -1 : pidfd_open(pid, 0);
	if (run->pidfd >= 0 &&
	    qb_loop_poll_add(r->loop, QB_LOOP_MED, run->pidfd, POLLIN, run, pidfd_dispatch) < 0) {
		close(run->pidfd);
		run->pidfd = -1;
	}
	if (run->pidfd < 0) {
		run->reap_armed = qb_loop_timer_add(r->loop, QB_LOOP_MED,
						    REAP_POLL_MS * QB_TIME_NS_IN_MSEC, run, reap_cb,
						    &run->reap_timer) == 0;
		if (!run->reap_armed) {
			run_abort(run);
			return -ENOMEM;
		}
	}
	if (qb_loop_poll_add(r->loop, QB_LOOP_MED, run->outfd, POLLIN, run, out_dispatch) < 0) {
		close(run->outfd);
		run->outfd = -1;
		run_abort(run);
		return -ENOMEM;
	}
	if (spec->timeout_ms) {
		run->timer_armed = qb_loop_timer_add(r->loop, QB_LOOP_MED,
						     (uint64_t)spec->timeout_ms *
							     QB_TIME_NS_IN_MSEC,
						     run, timeout_cb, &run->timer) == 0;
		if (!run->timer_armed) {
			run_abort(run);
			return -ENOMEM;
		}
	}
	if (out != NULL)
		*out = run;
	return 0;

fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (inp[i] >= 0)
			close(inp[i]);
	}
	if (nullfd >= 0)
		close(nullfd);
	if (run != NULL)
		free(run->out);
	free(run);
	free(argv);
	return rc;
}

void script_run_cancel(struct script_run *run)
{
	if (run == NULL || run->cancelled)
		return;
	run->cancelled = true;
	run->done = NULL;
	timer_stop(run);
	out_close(run);
	kill_group(run, SIGKILL);
	/* pidfd_dispatch reaps and frees it. */
}

void script_runner_free(struct script_runner *r)
{
	uint64_t deadline;

	if (r == NULL)
		return;
	for (struct script_run *run = r->runs; run != NULL; run = run->next) {
		run->cancelled = true;
		run->done = NULL;
		kill_group(run, SIGKILL);
	}
	/* Bounded: a process in uninterruptible sleep is left to init. */
	deadline = mono_ms() + 2000;
	while (r->runs != NULL) {
		struct script_run *run = r->runs;
		bool gone = false;

		for (;;) {
			siginfo_t si = {0};

			if (waitid(P_PID, (id_t)run->pid, &si, WEXITED | WNOHANG) < 0)
				gone = errno == ECHILD;
			else
				gone = si.si_pid != 0;
			if (gone || mono_ms() >= deadline || errno == EINVAL)
				break;
			usleep(2000);
		}
		if (!gone)
			qb_log(LOG_WARNING, "script pid %d did not die on SIGKILL: left behind",
			       (int)run->pid);
		run_unlink_free(run);
	}
	free(r);
}
