/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis render: the ruleset a policy becomes, for review.  The header
 * names the portcullis version and the SHA-256 of every input (the policy
 * files and the registry layers), and nothing that changes from run to run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "newfile.h"
#include "pathwalk.h"
#include "pc-version.h"
#include "portcullis/linediff.h"
#include "portcullis/nft.h"
#include "portcullis/targets.h"
#include "sha256.h"
#include "util.h"

/* The SHA-256 of a registry layer: compiled in, or read again from its file. */
static char *layer_hash(const struct pc_registry *reg, enum pc_layer_kind kind)
{
	const char *embedded = pc_registry_layer_sha256(reg, kind);
	const char *file = pc_registry_layer_file(reg, kind);
	struct pc_buf b;
	char hex[65];

	if (embedded && !(pc_layer_def(kind)->flags & PC_LAYER_F_EMBEDDED))
		return xasprintf("%s sha256 %s (its files as read)", file, embedded);
	if (embedded)
		return xasprintf("%s sha256 %s (compiled in)", file, embedded);
	if (pc_read_file(file, 64u << 20, &b) < 0)
		return xasprintf("%s (unreadable now: %s)", file, strerror(errno));
	pc_sha256_of(b.data, b.len, hex);
	pc_buf_finish(&b);
	return xasprintf("%s sha256 %s", file, hex);
}

/*
 * An output file.  A regular file, or a name not yet taken, is replaced all
 * at once or not at all: the text goes to a new file made in its directory
 * (through the directory's descriptor; pc_newfile_open(): without a name
 * where the filesystem can), which is flushed to disk, named next to it and
 * renamed over the name.  A character device, a FIFO with a reader, and an
 * open descriptor named as /dev/stdout, /dev/stderr, /dev/fd/N or
 * /proc/self/fd/N are written in place, never truncated or renamed (so
 * `-o /dev/stdout >>log` appends to log).  A symbolic link as the last
 * component of -o FILE (in --out-dir's directory, a link is replaced by the
 * file) is followed only where no other user could have planted it:
 * links owned by another user in a sticky, group- or world-writable
 * directory are refused, as fs.protected_symlinks refuses them, whatever
 * that setting says.  A directory, a socket, a FIFO nobody reads and a link
 * to nothing are refused.
 */
struct output {
	FILE *f;
	char *path; /* as given, for messages */
	int dirfd; /* the directory of the name replaced; -1 when written in place */
	struct pc_newfile nf; /* the file that replaces it (nf.name NULL: none) */
};

/* Whether o replaces a name (else it is written in place). */
static bool replaces(const struct output *o)
{
	return o->nf.name != NULL;
}

/* The descriptor a path names by number (/dev/stdout, /dev/fd/1, ...), or -1. */
static int named_fd(const char *path)
{
	static const char *const names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
	static const char *const dirs[] = {"/dev/fd/", "/proc/self/fd/"};

	for (int i = 0; i < 3; i++)
		if (!strcmp(path, names[i]))
			return i;
	for (size_t i = 0; i < PC_ARRAY_SIZE(dirs); i++) {
		size_t n = strlen(dirs[i]);
		if (strncmp(path, dirs[i], n))
			continue;
		size_t digits = 0;
		while (path[n + digits] >= '0' && path[n + digits] <= '9')
			digits++;
		if (digits == 0 || digits > 9 || path[n + digits])
			continue;
		return atoi(path + n);
	}
	return -1;
}

/*
 * The file that replaces `name` in dirfd (pc_newfile_open(): without a name
 * until it is whole where the filesystem can, so that a render killed
 * meanwhile leaves nothing).  It gets the mode a new file gets from `>`
 * (0666 less the umask), or, when it replaces a file (`old`), that file's
 * permissions and, for root, its owner.  A descriptor of it for the caller's
 * stream, or -1 with errno (nothing made).
 */
static int make_temp(struct pc_newfile *nf, int dirfd, const char *name, const struct stat *old)
{
	if (pc_newfile_open(nf, dirfd, name, old ? 0600 : 0666) < 0)
		return -1;
	if (old) {
		if (geteuid() == 0)
			(void)!fchown(nf->fd, old->st_uid, old->st_gid);
		(void)!fchmod(nf->fd, old->st_mode & 0777);
	}
	int fd = fcntl(nf->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		int err = errno;
		pc_newfile_finish(nf);
		errno = err;
	}
	return fd;
}

static bool link_ok(const struct stat *link, const struct stat *dir, void *arg)
{
	(void)arg;
	return !pc_walk_link_planted(link, dir);
}

/*
 * Opens an output: a temporary file next to a regular file or a new name,
 * or the file itself when it is written in place.  Every component of the
 * path is walked through directory descriptors, and every link met (in the
 * directory part as well as at the end) is followed only if it is not planted
 * (pc_walk_link_planted()), except that a link as the last component of
 * `own_name` (a name --out-dir makes, not one the user gave) is not followed
 * at all: the new file is renamed over the link, whose target is left as it
 * is (a planted one is refused all the same).  Nothing that exists is changed here.
 */
