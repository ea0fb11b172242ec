/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply --confirm SECONDS, confirm, rollback: an apply that undoes itself
 * unless confirmed in time.  Before the transaction the live table is saved
 * as the kernel holds it (snapshot.c); after it, a detached process (its
 * own session, SIGHUP ignored, no terminal, working directory /) holds the
 * saved table in memory and waits for the deadline.  `confirm` (from any
 * session) tells it to let the new table stand; at the deadline, on
 * `rollback` or on SIGTERM it puts the saved table back in one
 * generation-guarded transaction (or removes the table if there was none).
 *
 * What is pending is a root-only file in the state directory (0700):
 * TABLE@NETNS.pending holds "PID DEADLINE GENERATION"; once the rollback
 * happened, TABLE@NETNS.rolledback holds "TIME OUTCOME".  NETNS is the
 * network namespace's inode, so namespaces (tests, containers) do not meet.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "newfile.h"
#include "portcullis/netlink.h"
#include "portcullis/snapshot.h"
#include "util.h"

#define STATE_DIR "/run/portcullis"
/* How long confirm and rollback wait for the watcher to answer, at most (ms). */
#define ANSWER_MS 30000

/* The state directory: $PORTCULLIS_STATE_DIR, else /run/portcullis. */
static const char *state_dir(void)
{
	const char *d = getenv("PORTCULLIS_STATE_DIR");
	return d && d[0] ? d : STATE_DIR;
}

/* DIR/TABLE@NETNS.SUFFIX into buf. */
static void state_path(char *buf, size_t size, const char *table, const char *suffix)
{
	struct stat st;
	unsigned long ns = stat("/proc/self/ns/net", &st) == 0 ? (unsigned long)st.st_ino : 0;

	snprintf(buf, size, "%s/%s@%lu.%s", state_dir(), table, ns, suffix);
}

struct pending {
	long pid;
	long long deadline;
	unsigned genid;
};

/* Reads TABLE's pending file: 1 found, 0 none, -1 unreadable (errno); p zero but when found. */
static int read_pending(const char *table, struct pending *p)
{
	char path[4096];
	memset(p, 0, sizeof(*p));
	state_path(path, sizeof(path), table, "pending");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "%ld %lld %u", &p->pid, &p->deadline, &p->genid) < 2)
		p->pid = 0;
	return 1;
}

/*
 * Whether TABLE's pending slot is held: a write lock on TABLE@NETNS.lock,
 * an open file description's (F_OFD_SETLK), which the apply that took the
 * slot hands on to its watcher by fork() and the kernel lets go when the
 * last of them ends, however it ends.  A pid written in the pending file
 * alone could name another process once the watcher is gone, even one of
 * this program's name; the lock cannot outlive the watcher.
 */
