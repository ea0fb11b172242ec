/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A policy as a git revision holds it, for compare --git: the revision
 * resolved once to its commit, then the policy and each include read from
 * that commit (`git cat-file blob COMMIT:PATH`: the bytes committed, no
 * filters), paths taken relative to the repository's root.  git runs
 * without a shell, its arguments never taken for options.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "policy/yaml.h"
#include "portcullis/policy.h"
#include "util.h"

extern char **environ;

/*
 * Runs git with `args` (NULL-terminated, "git" first), its output into
 * `out` (at most `max` bytes; NULL: thrown away), its errors thrown away.
 * Returns its exit status, or -1 with errno set when it cannot be run or
 * says more than `max` (EFBIG).
 */
static int run_git(char *const args[], struct pc_buf *out, size_t max)
{
	posix_spawn_file_actions_t fa;
	int fds[2], status = -1, err = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	err = posix_spawnp(&pid, "git", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		errno = err;
		return -1;
	}
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!out)
			continue;
		if (out->len + (size_t)n > max)
			err = EFBIG; /* read on to the end, so that git is not stopped by a full
					pipe */
		else
			pc_buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * `path` made plain: no "." or empty components, each ".." taking the one
 * before away.  Returns NULL when it climbs above the start (allocated).
 */
static char *plain_path(const char *path)
{
	char *copy = xstrdup(path), *out = xcalloc(1, strlen(path) + 1), *save = NULL;
	size_t len = 0;

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (!len) {
				free(copy);
				free(out);
				return NULL;
			}
			while (len && out[len - 1] != '/')
				len--;
			len -= len > 0;
			out[len] = '\0';
			continue;
		}
		len += (size_t)sprintf(out + len, "%s%s", len ? "/" : "", c);
	}
	free(copy);
	return out;
}

#define LINKS_MAX 8 /* symbolic links followed for one file */

static void say_outside(const struct cli_git *g, const char *plain, const char *target)
{
	if (!g->err)
		return;
	pc_fputs_escaped(g->label, g->err);
	pc_fputs_escaped(plain, g->err);
	fputs(": a symbolic link to '", g->err);
	pc_fputs_escaped(target ? target : "", g->err);
	fputs("', outside the repository (an absolute target, or one that leaves it): it is not "
	      "followed\n",
			g->err);
}

/*
 * Follows `*plain` (a path from the repository's root) while the commit
 * holds a symbolic link there (mode 120000): its target, relative to the
 * link's directory, in place of it.  Returns 0, or -1 with errno set: ELOOP
 * after LINKS_MAX links, EXDEV for a target that is absolute or leaves
 * the repository.
 */
static int follow_links(const struct cli_git *g, char **plain)
{
	for (int hops = 0;; hops++) {
		struct pc_buf b;
		char *args[] = {"git", "--literal-pathspecs", "ls-tree", "--full-tree", "-z",
				g->commit, "--", *plain, NULL};
		pc_buf_init(&b);
		int st = run_git(args, &b, 1 << 16);
		bool link = st == 0 && b.len > 7 && !memcmp(b.data, "120000 ", 7);
		pc_buf_finish(&b);
		if (!link)
			return 0;
		if (hops == LINKS_MAX) {
			errno = ELOOP;
			return -1;
		}
		char *object = xasprintf("%s:%s", g->commit, *plain);
		char *blob_args[] = {"git", "cat-file", "blob", object, NULL};
		pc_buf_init(&b);
		st = run_git(blob_args, &b, PATH_MAX);
		free(object);
		size_t len = b.len;
		char *target = st == 0 ? xstrndup(b.data ? b.data : "", len) : NULL;
		pc_buf_finish(&b);
		if (!target || !*target || target[0] == '/' || strlen(target) != len) {
			say_outside(g, *plain, target);
			free(target);
			errno = EXDEV;
			return -1;
		}
		const char *slash = strrchr(*plain, '/');
		char *joined = xasprintf("%.*s%s%s", slash ? (int)(slash - *plain) : 0, *plain,
				slash ? "/" : "", target);
		char *next = plain_path(joined);
		free(joined);
		if (!next || !*next) {
			say_outside(g, *plain, target);
			free(target);
			free(next);
			errno = EXDEV;
			return -1;
		}
		free(target);
		free(*plain);
		*plain = next;
	}
}

/* The reader of pc_policy_load_with(): "REV:PATH" read from the commit. */
static int read_blob(void *arg, const char *path, char *real, struct pc_buf *out)
{
	struct cli_git *g = arg;
	size_t n = strlen(g->label);

	/* An include joined to "REV:dir/file" starts so; an absolute one does not.  One
	 * joined to "REV:file" (a policy at the top of the tree) has lost the "REV:". */
	const char *in = path + n;
	if (strncmp(path, g->label, n)) {
		if (path[0] == '/') {
			errno = ENOENT;
			return -1;
		}
		in = path;
	}
	char *plain = plain_path(in);
	if (!plain || !*plain) {
		free(plain);
		errno = ENOENT;
		return -1;
	}
	if (follow_links(g, &plain) < 0) {
		int e = errno;
		free(plain);
		errno = e;
		return -1;
	}
	char *object = xasprintf("%s:%s", g->commit, plain);
	char *args[] = {"git", "cat-file", "blob", object, NULL};
	int st = run_git(args, out, PC_YAML_MAX_BYTES);
	free(object);
	snprintf(real, PATH_MAX, "%s%s", g->label, plain);
	free(plain);
	if (st != 0) {
		if (st > 0)
			errno = ENOENT;
		return -1;
	}
	return 0;
}

