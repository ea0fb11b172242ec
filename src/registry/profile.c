/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The krb5 profile format (portcullis/profile.h): a line-oriented parser
 * that recovers per line, so one run reports every bad line of every file.
 */
#include "portcullis/profile.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct open_file {
	dev_t dev;
	ino_t ino;
	const char *label;
};

/* One profile being read: its files share the limits. */
struct reader {
	struct pc_profile *p;
	struct pc_diags *diags;
	unsigned nerr;
	bool stopped; /* too many errors */
	struct open_file stack[PC_PROFILE_MAX_INCLUDE_DEPTH + 1]; /* the files being read */
	unsigned depth;
};

/* One file being read. */
struct file_state {
	const char *label; /* in the arena */
	const char *path; /* to open its includes from; NULL: from memory */
	enum {
		ST_INIT,
		ST_STD,
		ST_OBRACE
	} st;
	struct pc_profile_node *section; /* the current section */
	struct pc_profile_node *group; /* where relations go: the section or a subsection */
	struct pc_profile_node *pending; /* a subsection waiting for its '{' */
	unsigned level; /* open subsections */
};

static PC_PRINTF(6, 7) struct pc_diag *problem(struct reader *r, const char *code, const char *file,
		unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (r->stopped)
		return NULL;
	if (++r->nerr > PC_PROFILE_MAX_ERRORS) {
		r->stopped = true;
		struct pc_diag *d = pc_diag_add(r->diags, PC_SEV_ERROR, "profile-limit", file, line,
				col, "more than %d errors: reading stops here",
				PC_PROFILE_MAX_ERRORS);
		pc_diag_hint(d, "fix the errors above and read it again");
		return NULL;
	}
	va_start(ap, fmt);
	struct pc_diag *d = pc_diag_addv(r->diags, PC_SEV_ERROR, code, file, line, col, fmt, ap);
	va_end(ap);
	return d;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static struct pc_profile_node *node_new(struct pc_profile *p, const struct file_state *f,
		const char *name, size_t n, unsigned line, unsigned col)
{
	struct pc_profile_node *node = pc_arena_alloc(&p->arena, sizeof(*node));

	node->name = pc_arena_strndup(&p->arena, name, n);
	node->file = f->label;
	node->line = line;
	node->col = col;
	return node;
}

static void node_append(struct pc_profile_node *parent, struct pc_profile_node *child)
{
	child->parent = parent;
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
}

/* Only blanks from `s` on. */
static bool rest_blank(const char *s)
{
	while (is_blank(*s))
		s++;
	return *s == '\0';
}

/* `s` without its trailing blanks, as a length. */
static size_t trimmed(const char *s, size_t n)
{
	while (n && is_blank(s[n - 1]))
		n--;
	return n;
}

/* Checks the bytes of a line that is not a comment: no control bytes, UTF-8. */
static bool line_bytes_ok(struct reader *r, const struct file_state *f, const char *s, size_t n,
		unsigned line)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
					(unsigned)i + 1, "control character 0x%02x", ch);
			if (ch == '\r')
				pc_diag_hint(d, "a carriage return may only end a line (CRLF)");
			else
				pc_diag_hint(d, "a profile holds text: only tabs and line ends are "
						"allowed among the control characters");
			return false;
		}
		if (ch >= 0x80) {
			size_t k = pc_utf8_seq((const unsigned char *)s + i, n - i);
			if (!k) {
				problem(r, "profile-encoding", f->label, line, (unsigned)i + 1,
						"invalid UTF-8");
				return false;
			}
			i += k - 1;
		}
	}
	return true;
}

static void read_file(struct reader *r, const char *path, const char *label,
		const struct pc_profile_node *from, int *status);
static void read_text(struct reader *r, struct file_state *f, char *text, size_t len);

/* `dir` of `file` joined with `name` ("" dir: `name` as it is). */
static char *join_dir(const char *file, const char *name)
{
	const char *slash = strrchr(file, '/');

	if (name[0] == '/' || !slash)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - file), file, name);
}

