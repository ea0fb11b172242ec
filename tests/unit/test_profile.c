/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The krb5 profile parser (kdc.conf, krb5.conf): each construct and hostile inputs. */
#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portcullis/profile.h"

static int load_mem(struct pc_profile *p, struct pc_diags *d, const char *text, size_t len)
{
	pc_profile_init(p);
	pc_diags_init(d);
	return pc_profile_load_mem(p, "kdc.conf", text, len, d);
}

static int load_str(struct pc_profile *p, struct pc_diags *d, const char *text)
{
	return load_mem(p, d, text, strlen(text));
}

static void done(struct pc_profile *p, struct pc_diags *d)
{
	pc_profile_finish(p);
	pc_diags_finish(d);
}

/* The one node at `path` (a NULL-terminated list). */
static const struct pc_profile_node *one(const struct pc_profile *p, const char *const *path)
{
	const struct pc_profile_node *n[4];
	size_t depth = 0;

	while (path[depth])
		depth++;
	assert_int_equal(pc_profile_find(p, path, depth, n, 4), 1);
	return n[0];
}

#define PATH(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_sections_relations(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	assert_int_equal(load_str(&p, &d,
					 "this line comes before any section\n"
					 "kdc_ports = 1\n"
					 "[kdcdefaults]\n"
					 "    kdc_ports = 88, 750  \n"
					 "\t# a comment\n"
					 "  ; another\n"
					 "kdc_tcp_ports=88\n"
					 "\n"
					 "[ realms ]*\n"
					 " EXAMPLE.ORG = {\n"
					 "   kdc_listen = 192.0.2.10:8888\n"
					 "   kdc_listen = [2001:db8::10]:8888\n"
					 "   sub = {\n"
					 "     x = # not a comment\n"
					 "   }*\n"
					 " }\n"),
			PC_LOAD_OK);
	assert_int_equal(d.n, 0);
	const struct pc_profile_node *n = one(&p, PATH("kdcdefaults", "kdc_ports"));
	assert_string_equal(n->value, "88, 750");
	assert_string_equal(n->file, "kdc.conf");
	assert_int_equal(n->line, 4);
	assert_int_equal(n->col, 5);
	assert_int_equal(n->vline, 4);
	assert_int_equal(n->vcol, 17);
	n = one(&p, PATH("kdcdefaults", "kdc_tcp_ports"));
	assert_string_equal(n->value, "88");
	assert_int_equal(n->vcol, 15);

	const struct pc_profile_node *v[4];
	assert_int_equal(pc_profile_find(&p, PATH("realms", "EXAMPLE.ORG", "kdc_listen"), 3, v, 4),
			2);
	assert_string_equal(v[0]->value, "192.0.2.10:8888");
	assert_string_equal(v[1]->value, "[2001:db8::10]:8888");
	assert_int_equal(v[1]->line, 12);
	n = one(&p, PATH("realms"));
	assert_true(n->final);
	assert_string_equal(n->name, "realms");
	n = one(&p, PATH("realms", "EXAMPLE.ORG", "sub"));
	assert_true(n->final);
	assert_null(n->value);
	assert_int_equal(n->vcol, 10);
	n = one(&p, PATH("realms", "EXAMPLE.ORG", "sub", "x"));
	assert_string_equal(n->value, "# not a comment");
	assert_false(one(&p, PATH("realms", "EXAMPLE.ORG"))->final);
	done(&p, &d);
}