static int output_open(struct cli_ctx *ctx, const char *path, bool own_name, struct output *o)
{
	struct pc_walk w;
	struct stat st;
	int fd = -1, err = 0, r = PC_WALK_OK;
	char *why = NULL;

	memset(o, 0, sizeof(*o));
	memset(&w, 0, sizeof(w));
	w.dirfd = -1;
	o->path = xstrdup(path);
	o->dirfd = -1;
	int n = named_fd(path);
	if (n >= 0) {
		int fl = fcntl(n, F_GETFL);
		if (fl < 0)
			why = xasprintf("descriptor %d is not open", n);
		else if ((fl & O_ACCMODE) == O_RDONLY)
			why = xasprintf("descriptor %d is not open for writing", n);
		else if ((fd = fcntl(n, F_DUPFD_CLOEXEC, 3)) < 0)
			err = errno;
		goto opened;
	}
	/* `followed`: the last component is the target of a link (not a directory link). */
	bool followed = false;
	for (r = pc_walk_start(&w, path, false, PC_WALK_MAX_STEPS, link_ok, NULL); r == PC_WALK_OK;
			r = pc_walk_follow(&w, &st, link_ok, NULL), followed = true) {
		if (!*w.name || !strcmp(w.name, ".") || !strcmp(w.name, "..")) {
			why = xstrdup("it is a directory");
			goto opened;
		}
		if (pc_walk_lstat(&w, &st) < 0) {
			if (errno != ENOENT)
				err = errno;
			else if (followed)
				why = xstrdup("it is a symbolic link to nothing");
			else if ((fd = make_temp(&o->nf, w.dirfd, w.name, NULL)) < 0)
				err = errno;
			goto opened;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (own_name && !followed && !pc_walk_link_planted(&st, &w.dir)) {
			/*
			 * A name portcullis gives (--out-dir): the link itself is
			 * replaced, unless another user planted it (refused below).
			 */
			if ((fd = make_temp(&o->nf, w.dirfd, w.name, NULL)) < 0)
				err = errno;
			goto opened;
		}
	}
	if (r == PC_WALK_LINK) {
		const char *dir = w.shown.len ? w.shown.data : ".";
		why = xasprintf("%s is a symbolic link owned by uid %u in %s, a directory other "
				"users can write (mode %04o, owner uid %u): it is not followed; "
				"remove it, or name the file it points to",
				strcmp(w.link_shown, path) ? w.link_shown : "it",
				(unsigned)w.link.st_uid, dir, (unsigned)(w.dir.st_mode & 07777),
				(unsigned)w.dir.st_uid);
		goto opened;
	}
	if (r == PC_WALK_STEPS) {
		why = xasprintf("resolving it walks more than %d path components",
				PC_WALK_MAX_STEPS);
		goto opened;
	}
	if (r != PC_WALK_OK) {
		err = errno;
		if (followed && err == ENOENT)
			why = xstrdup("it is a symbolic link to nothing");
		goto opened;
	}
	if (S_ISREG(st.st_mode)) {
		if ((fd = make_temp(&o->nf, w.dirfd, w.name, &st)) < 0)
			err = errno;
	} else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		/* O_NONBLOCK: a FIFO that nobody reads is refused at once (ENXIO). */
		fd = openat(w.dirfd, w.name,
				O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0 && errno == ENXIO && S_ISFIFO(st.st_mode))
			why = xstrdup("it is a FIFO that no process reads");
		else if (fd < 0)
			err = errno;
		else if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) ||
				fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
			why = xstrdup("it changed while it was opened");
	} else {
		why = xstrdup(S_ISDIR(st.st_mode)
						? "it is a directory"
						: "not a regular file, a character device or a FIFO");
	}
opened:
	if (!why && !err && fd >= 0 && !(o->f = fdopen(fd, "w")))
		err = errno;
	if (o->f && replaces(o)) {
		/* The new file is named, renamed (or removed) through this descriptor. */
		o->dirfd = w.dirfd;
		w.dirfd = -1;
	} else if (!o->f) {
		if (fd >= 0)
			close(fd);
		if (replaces(o))
			pc_newfile_finish(&o->nf);
		fprintf(ctx->err, "%s: cannot write %s: %s\n", ctx->prog, path,
				why ? why : strerror(err));
	}
	pc_walk_finish(&w);
	free(why);
	return o->f ? 0 : -1;
}

/*
 * Ends the writing of an output: flushed and its stream closed, and a new
 * file synced to disk (its own descriptor stays open for output_name()).
 * Says why on failure.
 */