static const char *errno_text(int err)
{
	return err == EFBIG    ? "the file is larger than the limit"
	       : err == EINVAL ? "not a regular file"
			       : strerror(err);
}

/* `include FILE` at `line`: read in place. */
static void do_include(struct reader *r, struct file_state *f, const char *name, unsigned line,
		unsigned col)
{
	struct pc_profile_node at = {.file = f->label, .line = line, .col = col};

	if (!f->path) {
		struct pc_diag *d = problem(r, "profile-include", f->label, line, col,
				"include '%s' is not followed here: this profile is not read "
				"from a file",
				name);
		pc_diag_hint(d, "give the file itself");
		return;
	}
	char *path = join_dir(f->path, name);
	char *label = join_dir(f->label, name);
	read_file(r, path, label, &at, NULL);
	free(path);
	free(label);
}

/* MIT's filter for includedir: letters, digits, '-', '_' only, or a name ending in ".conf". */
static bool dir_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > 5 && !strcmp(s + n - 5, ".conf"))
		return true;
	if (!n)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				    c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void do_includedir(struct reader *r, struct file_state *f, const char *name, unsigned line,
		unsigned col)
{
	if (!f->path) {
		problem(r, "profile-include", f->label, line, col,
				"includedir '%s' is not followed here: this profile is not read "
				"from a file",
				name);
		return;
	}
	char *dirpath = join_dir(f->path, name);
	char *dirlabel = join_dir(f->label, name);
	DIR *dir = opendir(dirpath);
	char **names = NULL;
	size_t n = 0, listed = 0;

	if (!dir) {
		problem(r, "io", f->label, line, col, "cannot read the directory '%s': %s",
				dirlabel, strerror(errno));
		goto out;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (!dir_name_ok(e->d_name))
			continue;
		if (++listed > PC_PROFILE_MAX_DIR_ENTRIES) {
			struct pc_diag *d = problem(r, "profile-limit", f->label, line, col,
					"the directory '%s' holds more than %d files to include",
					dirlabel, PC_PROFILE_MAX_DIR_ENTRIES);
			pc_diag_hint(d, "none of them is read");
			goto out;
		}
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && !r->stopped; i++) {
		struct pc_profile_node at = {.file = f->label, .line = line, .col = col};
		char *path = xasprintf("%s/%s", dirpath, names[i]);
		char *label = xasprintf("%s/%s", dirlabel, names[i]);
		read_file(r, path, label, &at, NULL);
		free(path);
		free(label);
	}
out:
	if (dir)
		closedir(dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dirpath);
	free(dirlabel);
}

/*
 * A directive first on its line: `include`, `includedir` (anywhere) and
 * `module` (before the first section).  Returns whether the line was one.
 */
static bool directive(struct reader *r, struct file_state *f, char *s, unsigned line)
{
	static const struct {
		const char *word;
		size_t len;
	} words[] = {{"includedir", 10}, {"include", 7}, {"module", 6}};
	size_t k;

	for (k = 0; k < PC_ARRAY_SIZE(words); k++)
		if (!strncmp(s, words[k].word, words[k].len) && is_blank(s[words[k].len]))
			break;
	if (k == PC_ARRAY_SIZE(words) || (k == 2 && f->st != ST_INIT))
		return false;
	char *arg = s + words[k].len;
	while (is_blank(*arg))
		arg++;
	arg[trimmed(arg, strlen(arg))] = '\0';
	unsigned col = (unsigned)(arg - s) + 1;
	if (!*arg) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line, col,
				"expected a %s after '%s'", k == 1 ? "directory" : "file name",
				words[k].word);
		pc_diag_hint(d, "e.g. `%s %s`", words[k].word,
				k == 0	 ? "/etc/krb5.conf.d/"
				: k == 1 ? "/etc/krb5kdc/realms.conf"
					 : "mod:/usr/lib/mod.so");
		return true;
	}
	if (k == 2) {
		struct pc_profile_node *m = node_new(r->p, f, "module", 6, line, 1);
		m->value = pc_arena_strndup(&r->p->arena, arg, strlen(arg));
		m->vline = line;
		m->vcol = col;
		struct pc_profile_node **tail = &r->p->modules;
		while (*tail)
			tail = &(*tail)->next;
		*tail = m;
	} else if (k == 1) {
		do_include(r, f, arg, line, col);
	} else {
		do_includedir(r, f, arg, line, col);
	}
	return true;
}