static bool slot_held(const char *table)
{
	char path[4096];
	state_path(path, sizeof(path), table, "lock");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/* Writes "TEXT" into TABLE's file SUFFIX whole (a new file renamed over it). */
static int write_state(const char *table, const char *suffix, const char *text)
{
	char path[4096];
	struct pc_newfile nf;
	state_path(path, sizeof(path), table, suffix);
	if (pc_newfile_open(&nf, AT_FDCWD, path, 0600) < 0)
		return -1;
	size_t len = strlen(text);
	bool ok = write(nf.fd, text, len) == (ssize_t)len;
	return pc_newfile_done(&nf, ok) == 0 && ok ? 0 : -1;
}

static void unlink_state(const char *table, const char *suffix)
{
	char path[4096];
	state_path(path, sizeof(path), table, suffix);
	unlink(path);
}

void cli_state_path(char *buf, size_t size, const char *table, const char *suffix)
{
	state_path(buf, size, table, suffix);
}

void cli_state_forget(const char *table)
{
	unlink_state(table, "installed");
}

int cli_state_dir_make(void)
{
	struct stat st;
	const char *dir = state_dir();

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

void cli_state_dir_why(char *buf, size_t size, int err)
{
	struct stat st;
	const char *dir = state_dir();

	if (err != EPERM || lstat(dir, &st) < 0)
		snprintf(buf, size, "%s", strerror(err));
	else if (!S_ISDIR(st.st_mode))
		snprintf(buf, size, "'%s' is not a directory", dir);
	else if (st.st_uid != geteuid())
		snprintf(buf, size, "'%s' belongs to uid %u, not to uid %u that runs portcullis",
				dir, (unsigned)st.st_uid, (unsigned)geteuid());
	else
		snprintf(buf, size, "'%s' has mode %04o; it must be 0700: 'chmod 700 %s'", dir,
				(unsigned)(st.st_mode & 07777), dir);
}

/*
 * Takes the pending slot for `table`: the state directory made (0700, a
 * directory owned by root and no link), the slot's lock taken (slot_held()),
 * then the pending file written with this process's pid and no deadline yet
 * (one a watcher that died left is replaced).  Returns the lock's
 * descriptor, -2 when another confirmation is pending (p filled, its pid 0
 * while that apply has not written it), -1 with errno.
 */
static int take_pending(const char *table, struct pending *p)
{
	char path[4096], text[64];

	if (cli_state_dir_make() < 0)
		return -1;
	state_path(path, sizeof(path), table, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;
		close(fd);
		if (err != EAGAIN && err != EACCES) {
			errno = err;
			return -1;
		}
		read_pending(table, p);
		return -2;
	}
	snprintf(text, sizeof(text), "%ld 0 0\n", (long)getpid());
	if (write_state(table, "pending", text) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* The saved table, for before_confirm() and the watcher. */
struct confirm_state {
	struct pc_snap snap;
	bool saved;
	bool pending_taken;
	int lock; /* the slot's lock (take_pending()), the watcher's once it starts */
};
static struct confirm_state cs;

static void utc(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/*
 * The watcher: waits for the deadline, a confirm (SIGUSR1), a rollback
 * (SIGUSR2) or an end (SIGTERM, SIGINT: the saved table is put back then,
 * never left unconfirmed).  Runs in its own session, without a terminal.
 */
static void watch_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
}

/*
 * Called with watch_signals() blocked since before the pending file named it.
 * `end` is on the monotonic clock: a change of the wall clock does not move
 * the deadline.
 */
static void watch(const char *table, const struct timespec *end)
{
	sigset_t set;
	watch_signals(&set);

	int sig = 0;
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left_ms = ((long long)end->tv_sec - (long long)now.tv_sec) * 1000 +
				    (end->tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0)
			break;
		struct timespec ts = {(time_t)(left_ms / 1000), (long)(left_ms % 1000) * 1000000L};
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			break;
		sig = 0;
	}
	if (sig == SIGUSR1) {
		unlink_state(table, "pending");
		return;
	}
	struct pc_nl_apply_options o = {.table = table,
			.commit = true,
			.retries = 100,
			.retry_ms = 5000,
			.build = pc_snap_build,
			.build_arg = &cs.snap};
	struct pc_nl_batch b;
	struct pc_nl_result r;
	/* What the last apply installed no longer stands: the next apply replaces. */
	cli_state_forget(table);
	pc_nl_apply(NULL, &o, &b, &r);
	char text[512];
	const char *what = r.outcome == PC_NL_COMMITTED ? (cs.snap.exists ? "restored" : "removed")
			   : r.outcome == PC_NL_FOREIGN_TABLE ? "foreign"
			   : r.outcome == PC_NL_UNKNOWN	      ? "unknown"
							      : "refused";
	/* Then, for people, the first error: what the kernel refused, or what failed. */
	const struct pc_nl_msg *m = r.nerrors ? &b.msgs[r.errors[0].msg] : NULL;
	if (m)
		snprintf(text, sizeof(text), "%lld %s %u %u the %s %s: %s\n", (long long)time(NULL),
				what, r.genid_before, r.genid_after, m->what, m->name,
				strerror(r.errors[0].err));
	else if (r.sys_err)
		snprintf(text, sizeof(text), "%lld %s %u %u cannot %s: %s\n", (long long)time(NULL),
				what, r.genid_before, r.genid_after, r.sys_what,
				strerror(r.sys_err));
	else
		snprintf(text, sizeof(text), "%lld %s %u %u\n", (long long)time(NULL), what,
				r.genid_before, r.genid_after);
	write_state(table, "rolledback", text);
	unlink_state(table, "pending");
	free(r.errors);
	pc_nl_batch_finish(&b);
}

/*
 * Starts the watcher (two forks, a session of its own, stdio on /dev/null,
 * every other descriptor closed), and waits until it has written the
 * pending file.  Returns 0, or -1 with errno.
 */
static int start_watcher(const char *table, long long deadline, unsigned seconds, unsigned genid)
{
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Blocked before anyone can read its pid: a confirm never kills it. */
		sigset_t set;
		watch_signals(&set);
		sigprocmask(SIG_BLOCK, &set, NULL);
		close(fds[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		if (chdir("/") < 0)
			_exit(1);
		umask(077);
		long max = sysconf(_SC_OPEN_MAX);
		/* The slot's lock stays open here: it is held as long as this process lives. */
		for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			if (fd != fds[1] && fd != cs.lock)
				close((int)fd);
		char text[96];
		snprintf(text, sizeof(text), "%ld %lld %u\n", (long)getpid(), deadline, genid);
		char ok = write_state(table, "pending", text) == 0 ? 'y' : 'n';
		if (write(fds[1], &ok, 1) < 0 || ok != 'y')
			_exit(1);
		close(fds[1]);
		watch(table, &end);
		pc_snap_finish(&cs.snap);
		free(cs.snap.name);
		_exit(0);
	}
	close(fds[1]);
	waitpid(pid, NULL, 0);
	char ok = 'n';
	ssize_t n;
	do
		n = read(fds[0], &ok, 1);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n != 1 || ok != 'y') {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int refuse_pending(struct cli_ctx *ctx, const char *cmd, const struct pending *p)
{
	char when[40];
	if (!p->deadline) {
		fprintf(ctx->err,
				"%s %s: another apply --confirm of table inet %s is under way "
				"(process %ld); nothing was changed. Try again when it has started "
				"its rollback timer\n",
				ctx->prog, cmd, ctx->table, p->pid);
		return PC_EXIT_KERNEL;
	}
	utc(p->deadline, when, sizeof(when));
	fprintf(ctx->err,
			"%s %s: an apply of table inet %s waits for confirmation until %s (process "
			"%ld); nothing was changed. Run '%s confirm%s%s' to keep it or '%s "
			"rollback%s%s' to undo it first\n",
			ctx->prog, cmd, ctx->table, when, p->pid, ctx->prog,
			ctx->table_given ? " --table " : "", ctx->table_given ? ctx->table : "",
			ctx->prog, ctx->table_given ? " --table " : "",
			ctx->table_given ? ctx->table : "");
	return PC_EXIT_KERNEL;
}

/* Refuses an apply while a confirmation is pending (any apply). */
int cli_confirm_pending(struct cli_ctx *ctx, const char *cmd)
{
	struct pending p;
	if (!slot_held(ctx->table))
		return PC_EXIT_OK;
	read_pending(ctx->table, &p);
	return refuse_pending(ctx, cmd, &p);
}

/* Before the transaction: the pending slot taken, the live table saved. */
int cli_confirm_before(struct cli_ctx *ctx)
{
	struct pending p;
	int err;
	const char *what;

	int taken = take_pending(ctx->table, &p);
	if (taken == -2)
		return refuse_pending(ctx, "apply", &p);
	if (taken < 0) {
		char why[4200];
		cli_state_dir_why(why, sizeof(why), errno);
		fprintf(ctx->err,
				"%s apply: cannot keep the confirmation in %s: %s; nothing was "
				"changed (PORTCULLIS_STATE_DIR names another directory)\n",
				ctx->prog, state_dir(), why);
		return PC_EXIT_ENV;
	}
	cs.pending_taken = true;
	cs.lock = taken;
	if (pc_snap_read(ctx->table, 100, &cs.snap, &err, &what) < 0) {
		fprintf(ctx->err,
				"%s apply: cannot save the live table to roll back to: cannot %s: %s; nothing was changed\n",
				ctx->prog, what, strerror(err));
		unlink_state(ctx->table, "pending");
		close(cs.lock);
		cs.pending_taken = false;
		return PC_EXIT_ENV;
	}
	cs.saved = true;
	unlink_state(ctx->table, "rolledback");
	return PC_EXIT_OK;
}

/* After the transaction (status ret): the watcher started, or everything let go. */
int cli_confirm_after(struct cli_ctx *ctx, int ret, unsigned seconds)
{
	if (ret == PC_EXIT_OK && cs.saved) {
		long long deadline = (long long)time(NULL) + seconds;
		if (start_watcher(ctx->table, deadline, seconds, cs.snap.genid) < 0) {
			fprintf(ctx->err,
					"%s apply: the table was applied, but the process that would "
					"roll it back cannot be started (%s): run '%s confirm' or "
					"'%s rollback' yourself\n",
					ctx->prog, strerror(errno), ctx->prog, ctx->prog);
			ret = PC_EXIT_ENV;
		} else {
			char when[40];
			utc(deadline, when, sizeof(when));
			fprintf(ctx->out,
					"rolled back at %s (in %u s) unless '%s confirm%s%s' is run "
					"before\n",
					when, seconds, ctx->prog,
					ctx->table_given ? " --table " : "",
					ctx->table_given ? ctx->table : "");
		}
	} else if (cs.pending_taken) {
		unlink_state(ctx->table, "pending");
	}
	/* The watcher holds the slot's lock now, if it started: this copy is let go. */
	if (cs.pending_taken)
		close(cs.lock);
	if (cs.saved) {
		pc_snap_finish(&cs.snap);
		free(cs.snap.name);
	}
	memset(&cs, 0, sizeof(cs));
	return ret;
}

/* Waits (bounded) until the pending file is gone; whether it went. */
static bool wait_gone(const char *table)
{
	struct pending p;
	for (int ms = 0; ms < ANSWER_MS; ms += 10) {
		if (read_pending(table, &p) <= 0)
			return true;
		/* It may have ended between the two looks. */
		if (!slot_held(table))
			return read_pending(table, &p) <= 0;
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
	return false;
}

/* The record of the last rollback: 1 read, 0 none. */
static int read_rolledback(const char *table, long long *when, char *what, size_t size,
		unsigned *gen0, unsigned *gen1)
{
	char path[4096], buf[256];
	state_path(path, sizeof(path), table, "rolledback");
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	(void)size; /* what holds 16 bytes */
	int n = fgets(buf, sizeof(buf), f) ? sscanf(buf, "%lld %15s %u %u", when, what, gen0, gen1)
					   : 0;
	fclose(f);
	return n == 4;
}

static int no_args(struct cli_ctx *ctx, const char *cmd, int argc)
{
	if (argc == 0)
		return PC_EXIT_OK;
	fprintf(ctx->err, "%s %s: takes no arguments, only options: e.g. '%s %s --table %s'\n",
			ctx->prog, cmd, ctx->prog, cmd, CLI_DEFAULT_TABLE);
	return PC_EXIT_USAGE;
}

/* What became of the rollback, from its record; the exit status (`now`: asked for). */
static int report_rollback(struct cli_ctx *ctx, const char *cmd, bool now)
{
	long long when;
	char what[16], stamp[40];
	unsigned g0, g1;

	if (!read_rolledback(ctx->table, &when, what, sizeof(what), &g0, &g1)) {
		fprintf(ctx->err, "%s %s: no confirmation is pending for table inet %s\n",
				ctx->prog, cmd, ctx->table);
		return PC_EXIT_ENV;
	}
	utc(when, stamp, sizeof(stamp));
	if (!strcmp(what, "restored") || !strcmp(what, "removed")) {
		const char *how = !strcmp(what, "restored") ? "the saved table put back"
							    : "there was none before: removed";
		if (now) {
			fprintf(ctx->out,
					"table inet %s rolled back at %s (%s; generation %u -> %u)\n",
					ctx->table, stamp, how, g0, g1);
			return PC_EXIT_OK;
		}
		fprintf(ctx->err,
				"%s %s: too late: table inet %s was rolled back at %s (%s; generation "
				"%u -> %u). Apply it again with --confirm and confirm in time\n",
				ctx->prog, cmd, ctx->table, stamp, how, g0, g1);
		return PC_EXIT_ROLLED_BACK;
	}
	fprintf(ctx->err,
			"%s %s: the rollback of table inet %s at %s failed (%s): the applied table "
			"may still be loaded; see '%s status' and '%s show'\n",
			ctx->prog, cmd, ctx->table, stamp, what, ctx->prog, ctx->prog);
	return !strcmp(what, "unknown") ? PC_EXIT_UNKNOWN : PC_EXIT_KERNEL;
}

/*
 * Whether TABLE has a watcher, its pid in p: the slot held and the pending
 * file written by the watcher (with its deadline), waited for (bounded)
 * while the apply that holds the slot has not started it.  Never the pid of
 * the apply itself, nor one the pending file names once the slot is let go.
 */
static bool wait_watcher(const char *table, struct pending *p)
{
	for (int ms = 0; ms < ANSWER_MS; ms += 10) {
		if (!slot_held(table))
			return false;
		if (read_pending(table, p) > 0 && p->deadline && p->pid > 1)
			return slot_held(table);
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
	return false;
}

static int signal_watcher(struct cli_ctx *ctx, const char *cmd, int sig, struct pending *p)
{
	if (!cli_table_name_ok(ctx, cmd, ctx->table))
		return PC_EXIT_USAGE;
	int found = read_pending(ctx->table, p);
	if (found < 0) {
		fprintf(ctx->err, "%s %s: cannot read the pending confirmation: %s\n", ctx->prog,
				cmd, strerror(errno));
		return PC_EXIT_ENV;
	}
	if (found == 0 || !wait_watcher(ctx->table, p))
		return -1;
	if (kill((pid_t)p->pid, sig) < 0) {
		fprintf(ctx->err, "%s %s: cannot signal process %ld: %s (run it as root)\n",
				ctx->prog, cmd, p->pid, strerror(errno));
		return PC_EXIT_ENV;
	}
	if (!wait_gone(ctx->table)) {
		fprintf(ctx->err, "%s %s: process %ld did not answer in %d s\n", ctx->prog, cmd,
				p->pid, ANSWER_MS / 1000);
		return PC_EXIT_UNKNOWN;
	}
	return PC_EXIT_OK;
}

int cmd_confirm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pending p;
	(void)argv;
	int ret = no_args(ctx, "confirm", argc);
	if (ret != PC_EXIT_OK)
		return ret;
	ret = signal_watcher(ctx, "confirm", SIGUSR1, &p);
	if (ret > 0)
		return ret;
	if (ret == 0) {
		long long when;
		char what[16];
		unsigned g0, g1;
		/* The deadline may have come as the signal did. */
		if (read_rolledback(ctx->table, &when, what, sizeof(what), &g0, &g1))
			return report_rollback(ctx, "confirm", false);
		fprintf(ctx->out, "table inet %s confirmed: it stays as applied\n", ctx->table);
		return PC_EXIT_OK;
	}
	return report_rollback(ctx, "confirm", false);
}

int cmd_rollback(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pending p;
	(void)argv;
	int ret = no_args(ctx, "rollback", argc);
	if (ret != PC_EXIT_OK)
		return ret;
	ret = signal_watcher(ctx, "rollback", SIGUSR2, &p);
	if (ret > 0)
		return ret;
	if (ret < 0) {
		fprintf(ctx->err, "%s rollback: no confirmation is pending for table inet %s\n",
				ctx->prog, ctx->table);
		return PC_EXIT_ENV;
	}
	return report_rollback(ctx, "rollback", true);
}

int cli_confirm_status(const char *table, long long *deadline, long *pid)
{
	struct pending p;
	/* Not while the apply that holds the slot has not started its watcher. */
	if (slot_held(table) && read_pending(table, &p) > 0 && p.deadline) {
		*deadline = p.deadline;
		*pid = p.pid;
		return 1;
	}
	return 0;
}