static int output_flush(struct cli_ctx *ctx, struct output *o)
{
	int saved = 0;

	if (!o->f)
		return -1;
	if (fflush(o->f) != 0 || ferror(o->f))
		saved = errno ? errno : EIO;
	if (!saved && replaces(o) && fsync(o->nf.fd) < 0)
		saved = errno;
	if (fclose(o->f) != 0 && !saved)
		saved = errno;
	o->f = NULL;
	if (saved && saved != EPIPE)
		fprintf(ctx->err, "%s: cannot write %s: %s%s\n", ctx->prog, o->path,
				strerror(saved), replaces(o) ? " (nothing was changed)" : "");
	return saved ? -1 : 0;
}

/*
 * A flushed output that replaces a name given its temporary name next to
 * it (until output_end() renames it) and its descriptor closed.  Says why
 * on failure.
 */
static int output_name(struct cli_ctx *ctx, struct output *o)
{
	int saved = 0;

	if (!replaces(o))
		return 0;
	if (pc_newfile_link(&o->nf) < 0)
		saved = errno;
	if (pc_newfile_close(&o->nf) < 0 && !saved)
		saved = errno;
	if (saved)
		fprintf(ctx->err, "%s: cannot write %s: %s (nothing was changed)\n", ctx->prog,
				o->path, strerror(saved));
	return saved ? -1 : 0;
}

/*
 * Puts an output in place (`keep`: its temporary file renamed over the
 * name) or removes its temporary file, and frees it.
 */
static int output_end(struct cli_ctx *ctx, struct output *o, bool keep)
{
	int ret = 0;

	if (o->f) {
		fclose(o->f);
		o->f = NULL;
	}
	if (replaces(o) && keep && pc_newfile_commit(&o->nf) < 0) {
		fprintf(ctx->err, "%s: cannot write %s: %s\n", ctx->prog, o->path, strerror(errno));
		ret = -1;
	}
	if (replaces(o))
		pc_newfile_finish(&o->nf); /* not kept: its temporary name removed */
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->dirfd = -1;
	return ret;
}

static bool one_family(const struct pc_target *tg)
{
	return tg->family != 0;
}

static bool has_jumps(const struct pc_target *tg)
{
	return tg->caps & PC_TARGET_F_JUMPS;
}

/*
 * Which outputs the options ask for (want[i] for pc_targets[i]); PC_EXIT_OK,
 * or PC_EXIT_USAGE after saying why.
 */