static void close_open(struct reader *r, struct file_state *f, const char *why, unsigned line)
{
	for (struct pc_profile_node *g = f->group; g && g->parent; g = g->parent) {
		struct pc_diag *d = problem(r, "profile-syntax", g->file, g->line, g->col,
				"the subsection '%s' is never closed", g->name);
		if (line)
			pc_diag_hint(d, "close it with '}' before %s at line %u", why, line);
		else
			pc_diag_hint(d, "close it with '}' before %s", why);
	}
	f->group = f->section;
	f->level = 0;
	f->pending = NULL;
}

static void section_line(
		struct reader *r, struct file_state *f, char *s, unsigned line, unsigned col)
{
	char *close = strchr(s + 1, ']');

	if (f->level || f->pending)
		close_open(r, f, "the next section", line);
	if (!close) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line, col,
				"expected ']' to end the section name");
		pc_diag_hint(d, "a section is written [name], e.g. [realms]");
		return;
	}
	char *name = s + 1;
	while (is_blank(*name))
		name++;
	size_t n = trimmed(name, (size_t)(close - name));
	bool final = close[1] == '*';
	char *after = close + 1 + final;
	while (is_blank(*after))
		after++;
	if (!n) {
		struct pc_diag *d = problem(
				r, "profile-syntax", f->label, line, col, "empty section name");
		pc_diag_hint(d, "a section is written [name], e.g. [realms]");
		return;
	}
	if (*after) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
				col + (unsigned)(after - s),
				"unexpected text after the section name");
		pc_diag_hint(d, "only '*' (final) may follow ']'");
		return;
	}
	struct pc_profile_node *sec = node_new(r->p, f, name, n, line, col);
	sec->final = final;
	if (r->p->last)
		r->p->last->next = sec;
	else
		r->p->first = sec;
	r->p->last = sec;
	f->section = f->group = sec;
	f->st = ST_STD;
}

static void close_line(struct reader *r, struct file_state *f, char *s, unsigned line, unsigned col)
{
	bool final = s[1] == '*';

	if (!f->level) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line, col,
				"'}' closes no subsection");
		pc_diag_hint(d, "a subsection opens with `tag = {`");
		return;
	}
	if (!rest_blank(s + 1 + final)) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
				col + 1 + (unsigned) final, "unexpected text after '}'");
		pc_diag_hint(d, "only '*' (final) may follow '}'");
	}
	f->group->final = final;
	f->group = f->group->parent;
	f->level--;
}

/* A quoted value from `q` (after its '"'), unescaped in place; NULL after an error. */
static char *quoted(struct reader *r, struct file_state *f, char *q, unsigned line, unsigned col)
{
	char *w = q, *s = q;

	for (;; s++) {
		if (*s == '\0') {
			struct pc_diag *d = problem(r, "profile-syntax", f->label, line, col,
					"unterminated quoted value");
			pc_diag_hint(d, "end it with '\"' on the same line");
			return NULL;
		}
		if (*s == '"')
			break;
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'b':
			*w++ = '\b';
			break;
		case '\\':
		case '"':
			*w++ = *s;
			break;
		default: {
			struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
					col + (unsigned)(s - q),
					"unknown escape in a quoted value");
			pc_diag_hint(d, "the escapes are \\n \\t \\b \\\\ and \\\"");
			return NULL;
		}
		}
	}
	char *after = s + 1;
	while (is_blank(*after))
		after++;
	if (*after) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
				col + 1 + (unsigned)(after - q),
				"unexpected text after the quoted value");
		pc_diag_hint(d, "a comment must be on a line of its own");
		return NULL;
	}
	*w = '\0';
	return q;
}