static void test_brace_next_line_and_repeats(void **state)
{
	struct pc_profile p;
	struct pc_diags d;
	const struct pc_profile_node *v[4];

	(void)state;
	assert_int_equal(load_str(&p, &d,
					 "[realms]\n"
					 "A.ORG =\n"
					 "\n"
					 "  # comment between\n"
					 "    {\n"
					 "  kdc_ports = 1\n"
					 "}\n"
					 "[kdcdefaults]\n"
					 "x = 1\n"
					 "[realms]\n"
					 "A.ORG = {\n"
					 "  kdc_ports = 2\n"
					 "}\n"),
			PC_LOAD_OK);
	assert_int_equal(d.n, 0);
	/* Repeated sections and subsections add to each other, in file order. */
	assert_int_equal(pc_profile_find(&p, PATH("realms", "A.ORG", "kdc_ports"), 3, v, 4), 2);
	assert_string_equal(v[0]->value, "1");
	assert_string_equal(v[1]->value, "2");
	assert_int_equal(pc_profile_find(&p, PATH("realms", "A.ORG"), 2, v, 4), 2);
	assert_int_equal(v[0]->vline, 5);
	assert_int_equal(v[0]->vcol, 5);
	done(&p, &d);
}

static void test_quoted_values(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	assert_int_equal(load_str(&p, &d,
					 "[s]\n"
					 "a = \"x\\ty\\n\\b\\\\\\\"z\"  \n"
					 "b = \"\"\n"
					 "c = \"  spaced # kept \"\n"),
			PC_LOAD_OK);
	assert_string_equal(one(&p, PATH("s", "a"))->value, "x\ty\n\b\\\"z");
	assert_int_equal(one(&p, PATH("s", "a"))->vcol, 5);
	assert_string_equal(one(&p, PATH("s", "b"))->value, "");
	assert_string_equal(one(&p, PATH("s", "c"))->value, "  spaced # kept ");
	done(&p, &d);

	assert_int_equal(load_str(&p, &d, "[s]\na = \"open\n"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-syntax", 2, 5);
	assert_non_null(strstr(d.v[0].msg, "unterminated"));
	done(&p, &d);
	assert_int_equal(load_str(&p, &d, "[s]\na = \"x\\q\"\n"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-syntax", 2, 7);
	assert_non_null(strstr(d.v[0].msg, "escape"));
	done(&p, &d);
	assert_int_equal(load_str(&p, &d, "[s]\na = \"x\" y\n"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-syntax", 2, 9);
	done(&p, &d);
}

static void test_modules_and_directives(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	assert_int_equal(load_str(&p, &d,
					 "module mod:/usr/lib/x.so\n"
					 "[s]\n"
					 "module = y\n"),
			PC_LOAD_OK);
	assert_non_null(p.modules);
	assert_string_equal(p.modules->value, "mod:/usr/lib/x.so");
	assert_int_equal(p.modules->vcol, 8);
	assert_null(p.modules->next);
	assert_string_equal(one(&p, PATH("s", "module"))->value, "y");
	done(&p, &d);

	/* From memory nothing is read from the file system. */
	assert_int_equal(load_str(&p, &d, "[s]\ninclude /etc/passwd\nincludedir /etc\n"),
			PC_LOAD_INVALID);
	assert_int_equal(count_diag(&d, "profile-include"), 2);
	assert_diag_at(&d, "profile-include", 2, 9);
	done(&p, &d);
}

static void test_syntax_errors(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	assert_int_equal(load_str(&p, &d,
					 "[s]\n"
					 "novalue\n" /* 2 */
					 "= x\n" /* 3 */
					 "}\n" /* 4 */
					 "[open\n" /* 5 */
					 "[s] x\n" /* 6 */
					 "[]\n" /* 7 */
					 "[t]\n"
					 "a = {\n" /* 9 */
					 "[u]\n" /* 10 */
					 "b =\n" /* 11 */
					 "c = 1\n" /* 12 */
					 "d = {\n" /* 13 */
					 "} x\n" /* 14 */
					 "e = {\n"), /* 15 */
			PC_LOAD_INVALID);
	size_t want_lines[] = {2, 3, 4, 5, 6, 7, 9, 12, 14, 15};
	assert_int_equal(d.n, PC_ARRAY_SIZE(want_lines));
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].code, "profile-syntax");
		assert_int_equal(d.v[i].line, want_lines[i]);
		assert_non_null(d.v[i].hint);
	}
	assert_int_equal(d.v[0].col, 8);
	assert_non_null(strstr(d.v[0].msg, "expected '='"));
	assert_non_null(strstr(d.v[6].msg, "never closed"));
	assert_non_null(strstr(d.v[7].msg, "expected '{'"));
	/* The good lines around the bad ones are kept. */
	assert_string_equal(one(&p, PATH("u", "c"))->value, "1");
	done(&p, &d);
}

static void test_hostile_bytes(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	/* CRLF is a line end; the same as LF. */
	assert_int_equal(load_str(&p, &d, "\xef\xbb\xbf[s]\r\na = 1\r\nb = \"q\"\r\n"), PC_LOAD_OK);
	assert_string_equal(one(&p, PATH("s", "a"))->value, "1");
	assert_string_equal(one(&p, PATH("s", "b"))->value, "q");
	done(&p, &d);

	/* A NUL byte is an error at its column; the rest of the line is not read. */
	static const char nul[] = "[s]\na = 8\0008\nb = 2\n";
	assert_int_equal(load_mem(&p, &d, nul, sizeof(nul) - 1), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-syntax", 2, 6);
	assert_non_null(strstr(d.v[0].msg, "NUL"));
	const struct pc_profile_node *v[2];
	assert_int_equal(pc_profile_find(&p, PATH("s", "a"), 2, v, 2), 0);
	assert_string_equal(one(&p, PATH("s", "b"))->value, "2");
	done(&p, &d);

	assert_int_equal(load_str(&p, &d, "[s]\na = 1\rb = 2\nc = \x1b[31m\nd = \xc3\x28\n"),
			PC_LOAD_INVALID);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].col, 6);
	assert_non_null(d.v[0].hint);
	assert_int_equal(d.v[1].line, 3);
	assert_string_equal(d.v[2].code, "profile-encoding");
	done(&p, &d);

	/* Invalid UTF-8 in a comment is the comment's business. */
	assert_int_equal(load_str(&p, &d, "# caf\xe9\n[s]\n"), PC_LOAD_OK);
	done(&p, &d);
}

static void test_limits(void **state)
{
	struct pc_profile p;
	struct pc_diags d;
	struct pc_buf b;

	(void)state;
	/* A huge line. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "[s]\na = ");
	for (int i = 0; i < PC_PROFILE_MAX_LINE; i++)
		pc_buf_add(&b, "x", 1);
	pc_buf_adds(&b, "\nb = 1\n");
	assert_int_equal(load_mem(&p, &d, b.data, b.len), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-limit", 2, PC_PROFILE_MAX_LINE + 1);
	assert_string_equal(one(&p, PATH("s", "b"))->value, "1");
	done(&p, &d);
	pc_buf_finish(&b);

	/* Deep nesting stops at the limit, without recursion. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "[s]\n");
	for (int i = 0; i < 100000; i++)
		pc_buf_adds(&b, "a = {\n");
	assert_int_equal(load_mem(&p, &d, b.data, b.len), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-limit", PC_PROFILE_MAX_NESTING + 2, 5);
	assert_int_equal(d.n, 1);
	done(&p, &d);
	pc_buf_finish(&b);

	/* Many errors: reading stops after PC_PROFILE_MAX_ERRORS. */
	pc_buf_init(&b);
	pc_buf_adds(&b, "[s]\n");
	for (int i = 0; i < 1000; i++)
		pc_buf_adds(&b, "bad\n");
	assert_int_equal(load_mem(&p, &d, b.data, b.len), PC_LOAD_INVALID);
	assert_int_equal(d.n, PC_PROFILE_MAX_ERRORS + 1);
	assert_string_equal(d.v[PC_PROFILE_MAX_ERRORS].code, "profile-limit");
	done(&p, &d);

	/* Too large. */
	pc_buf_reserve(&b, PC_PROFILE_MAX_BYTES);
	while (b.len <= PC_PROFILE_MAX_BYTES)
		pc_buf_adds(&b, "# padding padding padding padding\n");
	assert_int_equal(load_mem(&p, &d, b.data, b.len), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-limit", 0, 0);
	done(&p, &d);
	pc_buf_finish(&b);
}

/* ---- files ---------------------------------------------------------------- */

static char tmpdir[] = "/tmp/pc-profile-XXXXXX";

static void put(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static int load_file(struct pc_profile *p, struct pc_diags *d, const char *name)
{
	char *path = xasprintf("%s/%s", tmpdir, name);

	pc_profile_init(p);
	pc_diags_init(d);
	int ret = pc_profile_load(p, path, name, d);
	free(path);
	return ret;
}

static int setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_dir(void **state)
{
	(void)state;
	return nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_in(const char *name)
{
	char *path = xasprintf("%s/%s", tmpdir, name);

	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	free(path);
}

static void test_include(void **state)
{
	struct pc_profile p;
	struct pc_diags d;
	const struct pc_profile_node *v[4];

	(void)state;
	mkdir_in("inc");
	put("inc/realms.conf",
			"ignored before a section\n[realms]\nB.ORG = {\n kdc_ports = 9\n}\n");
	put("main.conf", "[kdcdefaults]\nkdc_ports = 88\ninclude inc/realms.conf\nkdc_tcp_ports = "
			 "88\n");
	assert_int_equal(load_file(&p, &d, "main.conf"), PC_LOAD_OK);
	assert_int_equal(d.n, 0);
	const struct pc_profile_node *n = one(&p, PATH("realms", "B.ORG", "kdc_ports"));
	assert_string_equal(n->file, "inc/realms.conf");
	assert_int_equal(n->line, 4);
	/* After the include, its file goes on in its own section. */
	assert_string_equal(one(&p, PATH("kdcdefaults", "kdc_tcp_ports"))->file, "main.conf");
	assert_int_equal(p.nfiles, 2);
	done(&p, &d);

	/* includedir: MIT's name filter, in byte order of the names. */
	mkdir_in("d");
	put("d/b.conf", "[s]\nx = b\n");
	put("d/a-1_Z", "[s]\nx = a\n");
	put("d/skipped.txt", "[s]\nx = txt\n");
	put("d/.hidden", "[s]\nx = hidden\n");
	put("d/back~", "[s]\nx = backup\n");
	put("d/c.conf.dpkg-old", "[s]\nx = old\n");
	put("dir.conf", "includedir d\n");
	assert_int_equal(load_file(&p, &d, "dir.conf"), PC_LOAD_OK);
	assert_int_equal(pc_profile_find(&p, PATH("s", "x"), 2, v, 4), 2);
	assert_string_equal(v[0]->value, "a");
	assert_string_equal(v[0]->file, "d/a-1_Z");
	assert_string_equal(v[1]->value, "b");
	done(&p, &d);

	/* A directory in the include directory that passes the filter is an error of the line. */
	mkdir_in("d/sub.conf");
	assert_int_equal(load_file(&p, &d, "dir.conf"), PC_LOAD_INVALID);
	assert_diag_at(&d, "io", 1, 12);
	assert_non_null(strstr(d.v[0].msg, "d/sub.conf"));
	done(&p, &d);
}

static void test_include_hostile(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	/* A cycle, direct and through another file. */
	put("self.conf", "[s]\na = 1\ninclude self.conf\n");
	assert_int_equal(load_file(&p, &d, "self.conf"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-include", 3, 9);
	assert_non_null(strstr(d.v[0].msg, "cycle"));
	assert_int_equal(d.n, 1);
	done(&p, &d);
	put("x.conf", "include y.conf\n");
	put("y.conf", "[s]\ninclude x.conf\n");
	assert_int_equal(load_file(&p, &d, "x.conf"), PC_LOAD_INVALID);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "y.conf");
	assert_int_equal(d.v[0].line, 2);
	done(&p, &d);

	/* Through a symbolic link: the same file. */
	char *link = xasprintf("%s/link.conf", tmpdir);
	assert_int_equal(symlink("loop.conf", link), 0);
	put("loop.conf", "include link.conf\n");
	assert_int_equal(load_file(&p, &d, "loop.conf"), PC_LOAD_INVALID);
	assert_int_equal(count_diag(&d, "profile-include"), 1);
	done(&p, &d);
	free(link);

	/* A chain deeper than the limit (no cycle). */
	for (int i = 0; i <= PC_PROFILE_MAX_INCLUDE_DEPTH + 1; i++) {
		char name[32], text[64];
		snprintf(name, sizeof(name), "chain%d.conf", i);
		snprintf(text, sizeof(text), "include chain%d.conf\n", i + 1);
		put(name, text);
	}
	assert_int_equal(load_file(&p, &d, "chain0.conf"), PC_LOAD_INVALID);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].code, "profile-include");
	assert_non_null(strstr(d.v[0].msg, "deeper"));
	done(&p, &d);

	/* Missing, a directory, unreadable, a dangling link. */
	mkdir_in("adir");
	put("bad.conf", "[s]\ninclude missing.conf\ninclude adir\nincludedir nodir\n"
			"include dangling.conf\n");
	char *dangling = xasprintf("%s/dangling.conf", tmpdir);
	assert_int_equal(symlink("nowhere", dangling), 0);
	free(dangling);
	assert_int_equal(load_file(&p, &d, "bad.conf"), PC_LOAD_INVALID);
	assert_int_equal(count_diag(&d, "io"), 4);
	for (size_t i = 0; i < d.n; i++)
		assert_int_equal(d.v[i].line, i + 2);
	assert_non_null(strstr(d.v[1].msg, "directory"));
	done(&p, &d);
	/* A file name that would carry an escape sequence into provenance. */
	mkdir_in("odd");
	put("odd/\x1b[2J.conf", "[s]\nx = 1\n");
	put("odd.conf", "includedir odd\n");
	assert_int_equal(load_file(&p, &d, "odd.conf"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-include", 1, 12);
	done(&p, &d);

	/* The profile itself: unreadable, not invalid. */
	assert_int_equal(load_file(&p, &d, "none.conf"), PC_LOAD_UNREADABLE);
	assert_diag_at(&d, "io", 0, 0);
	done(&p, &d);
	assert_int_equal(load_file(&p, &d, "adir"), PC_LOAD_UNREADABLE);
	done(&p, &d);

	/* More files than the limit: an includedir of many small files. */
	mkdir_in("many");
	for (int i = 0; i < PC_PROFILE_MAX_FILES + 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "many/f%03d", i);
		put(name, "[s]\n");
	}
	put("many.conf", "includedir many\n");
	assert_int_equal(load_file(&p, &d, "many.conf"), PC_LOAD_INVALID);
	assert_diag_at(&d, "profile-limit", 1, 12);
	assert_int_equal(p.nfiles, PC_PROFILE_MAX_FILES);
	done(&p, &d);
}

/* An include nobody may read: root reads it anyway, so this cannot be tested as root. */
static void test_include_unreadable(void **state)
{
	struct pc_profile p;
	struct pc_diags d;

	(void)state;
	if (geteuid() == 0)
		skip();
	put("secret.conf", "[s]\n");
	char *path = xasprintf("%s/secret.conf", tmpdir);
	assert_int_equal(chmod(path, 0), 0);
	free(path);
	put("reads-secret.conf", "include secret.conf\n");
	assert_int_equal(load_file(&p, &d, "reads-secret.conf"), PC_LOAD_INVALID);
	assert_diag_at(&d, "io", 1, 9);
	done(&p, &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_sections_relations),
			cmocka_unit_test(test_brace_next_line_and_repeats),
			cmocka_unit_test(test_quoted_values),
			cmocka_unit_test(test_modules_and_directives),
			cmocka_unit_test(test_syntax_errors),
			cmocka_unit_test(test_hostile_bytes),
			cmocka_unit_test(test_limits),
			cmocka_unit_test(test_include),
			cmocka_unit_test(test_include_hostile),
			cmocka_unit_test(test_include_unreadable),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