/* The first line of git's answer, its newline taken off. */
static char *first_line(struct pc_buf *b)
{
	char *s = xstrndup(b->data ? b->data : "", b->len);

	s[strcspn(s, "\n")] = '\0';
	return s;
}

/*
 * `path` (absolute, or one that leaves the repository's directory and comes
 * back) from the repository's root, by the real directories it names: NULL
 * when its directory does not exist or is outside the repository.
 */
static char *path_in_top(const char *path)
{
	char *top_args[] = {"git", "rev-parse", "--show-toplevel", NULL};
	struct pc_buf b;
	char top[PATH_MAX], dir[PATH_MAX], *out = NULL;

	pc_buf_init(&b);
	int st = run_git(top_args, &b, 1 << 16);
	char *line = first_line(&b);
	pc_buf_finish(&b);
	const char *slash = strrchr(path, '/');
	char *d = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	const char *base = slash ? slash + 1 : path;
	if (st == 0 && realpath(line, top) && realpath(d, dir) && *base) {
		size_t n = strlen(top);
		if (!strcmp(dir, top))
			out = xstrdup(base);
		else if (!strncmp(dir, top, n) && dir[n] == '/')
			out = xasprintf("%s/%s", dir + n + 1, base);
	}
	free(line);
	free(d);
	return out;
}

int cli_git_open(struct cli_ctx *ctx, const char *rev, const char *path, struct cli_git *g)
{
	struct pc_buf b;
	int st;

	memset(g, 0, sizeof(*g));
	if (!*rev || rev[0] == '-' || strchr(rev, ':')) {
		fprintf(ctx->err, "%s compare: '", ctx->prog);
		pc_fputs_escaped(rev, ctx->err);
		fputs("' cannot name a revision here (nor begin with '-', nor hold ':')\n",
				ctx->err);
		return PC_EXIT_USAGE;
	}
	char *prefix_args[] = {"git", "rev-parse", "--show-prefix", NULL};
	pc_buf_init(&b);
	st = run_git(prefix_args, &b, 1 << 16);
	if (st != 0) {
		if (st < 0)
			fprintf(ctx->err, "%s compare: cannot run git: %s\n", ctx->prog,
					strerror(errno));
		else
			fprintf(ctx->err,
					"%s compare: --git: this directory is not in a git "
					"repository\n",
					ctx->prog);
		pc_buf_finish(&b);
		return PC_EXIT_ENV;
	}
	char *prefix = first_line(&b);
	pc_buf_finish(&b);

	char *spec = xasprintf("%s^{commit}", rev);
	char *verify_args[] = {"git", "rev-parse", "--verify", "--quiet", spec, NULL};
	pc_buf_init(&b);
	st = run_git(verify_args, &b, 1 << 16);
	free(spec);
	if (st != 0 || !b.len) {
		fprintf(ctx->err, "%s compare: --git: unknown revision '", ctx->prog);
		pc_fputs_escaped(rev, ctx->err);
		fputs("' in this repository\n", ctx->err);
		pc_buf_finish(&b);
		free(prefix);
		return PC_EXIT_ENV;
	}
	g->commit = first_line(&b);
	pc_buf_finish(&b);

	char *joined = path[0] == '/' ? NULL : xasprintf("%s%s", prefix, path);
	char *plain = joined ? plain_path(joined) : NULL;
	free(joined);
	free(prefix);
	if (!plain || !*plain) {
		free(plain);
		plain = path_in_top(path);
	}
	if (!plain || !*plain) {
		fprintf(ctx->err, "%s compare: --git: '", ctx->prog);
		pc_fputs_escaped(path, ctx->err);
		fputs("' is not a path inside the repository: name the policy relative to the "
		      "current directory, within the repository\n",
				ctx->err);
		free(plain);
		cli_git_close(g);
		return PC_EXIT_USAGE;
	}
	g->label = xasprintf("%s:", rev);
	g->path = xasprintf("%s%s", g->label, plain);
	char *object = xasprintf("%s:%s", g->commit, plain);
	char *exists_args[] = {"git", "cat-file", "-e", object, NULL};
	st = run_git(exists_args, NULL, 0);
	free(object);
	if (st != 0) {
		fprintf(ctx->err, "%s compare: --git: '", ctx->prog);
		pc_fputs_escaped(plain, ctx->err);
		fprintf(ctx->err, "' is not in revision '");
		pc_fputs_escaped(rev, ctx->err);
		fputs("'\n", ctx->err);
		free(plain);
		cli_git_close(g);
		return PC_EXIT_ENV;
	}
	free(plain);
	g->err = ctx->err;
	ctx->reader = read_blob;
	ctx->reader_arg = g;
	return PC_EXIT_OK;
}

void cli_git_close(struct cli_git *g)
{
	free(g->commit);
	free(g->label);
	free(g->path);
	memset(g, 0, sizeof(*g));
}