static void open_group(struct reader *r, struct file_state *f, struct pc_profile_node *sub,
		unsigned line, unsigned col)
{
	sub->vline = line;
	sub->vcol = col;
	if (f->level >= PC_PROFILE_MAX_NESTING) {
		struct pc_diag *d = problem(r, "profile-limit", f->label, line, col,
				"subsections nested deeper than %d", PC_PROFILE_MAX_NESTING);
		pc_diag_hint(d, "the rest of the file is skipped");
		r->stopped = true;
		return;
	}
	node_append(f->group, sub);
	f->group = sub;
	f->level++;
}

static void relation_line(struct reader *r, struct file_state *f, char *s, unsigned line,
		unsigned col, char *linestart)
{
	char *t = s;

	while (*t && !is_blank(*t) && *t != '=')
		t++;
	size_t tn = (size_t)(t - s);
	char *eq = t;
	while (is_blank(*eq))
		eq++;
	if (!tn || *eq != '=') {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
				tn ? (unsigned)(eq - linestart) + 1 : col,
				tn ? "expected '=' after '%.*s'" : "expected a tag before '='",
				(int)tn, s);
		pc_diag_hint(d, "a relation is `tag = value`, a subsection `tag = {`; "
				"comments start with '#' or ';'; `include FILE` starts its line");
		return;
	}
	bool final = tn > 1 && s[tn - 1] == '*';
	if (final)
		tn--;
	char *v = eq + 1;
	while (is_blank(*v))
		v++;
	unsigned vcol = (unsigned)(v - linestart) + 1;
	struct pc_profile_node *n = node_new(r->p, f, s, tn, line, col);
	n->final = final;
	if (*v == '\0') {
		f->pending = n;
		f->st = ST_OBRACE;
		return;
	}
	if (*v == '{' && rest_blank(v + 1)) {
		open_group(r, f, n, line, vcol);
		return;
	}
	char *val;
	if (*v == '"') {
		val = quoted(r, f, v + 1, line, vcol);
		if (!val)
			return;
	} else {
		val = v;
		val[trimmed(val, strlen(val))] = '\0';
	}
	n->value = pc_arena_strndup(&r->p->arena, val, strlen(val));
	n->vline = line;
	n->vcol = vcol;
	node_append(f->group, n);
}

static void parse_line(struct reader *r, struct file_state *f, char *s, size_t n, unsigned line)
{
	char *c = s;

	while (is_blank(*c))
		c++;
	if (*c == '\0' || *c == '#' || *c == ';')
		return;
	if (!line_bytes_ok(r, f, s, n, line))
		return;
	if (directive(r, f, s, line))
		return;
	unsigned col = (unsigned)(c - s) + 1;
	switch (f->st) {
	case ST_INIT:
		if (*c != '[')
			return;
		section_line(r, f, c, line, col);
		return;
	case ST_OBRACE:
		f->st = ST_STD;
		if (*c == '{' && rest_blank(c + 1)) {
			struct pc_profile_node *sub = f->pending;
			f->pending = NULL;
			open_group(r, f, sub, line, col);
			return;
		} else {
			struct pc_profile_node *p = f->pending;
			struct pc_diag *d = problem(r, "profile-syntax", f->label, line, col,
					"expected '{' to open the subsection '%s' (line %u)",
					p->name, p->line);
			pc_diag_hint(d,
					"`%s =` with nothing after it opens a subsection: '{' "
					"follows, alone on its line",
					p->name);
			f->pending = NULL;
		}
		break;
	case ST_STD:
		break;
	}
	if (*c == '[')
		section_line(r, f, c, line, col);
	else if (*c == '}')
		close_line(r, f, c, line, col);
	else
		relation_line(r, f, c, line, col, s);
}