static int choose_targets(struct cli_ctx *ctx, const char *table, bool *want)
{
	const char *t = ctx->target ? ctx->target : "nft";
	bool all = !strcmp(t, "all"), known = all, family_ok = false, jumps = false;
	int family = 4;
	char why[256];

	for (size_t i = 0; i < pc_ntargets; i++) {
		if (strcmp(pc_targets[i].option, t))
			continue;
		known = true;
		family_ok |= one_family(&pc_targets[i]);
		jumps |= has_jumps(&pc_targets[i]);
	}
	if (ctx->family) {
		if (!family_ok) {
			fprintf(ctx->err, "%s render: --family applies to --target ", ctx->prog);
			cli_target_options(ctx->err, one_family);
			fputc('\n', ctx->err);
			return PC_EXIT_USAGE;
		}
		if (strcmp(ctx->family, "ipv4") && strcmp(ctx->family, "ipv6")) {
			fprintf(ctx->err, "%s render: --family is ipv4 or ipv6, not '", ctx->prog);
			pc_fputs_escaped(ctx->family, ctx->err);
			fputs("'\n", ctx->err);
			return PC_EXIT_USAGE;
		}
		family = ctx->family[3] == '6' ? 6 : 4;
	}
	if (ctx->no_jump && !jumps && !all) {
		fprintf(ctx->err, "%s render: --no-jump applies to --target ", ctx->prog);
		cli_target_options(ctx->err, has_jumps);
		fputc('\n', ctx->err);
		return PC_EXIT_USAGE;
	}
	if (ctx->out_dir && ctx->output) {
		fprintf(ctx->err, "%s render: give -o FILE or --out-dir DIR, not both\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (all && !ctx->out_dir) {
		fprintf(ctx->err,
				"%s render: --target all writes several files: add --out-dir DIR\n",
				ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (!known) {
		fprintf(ctx->err, "%s render: unknown target '", ctx->prog);
		pc_fputs_escaped(t, ctx->err);
		fprintf(ctx->err, "'; the targets: ");
		cli_target_options(ctx->err, NULL);
		fprintf(ctx->err, ", all\n");
		return PC_EXIT_USAGE;
	}
	/* Into a directory: every family's file, as iptables-restore and ip6tables-restore want. */
	for (size_t i = 0; i < pc_ntargets; i++)
		want[i] = all || (!strcmp(pc_targets[i].option, t) &&
						 (ctx->out_dir || !pc_targets[i].family ||
								 pc_targets[i].family == family));
	if (!cli_table_name_ok(ctx, "render", table))
		return PC_EXIT_USAGE;
	for (size_t i = 0; i < pc_ntargets; i++) {
		if (!want[i] || !pc_targets[i].table_ok ||
				pc_targets[i].table_ok(table, why, sizeof(why)))
			continue;
		fprintf(ctx->err, "%s render: %s\n", ctx->prog, why);
		return PC_EXIT_USAGE;
	}
	return PC_EXIT_OK;
}

/*
 * Header lines are comments in every target: a file name from the command
 * line or an include may hold any byte, so whatever could end the comment
 * (a line break, a backslash continuing the line in pf) or mislead a reader
 * (bidirectional controls) becomes '?'.
 */
static char *header_line(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		bool unsafe;
		size_t len = pc_text_char(p, n, &unsafe);
		if (unsafe || *p == '\\') {
			memset(p, '?', 1);
			memmove(p + 1, p + len, n - len + 1);
			len = 1;
		}
		p += len;
		n -= len;
	}
	return s;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void print_target(const struct pc_target *tg, const struct pc_nft_table *t,
		const char *policy, bool jumps, char **common, size_t ncommon, FILE *out)
{
	struct pc_target_options o = {PC_VERSION, policy, jumps};
	char *header[64 + PC_TARGET_HEADER_MAX];
	size_t own = tg->header(t, &o, header), nh = own;

	for (size_t i = 0; i < ncommon && nh < PC_ARRAY_SIZE(header); i++)
		header[nh++] = common[i];
	tg->print(t, &o, (const char *const *)header, nh, out);
	for (size_t i = 0; i < own; i++)
		free(header[i]);
}

/*
 * Every file asked for, all or none: each target's temporary file is made,
 * written and synced first, and they are renamed over their names only when
 * all of them were.  On any failure every temporary file is removed and no
 * name changes.  (The renames are one after the other: a crash between them
 * can still leave some files new and others old.)
 */
static int write_outputs(struct cli_ctx *ctx, const bool *want, const struct pc_nft_table *t,
		const char *policy, char **header, size_t nh, const char *base)
{
	struct output *o = xcalloc(pc_ntargets, sizeof(*o));
	const struct pc_target **kind = xcalloc(pc_ntargets, sizeof(*kind));
	size_t n = 0, renamed = 0, nwant = 0;
	bool ok = true;

	for (size_t k = 0; k < pc_ntargets; k++)
		nwant += want[k];
	/* The directory itself, one level, as mkdir makes it (its parent must exist). */
	if (ctx->out_dir && mkdir(ctx->out_dir, 0755) < 0 && errno != EEXIST) {
		int err = errno;
		fprintf(ctx->err, "%s render: cannot make the directory ", ctx->prog);
		pc_fputs_escaped(ctx->out_dir, ctx->err);
		fprintf(ctx->err, ": %s%s\n", strerror(err),
				err == ENOENT ? " (its parent directory does not exist: "
						"make it first)"
					      : "");
		ok = false;
	}
	/* The first file that cannot be opened ends the opening: one message. */
	for (size_t k = 0; k < pc_ntargets && ok; k++) {
		if (!want[k])
			continue;
		char *path = ctx->out_dir ? xasprintf("%s/%s%s", ctx->out_dir, base,
							    pc_targets[k].suffix)
					  : xstrdup(ctx->output);
		kind[n] = &pc_targets[k];
		if (output_open(ctx, path, ctx->out_dir != NULL, &o[n]) < 0)
			ok = false;
		n++;
		free(path);
	}
	for (size_t i = 0; ok && i < n; i++)
		print_target(kind[i], t, policy, !ctx->no_jump, header, nh, o[i].f);
	for (size_t i = 0; ok && i < n; i++)
		if (output_flush(ctx, &o[i]) < 0)
			ok = false;
	/*
	 * From the first file named to the last renamed, an interrupt waits: a
	 * render stopped between would leave temporary names.
	 */
	sigset_t was;
	cli_interrupts_hold(&was);
	for (size_t i = 0; ok && i < n; i++)
		if (output_name(ctx, &o[i]) < 0)
			ok = false;
	for (size_t i = 0; i < n; i++) {
		bool keep = ok;
		if (output_end(ctx, &o[i], keep) < 0)
			ok = false;
		else if (keep)
			renamed++;
	}
	cli_interrupts_restore(&was);
	if (!ok && nwant > 1 && renamed)
		fprintf(ctx->err,
				"%s render: %zu of the %zu files were replaced before that "
				"failure\n",
				ctx->prog, renamed, nwant);
	else if (!ok && nwant > 1)
		fprintf(ctx->err, "%s render: none of the %zu files was replaced\n", ctx->prog,
				nwant);
	free(o);
	free(kind);
	return ok ? PC_EXIT_OK : PC_EXIT_ENV;
}

/* The largest committed rendering read back (the 50 000-rule policy's nft script is 13 MB). */
#define CHECK_MAX_FILE (256u << 20)

/* A word of a command line, quoted for sh when it needs it, control bytes escaped. */
static void shell_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "_./=:,@%+-") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (const char *c = w; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", f);
		else {
			char one[2] = {*c, 0};
			pc_fputs_escaped(one, f);
		}
	}
	fputc('\'', f);
}

/* The command that writes what --check-up-to-date compares with: render --out-dir. */
static void regenerate_command(struct cli_ctx *ctx, FILE *f, char **policies, int n)
{
	fprintf(f, "%s render --target %s", ctx->prog, ctx->target ? ctx->target : "all");
	if (ctx->table_given) {
		fputs(" --table ", f);
		shell_word(f, ctx->table);
	}
	if (ctx->no_jump)
		fputs(" --no-jump", f);
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
		if (!ctx->layer_file[k])
			continue;
		if (k == PC_LAYER_SYSTEM && (ctx->layer_optional & (1u << k))) {
			fputs(" --system", f);
			continue;
		}
		fputs(k == PC_LAYER_IANA ? " --registry " : " --services ", f);
		shell_word(f, ctx->layer_file[k]);
		(void)def;
	}
	for (size_t i = 0; i < ctx->defines.n; i++) {
		fputs(" --define ", f);
		shell_word(f, ctx->defines.v[i]);
	}
	fputs(" --out-dir ", f);
	shell_word(f, ctx->check_dir);
	for (int i = 0; i < n; i++) {
		fputc(' ', f);
		shell_word(f, policies[i]);
	}
}

/*
 * The diff of one file of DIR, from `before` (committed; NULL: missing) to
 * `after` (rendered now; NULL: not written now), under a line that says what
 * it is: PATH then `what` (freed here).  The headers are
 * git's (a/ and b/ before a relative path), so `git apply` or `patch -p1`
 * in the working directory brings DIR up to date.  Returns whether they
 * differ (nothing is printed when not).
 */
static bool show_diff(struct cli_ctx *ctx, const char *path, const char *before, size_t blen,
		const char *after, size_t alen, char *what)
{
	bool rel = path[0] != '/';
	char *la = before ? xasprintf("%s%s", rel ? "a/" : "", path) : xstrdup("/dev/null");
	char *lb = after ? xasprintf("%s%s", rel ? "b/" : "", path) : xstrdup("/dev/null");
	char *text = NULL;
	size_t len = 0, hunks;
	FILE *m;

	if (before && after && blen == alen && !memcmp(before, after, alen)) {
		free(la);
		free(lb);
		free(what);
		return false;
	}
	m = open_memstream(&text, &len);
	hunks = pc_linediff_text(
			before ? before : "", blen, after ? after : "", alen, la, lb, 3, m);
	fclose(m);
	if (hunks) {
		pc_fputs_escaped(path, ctx->out);
		fputc(' ', ctx->out);
		pc_fputs_escaped(what, ctx->out);
		fputs(":\n", ctx->out);
		fwrite(text, 1, len, ctx->out);
	}
	free(what);
	free(text);
	free(la);
	free(lb);
	return hunks != 0;
}

/*
 * A file of DIR that is a symbolic link: said so with where it points, and
 * not read.  render --out-dir replaces the link with the file.
 */
static void not_regular(struct cli_ctx *ctx, const char *path)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	pc_fputs_escaped(path, ctx->out);
	fputs(" is not a regular file (a symlink", ctx->out);
	if (n >= 0) {
		target[n] = '\0';
		fputs(" to ", ctx->out);
		pc_fputs_escaped(target, ctx->out);
	}
	fputs("): replace it with the rendering\n", ctx->out);
}

/* How the files of one --check-up-to-date compare. */
struct check_count {
	size_t files, differ, missing, extra;
};

/*
 * Whether the file at `path` (a regular file) begins with a header of
 * portcullis naming `mark` ("policy FILE sha256 "), within the first
 * size - 1 bytes, where every target writes its header; read into buf.
 */