/* `text` holds `len` bytes and a NUL after them; lines are cut in place. */
static void read_text(struct reader *r, struct file_state *f, char *text, size_t len)
{
	unsigned line = 1;
	size_t pos = 0;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len && !r->stopped) {
		char *lf = memchr(text + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - text) : len;
		size_t n = end - pos;
		char *s = text + pos;

		if (n && s[n - 1] == '\r')
			n--;
		char *nul = memchr(s, '\0', n);
		if (nul) {
			struct pc_diag *d = problem(r, "profile-syntax", f->label, line,
					(unsigned)(nul - s) + 1, "NUL byte");
			pc_diag_hint(d, "a profile is text: the line is skipped");
		} else if (n > PC_PROFILE_MAX_LINE) {
			struct pc_diag *d = problem(r, "profile-limit", f->label, line,
					PC_PROFILE_MAX_LINE + 1, "line longer than %d bytes",
					PC_PROFILE_MAX_LINE);
			pc_diag_hint(d, "the line is skipped");
		} else {
			s[n] = '\0';
			parse_line(r, f, s, n, line);
		}
		pos = end + 1;
		line++;
	}
	if (r->stopped)
		return;
	if (f->pending) {
		struct pc_diag *d = problem(r, "profile-syntax", f->label, line, 1,
				"expected '{' to open the subsection '%s' (line %u), found the end "
				"of the file",
				f->pending->name, f->pending->line);
		pc_diag_hint(d, "add '{' after '%s =' and close it with '}'", f->pending->name);
	}
	if (f->level)
		close_open(r, f, "the end of the file", 0);
}

static const char *keep_label(struct reader *r, const char *label, const char *text, size_t len)
{
	const char *l = pc_arena_strndup(&r->p->arena, label, strlen(label));

	pc_sha256_update(&r->p->digest, l, strlen(l) + 1);
	pc_sha256_update(&r->p->digest, text, len);
	pc_sha256_update(&r->p->digest, "", 1);

	if (r->p->nfiles < PC_PROFILE_MAX_FILES)
		r->p->files[r->p->nfiles++] = l;
	return l;
}

/* Whether a file name can be printed as it is (it lands in provenance). */
static bool name_safe(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		bool unsafe = false;
		i += pc_text_char((const unsigned char *)s + i, n - i, &unsafe);
		if (unsafe)
			return false;
	}
	return true;
}

/*
 * Reads one file: the profile itself (`from` NULL; *status gets
 * PC_LOAD_UNREADABLE when it cannot be read) or an include named at `from`.
 */