static bool read_head(const char *path, const char *mark, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t got = 0, r;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	while ((size_t)got < size - 1 && (r = read(fd, buf + got, size - 1 - (size_t)got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		got += r;
	}
	close(fd);
	buf[got] = '\0';
	return strstr(buf, "generated by portcullis") && strstr(buf, mark);
}

/*
 * The files of DIR that portcullis rendered from `policy_file` (their header
 * names it) under a name it does not write now: left over, stale.  Each is
 * shown as removed.  Returns PC_EXIT_OK or PC_EXIT_ENV.
 */
static int check_extra(struct cli_ctx *ctx, const char *policy_file, char *const *expected,
		size_t nexpected, struct check_count *c)
{
	DIR *d = opendir(ctx->check_dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!d && errno == ENOENT)
		return PC_EXIT_OK; /* no directory: every file is missing, none left over */
	if (!d) {
		fprintf(ctx->err, "%s render: cannot read the directory ", ctx->prog);
		pc_fputs_escaped(ctx->check_dir, ctx->err);
		fprintf(ctx->err, ": %s\n", strerror(errno));
		return PC_EXIT_ENV;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		bool ours = false;
		for (size_t k = 0; k < pc_ntargets && !ours; k++) {
			size_t sl = strlen(pc_targets[k].suffix);
			ours = len > sl && !strcmp(e->d_name + len - sl, pc_targets[k].suffix);
		}
		for (size_t k = 0; k < nexpected && ours; k++)
			ours = strcmp(e->d_name, expected[k]) != 0;
		if (!ours)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	char *mark = header_line(xasprintf("policy %s sha256 ", policy_file));
	for (size_t i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", ctx->check_dir, names[i]);
		struct pc_buf b;
		char head[4097];
		/* Only a rendering of this policy is read whole. */
		if (read_head(path, mark, head, sizeof(head)) &&
				pc_read_file_nofollow(path, CHECK_MAX_FILE, &b) == 0) {
			if (show_diff(ctx, path, b.data, b.len, NULL, 0,
					    xasprintf("was rendered from %s, which no "
						      "longer writes it (remove it)",
							    policy_file)))
				c->extra++;
			pc_buf_finish(&b);
		}
		free(path);
		free(names[i]);
	}
	free(mark);
	free(names);
	return PC_EXIT_OK;
}

/*
 * render --check-up-to-date DIR: renders what --out-dir DIR would write and
 * compares it with the files there, printing a unified diff for each that
 * differs, is missing, or is left over from this policy under a name not
 * written now.  Returns PC_EXIT_OK when every file is what the policy renders
 * now, PC_EXIT_INVALID when one is not, PC_EXIT_ENV when one cannot be read.
 */
static int check_outputs(struct cli_ctx *ctx, const bool *want, const struct pc_nft_table *t,
		const char *policy, char **header, size_t nh, const char *base,
		const char *policy_file, struct check_count *c)
{
	/* The names of every target's file: those --target leaves out are not left over. */
	char **expected = xcalloc(pc_ntargets, sizeof(*expected));
	int ret = PC_EXIT_OK;

	for (size_t k = 0; k < pc_ntargets; k++)
		expected[k] = xasprintf("%s%s", base, pc_targets[k].suffix);
	for (size_t k = 0; k < pc_ntargets && ret == PC_EXIT_OK; k++) {
		if (!want[k])
			continue;
		char *path = xasprintf("%s/%s", ctx->check_dir, expected[k]);
		char *now = NULL;
		size_t nowlen = 0;
		FILE *m = open_memstream(&now, &nowlen);
		struct pc_buf old;

		print_target(&pc_targets[k], t, policy, !ctx->no_jump, header, nh, m);
		fclose(m);
		c->files++;
		if (pc_read_file_nofollow(path, CHECK_MAX_FILE, &old) == 0) {
			if (show_diff(ctx, path, old.data, old.len, now, nowlen,
					    xasprintf("is not what %s renders now (- committed, + "
						      "rendered now)",
							    policy_file)))
				c->differ++;
			pc_buf_finish(&old);
		} else if (errno == ELOOP) {
			/* Never read: a link could show any file's contents in the diff. */
			c->differ++;
			not_regular(ctx, path);
		} else if (errno == ENOENT) {
			c->missing++;
			show_diff(ctx, path, NULL, 0, now, nowlen,
					xasprintf("is missing: %s renders it", policy_file));
		} else {
			fprintf(ctx->err, "%s render: cannot read ", ctx->prog);
			pc_fputs_escaped(path, ctx->err);
			fprintf(ctx->err, ": %s\n",
					errno == EINVAL ? "not a regular file" : strerror(errno));
			ret = PC_EXIT_ENV;
		}
		free(now);
		free(path);
	}
	if (ret == PC_EXIT_OK)
		ret = check_extra(ctx, policy_file, expected, pc_ntargets, c);
	for (size_t i = 0; i < pc_ntargets; i++)
		free(expected[i]);
	free(expected);
	return ret;
}

/* The summary of --check-up-to-date, on standard error; the status to end with. */
static int check_summary(
		struct cli_ctx *ctx, int ret, const struct check_count *c, char **policies, int n)
{
	size_t stale = c->differ + c->missing + c->extra;

	if (ret == PC_EXIT_ENV || (ret != PC_EXIT_OK && !stale))
		return ret;
	if (!stale) {
		fprintf(ctx->err, "%s render: the %zu file%s in ", ctx->prog, c->files,
				c->files == 1 ? "" : "s");
		pc_fputs_escaped(ctx->check_dir, ctx->err);
		fprintf(ctx->err, " %s what the %s now\n", c->files == 1 ? "is" : "are",
				n == 1 ? "policy renders" : "policies render");
		return PC_EXIT_OK;
	}
	fprintf(ctx->err, "%s render: ", ctx->prog);
	pc_fputs_escaped(ctx->check_dir, ctx->err);
	fputs(" is not up to date:", ctx->err);
	if (c->differ)
		fprintf(ctx->err, " %zu of %zu file%s differ%s", c->differ, c->files,
				c->files == 1 ? "" : "s", c->differ == 1 ? "s" : "");
	if (c->missing)
		fprintf(ctx->err, "%s %zu %s missing", c->differ ? "," : "", c->missing,
				c->missing == 1 ? "is" : "are");
	if (c->extra)
		fprintf(ctx->err, "%s %zu left over from the policy under a name no longer written",
				c->differ || c->missing ? "," : "", c->extra);
	fputs(" (the diff above: - committed, + rendered now). Regenerate with:\n  ", ctx->err);
	regenerate_command(ctx, ctx->err, policies, n);
	fputc('\n', ctx->err);
	if (c->extra)
		fputs("  and remove the files left over\n", ctx->err);
	return PC_EXIT_INVALID;
}

/*
 * What the files of a policy are named after in a directory: the policy
 * file's base name without .yaml (or .yml); for standard input, NULL (the
 * policy's own name, once read).
 */
static char *file_base(const char *path)
{
	const char *slash = strrchr(path, '/'), *b = slash ? slash + 1 : path;
	size_t n = strlen(b);

	if (!strcmp(path, "-"))
		return NULL;
	if (n > 5 && !strcmp(b + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(b + n - 4, ".yml"))
		n -= 4;
	return xstrndup(b, n);
}

/*
 * The base names of the policies given with --out-dir or
 * --check-up-to-date, each once: two policies named alike would write the
 * same files.  Returns PC_EXIT_OK, or PC_EXIT_USAGE after saying why.
 */
static int check_bases(struct cli_ctx *ctx, char **bases, char **argv, int argc)
{
	for (int i = 0; i < argc; i++) {
		if (bases[i] && (!*bases[i] || !strcmp(bases[i], ".") || !strcmp(bases[i], ".."))) {
			fprintf(ctx->err, "%s render: cannot name the files of '", ctx->prog);
			pc_fputs_escaped(argv[i], ctx->err);
			fputs("' after it: give the policy file a name (kdc-primary.yaml writes "
			      "kdc-primary.nft, ...)\n",
					ctx->err);
			return PC_EXIT_USAGE;
		}
		for (int k = 0; k < i; k++) {
			if (!bases[i] || !bases[k] || strcmp(bases[i], bases[k]))
				continue;
			fprintf(ctx->err, "%s render: '", ctx->prog);
			pc_fputs_escaped(argv[k], ctx->err);
			fputs("' and '", ctx->err);
			pc_fputs_escaped(argv[i], ctx->err);
			fputs("' would both write ", ctx->err);
			pc_fputs_escaped(bases[i], ctx->err);
			fputs(".nft, ... in one directory: render them into different "
			      "directories, or rename one\n",
					ctx->err);
			return PC_EXIT_USAGE;
		}
	}
	return PC_EXIT_OK;
}

/*
 * One policy rendered: printed, written (-o, --out-dir, as `base`.SUFFIX),
 * or compared (--check-up-to-date, counted in c).  Returns the exit status.
 */
static int render_one(struct cli_ctx *ctx, const char *path, const bool *want, const char *base,
		struct check_count *c)
{
	struct pc_policy p;
	struct pc_nft_table t;
	struct pc_diags d;
	const char *table = ctx->table;
	int ret;

	ret = cli_load_policy(ctx, path, &p, NULL);
	if (ret != PC_EXIT_OK) {
		pc_policy_finish(&p);
		return ret;
	}
	if (!base)
		base = p.name; /* standard input: the policy's own name, a safe file name */
	pc_diags_init(&d);
	bool printable = pc_nft_lower(&p, table, &t, &d) == 0;
	for (size_t k = 0; k < pc_ntargets && printable; k++)
		if (want[k] && pc_targets[k].check && pc_targets[k].check(&t, &p, &d) < 0)
			printable = false;
	/* As the policy's own: --Wno-CODE silences warnings, the first CLI_MAX_PRINTED are shown
	 * (--strict is said below, of the warnings left). */
	pc_diags_filter(&d, ctx->wno.v, ctx->wno.n, false, CLI_MAX_PRINTED);
	pc_policy_print_diags(&p, &d, ctx->err);
	if (!printable) {
		ret = PC_EXIT_INVALID;
		goto out;
	}
	if (ctx->strict && d.nwarnings) {
		fprintf(ctx->err, "%s render: --strict: %zu warning%s about the rendering\n",
				ctx->prog, d.nwarnings, d.nwarnings == 1 ? "" : "s");
		ret = PC_EXIT_INVALID;
		goto out;
	}

	/* What produced the files, and nothing that changes between runs. */
	size_t nh = 0, cap = 8 + pc_policy_file_count(&p) + pc_policy_list_count(&p);
	char **header = xcalloc(cap, sizeof(*header));
	for (size_t i = 0; i < pc_policy_file_count(&p) && nh < 60; i++) {
		const char *text;
		size_t len;
		const char *file = pc_policy_file(&p, i, &text, &len);
		char hex[65];
		pc_sha256_of(text, len, hex);
		header[nh++] = header_line(
				xasprintf("%s %s sha256 %s", i ? "include" : "policy", file, hex));
	}
	for (size_t i = 0; i < pc_policy_list_count(&p) && nh < 60; i++) {
		char hex[65];
		const char *file = pc_policy_list(&p, i, hex);
		header[nh++] = header_line(xasprintf("list %s sha256 %s", file, hex));
	}
	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		if (!pc_registry_has_layer(ctx->reg, (enum pc_layer_kind)k))
			continue;
		const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
		if (def->flags & PC_LAYER_F_DEFINED) {
			header[nh++] = xasprintf(
					"registry %s: the policy's own services", def->name);
			continue;
		}
		char *h = layer_hash(ctx->reg, def->kind);
		if (def->flags & PC_LAYER_F_SNAPSHOT)
			header[nh++] = header_line(xasprintf("registry %s %s, snapshot %s",
					def->name, h, pc_registry_layer_date(ctx->reg, def->kind)));
		else
			header[nh++] = header_line(xasprintf("registry %s %s", def->name, h));
		free(h);
	}

	if (ctx->check_dir) {
		const char *text;
		size_t len;
		const char *file = pc_policy_file(&p, 0, &text, &len);
		ret = check_outputs(ctx, want, &t, p.name, header, nh, base, file, c);
	} else if (!ctx->out_dir && !ctx->output) {
		for (size_t k = 0; k < pc_ntargets; k++)
			if (want[k])
				print_target(&pc_targets[k], &t, p.name, !ctx->no_jump, header, nh,
						ctx->out);
	} else {
		ret = write_outputs(ctx, want, &t, p.name, header, nh, base);
	}
	for (size_t i = 0; i < nh; i++)
		free(header[i]);
	free(header);
out:
	pc_nft_table_finish(&t);
	pc_diags_finish(&d);
	pc_policy_finish(&p);
	return ret;
}

int cmd_render(struct cli_ctx *ctx, int argc, char **argv)
{
	struct check_count c = {0, 0, 0, 0};
	char **bases = NULL;
	bool *want = NULL;
	int ret, worst = PC_EXIT_OK;

	if (argc < 1 || (argc > 1 && !ctx->out_dir && !ctx->check_dir)) {
		fprintf(ctx->err,
				"%s render: name one policy file, e.g. '%s render "
				"policies/kdc-primary.yaml' (several with --out-dir or "
				"--check-up-to-date)\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (ctx->check_dir && (ctx->out_dir || ctx->output)) {
		fprintf(ctx->err,
				"%s render: --check-up-to-date DIR compares, it writes nothing: "
				"leave out %s\n",
				ctx->prog, ctx->out_dir ? "--out-dir" : "-o");
		return PC_EXIT_USAGE;
	}
	if (ctx->check_dir) {
		/* What `render --target all --out-dir DIR` writes, unless --target says otherwise.
		 */
		if (!ctx->target)
			ctx->target = "all";
		ctx->out_dir = ctx->check_dir;
	}
	want = xcalloc(pc_ntargets, sizeof(*want));
	ret = choose_targets(ctx, ctx->table, want);
	if (ctx->check_dir)
		ctx->out_dir = NULL;
	if (ret == PC_EXIT_OK && (ctx->out_dir || ctx->check_dir)) {
		/* Files named after each policy: kdc-primary.yaml writes kdc-primary.nft, ... */
		bases = xcalloc((size_t)argc, sizeof(*bases));
		for (int i = 0; i < argc; i++)
			bases[i] = file_base(argv[i]);
		ret = check_bases(ctx, bases, argv, argc);
	}
	for (int i = 0; ret == PC_EXIT_OK && i < argc; i++) {
		int r = render_one(ctx, argv[i], want, bases ? bases[i] : NULL, &c);
		if (r == PC_EXIT_ENV || (r != PC_EXIT_OK && worst == PC_EXIT_OK))
			worst = r;
	}
	if (ret == PC_EXIT_OK)
		ret = worst;
	if (ctx->check_dir && ret != PC_EXIT_USAGE)
		ret = check_summary(ctx, ret, &c, argv, argc);
	for (int i = 0; bases && i < argc; i++)
		free(bases[i]);
	free(bases);
	free(want);
	return ret;
}