static void read_file(struct reader *r, const char *path, const char *label,
		const struct pc_profile_node *from, int *status)
{
	const char *at_file = from ? from->file : label;
	unsigned at_line = from ? from->line : 0, at_col = from ? from->col : 0;
	struct stat st;
	struct pc_buf text;

	memset(&st, 0, sizeof(st));
	if (r->stopped)
		return;
	if (!name_safe(label)) {
		struct pc_diag *d = problem(r, "profile-include", at_file, at_line, at_col,
				"the file name '%s' holds a control, invisible or invalid character",
				label);
		pc_diag_hint(d, "it would be printed where its file and line are cited: rename "
				"the file");
		if (!from && status)
			*status = PC_LOAD_INVALID;
		return;
	}
	if (r->depth > PC_PROFILE_MAX_INCLUDE_DEPTH) {
		struct pc_diag *d = problem(r, "profile-include", at_file, at_line, at_col,
				"includes nested deeper than %d", PC_PROFILE_MAX_INCLUDE_DEPTH);
		pc_diag_hint(d, "'%s' is not read", label);
		return;
	}
	if (r->p->nfiles >= PC_PROFILE_MAX_FILES) {
		struct pc_diag *d = problem(r, "profile-limit", at_file, at_line, at_col,
				"more than %d files in one profile", PC_PROFILE_MAX_FILES);
		pc_diag_hint(d, "'%s' is not read", label);
		return;
	}
	if (stat(path, &st) == 0) {
		for (unsigned i = 0; i < r->depth; i++) {
			if (r->stack[i].dev == st.st_dev && r->stack[i].ino == st.st_ino) {
				struct pc_diag *d = problem(r, "profile-include", at_file, at_line,
						at_col, "include cycle: '%s' is already being read",
						label);
				pc_diag_hint(d, "'%s' includes it, directly or through other files",
						r->stack[i].label);
				return;
			}
		}
	}
	if (pc_read_file(path, PC_PROFILE_MAX_BYTES, &text) < 0) {
		int err = errno;
		if (!from) {
			pc_diag_add(r->diags, PC_SEV_ERROR, "io", label, 0, 0,
					"cannot read the profile: %s", errno_text(err));
			r->nerr++;
			if (status)
				*status = PC_LOAD_UNREADABLE;
		} else {
			problem(r, "io", at_file, at_line, at_col,
					"cannot read the included file '%s': %s", label,
					errno_text(err));
		}
		return;
	}
	if (text.len > PC_PROFILE_MAX_TOTAL - r->p->total) {
		struct pc_diag *d = problem(r, "profile-limit", at_file, at_line, at_col,
				"the profile and its includes are larger than %u bytes together",
				PC_PROFILE_MAX_TOTAL);
		pc_diag_hint(d, "'%s' is not read", label);
		pc_buf_finish(&text);
		return;
	}
	r->p->total += text.len;
	struct file_state f = {.label = keep_label(r, label, text.data, text.len), .path = path};
	r->stack[r->depth++] = (struct open_file){st.st_dev, st.st_ino, f.label};
	read_text(r, &f, text.data, text.len);
	r->depth--;
	pc_buf_finish(&text);
}

void pc_profile_init(struct pc_profile *p)
{
	memset(p, 0, sizeof(*p));
	pc_arena_init(&p->arena);
	pc_sha256_init(&p->digest);
}

void pc_profile_finish(struct pc_profile *p)
{
	pc_arena_finish(&p->arena);
	memset(p, 0, sizeof(*p));
}

int pc_profile_load(
		struct pc_profile *p, const char *path, const char *label, struct pc_diags *diags)
{
	struct reader r = {.p = p, .diags = diags};
	int status = PC_LOAD_OK;

	read_file(&r, path, label ? label : path, NULL, &status);
	if (status != PC_LOAD_OK)
		return status;
	return r.nerr ? PC_LOAD_INVALID : PC_LOAD_OK;
}

int pc_profile_load_mem(struct pc_profile *p, const char *label, const char *data, size_t len,
		struct pc_diags *diags)
{
	struct reader r = {.p = p, .diags = diags};
	struct file_state f = {.label = keep_label(&r, label, data, len)};

	if (len > PC_PROFILE_MAX_BYTES) {
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "profile-limit", label, 0, 0,
				"the profile is larger than %u bytes", PC_PROFILE_MAX_BYTES);
		pc_diag_hint(d, "nothing of it is read");
		return PC_LOAD_INVALID;
	}
	char *text = xmalloc(len + 1);
	memcpy(text, data, len);
	text[len] = '\0';
	p->total += len;
	read_text(&r, &f, text, len);
	free(text);
	return r.nerr ? PC_LOAD_INVALID : PC_LOAD_OK;
}

static size_t find_in(const struct pc_profile_node *first, const char *const *path, size_t depth,
		const struct pc_profile_node **out, size_t max, size_t found)
{
	for (const struct pc_profile_node *n = first; n; n = n->next) {
		if (strcmp(n->name, path[0]))
			continue;
		if (depth == 1) {
			if (found < max)
				out[found] = n;
			found++;
		} else if (!n->value) {
			found = find_in(n->first, path + 1, depth - 1, out, max, found);
		}
	}
	return found;
}

size_t pc_profile_find(const struct pc_profile *p, const char *const *path, size_t depth,
		const struct pc_profile_node **out, size_t max)
{
	return depth ? find_in(p->first, path, depth, out, max, 0) : 0;
}
